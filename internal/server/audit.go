package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/web"
)

func (s *Server) routesAudit(r chi.Router) {
	r.With(s.allow(actor.AuditRead)).Get("/audit", s.handleAudit)
}

// China has one time zone; audit times are shown in it whatever the server's.
var cst = time.FixedZone("CST", 8*3600)

func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := audit.Filter{Username: strings.TrimSpace(q.Get("user")), Action: q.Get("action")}
	if t, err := time.ParseInLocation("2006-01-02", q.Get("from"), cst); err == nil {
		f.From = t
	}
	if t, err := time.ParseInLocation("2006-01-02", q.Get("to"), cst); err == nil {
		f.To = t.AddDate(0, 0, 1)
	}
	lq := list.Parse(q, list.Spec{Filters: []string{"user", "action", "from", "to"}})
	page, err := audit.List(r.Context(), s.db, currentActor(r), f, lq)
	if err != nil {
		s.error(w, r, err)
		return
	}
	actions, err := audit.Actions(r.Context(), s.db)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.AuditView{Page: s.page(r, "审计日志", "audit"), Username: f.Username, Action: f.Action,
		From: q.Get("from"), To: q.Get("to"), Pager: web.PagerOf(page.Query, page.Total, "/audit")}
	for _, a := range actions {
		v.Actions = append(v.Actions, web.Option{Value: a, Label: audit.ActionLabel(a)})
	}
	for _, e := range page.Items {
		v.Rows = append(v.Rows, web.AuditRow{At: e.At.In(cst).Format("2006-01-02 15:04:05"), Username: e.Username,
			IP: e.IP, Action: audit.ActionLabel(e.Action), Object: e.Object, Result: e.Result, Detail: e.Detail})
	}
	s.render(w, r, web.Audit(v))
}
