package server

import (
	"errors"
	"net/http"

	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/imports"
)

// needsConfirm reports whether an import stopped to ask before replacing
// an extract with many times more rows.
func needsConfirm(err error) bool {
	var re *imports.ReplaceError
	return errors.As(err, &re)
}

// handleImportConfirm runs an import again, confirmed, after it stopped
// because the new extract is much smaller than the one it replaces. The
// file was kept for this; the user's first choices (mapping, header) stand.
func (s *Server) handleImportConfirm(w http.ResponseWriter, r *http.Request) {
	up, err := s.uploadOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.uploads.mu.Lock()
	waiting := up.done != nil && isClosed(up.done) && needsConfirm(up.err)
	if waiting {
		up.done, up.err = nil, nil
	}
	s.uploads.mu.Unlock()
	if !waiting {
		s.error(w, r, apperr.Conflictf("该导入无需确认或已在进行"))
		return
	}
	req := up.req
	req.Force = true
	req.IP = clientIP(r)
	s.startJob(up, req)
	redirect(w, r, "/imports/jobs/"+up.token)
}
