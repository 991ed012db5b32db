package server

import (
	"errors"
	"net/http"

	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/job"
)

// needsConfirm reports whether an import stopped to ask before replacing
// an extract with many times more rows.
func needsConfirm(err error) bool {
	var re *imports.ReplaceError
	return errors.As(err, &re)
}

// handleImportConfirm imports a stopped upload again, confirmed, after it
// stopped because the new extract is much smaller than the one it replaces.
// The file was kept for this; the user's first choices (mapping, header)
// stand.
func (s *Server) handleImportConfirm(w http.ResponseWriter, r *http.Request) {
	up, err := s.uploadOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	id, err := s.confirmImport(r.Context(), up, currentActor(r))
	if err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, jobURL(id))
}

// confirmURL is where the user confirms job j's import, "" unless it
// stopped to ask them.
func (s *Server) confirmURL(r *http.Request, j job.Job) string {
	if j.Kind != job.KindImport || j.State != job.Failed {
		return ""
	}
	if up, ok := s.uploads.waitingFor(j.ID, currentActor(r).UserID); ok {
		return "/imports/uploads/" + up.token + "/confirm"
	}
	return ""
}
