package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/web"
)

// error maps a domain error to a status and a Chinese page; only internal
// errors are logged, once, with the request.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	switch apperr.KindOf(err) {
	case apperr.NotFound:
		status = http.StatusNotFound
	case apperr.Invalid:
		status = http.StatusBadRequest
	case apperr.Conflict:
		status = http.StatusConflict
	case apperr.Forbidden:
		status = http.StatusForbidden
	default:
		if errors.Is(err, context.Canceled) {
			return
		}
		s.log.Error("request failed", "method", r.Method, "path", redactIDs(r.URL.Path), "user", userName(r), "err", err)
	}
	s.renderStatus(w, r, status, apperr.Message(err))
}

func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = web.ErrorPage(web.ErrorView{Status: status, Message: msg}).Render(r.Context(), w) // the status is sent
}
