package server

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/auth"
	"github.com/canbao/canbao/web"
)

func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := currentUser(r); ok {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.render(w, r, web.Login(web.LoginView{CSRF: csrfToken(r), Next: safeNext(r.URL.Query().Get("next"))}))
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("username"))
	next := safeNext(r.PostFormValue("next"))
	form := web.LoginView{CSRF: csrfToken(r), Username: clipName(name), Next: next}
	if !s.logins.allow(clientIP(r)) {
		s.audit(r, audit.Entry{Username: clipName(name), Action: audit.LoginFailed, Object: "user:" + clipName(name), Result: "throttled"})
		w.WriteHeader(http.StatusTooManyRequests)
		form.Error = "登录尝试过于频繁，请稍后再试"
		s.render(w, r, web.Login(form))
		return
	}
	u, token, err := s.users.Login(r.Context(), name, r.PostFormValue("password"), clientIP(r), r.UserAgent())
	if err != nil {
		if apperr.KindOf(err) == apperr.Internal {
			s.error(w, r, err)
			return
		}
		s.auditLoginFailure(r, name, u, err)
		w.WriteHeader(http.StatusUnauthorized)
		form.Error = apperr.Message(err)
		s.render(w, r, web.Login(form))
		return
	}
	// Replace any old session so a fixed session ID never survives login.
	if old, ok := r.Context().Value(tokenKey).(string); ok {
		if err := s.users.Logout(r.Context(), old); err != nil {
			s.error(w, r, err)
			return
		}
	}
	s.setSessionCookie(w, token)
	id := u.ID
	s.audit(r, audit.Entry{UserID: &id, Username: u.Username, Region: u.RegionCode, Action: audit.LoginOK, Object: "user:" + u.Username})
	redirect(w, r, next)
}

// auditLoginFailure records a failed login in the region of the account
// it named, so that account's administrators see it (a name without an
// account has no region: such lines are shown to every administrator),
// and records the lock when this failure locked the account.
func (s *Server) auditLoginFailure(r *http.Request, name string, target auth.User, err error) {
	name = clipName(name)
	e := audit.Entry{Username: name, Region: target.RegionCode, Action: audit.LoginFailed, Object: "user:" + name, Result: failReason(err)}
	if target.ID != 0 {
		id := target.ID
		e.UserID = &id
	}
	s.audit(r, e)
	if errors.Is(err, auth.ErrLockedNow) {
		e.Action, e.Result, e.Detail = audit.LoginLocked, "ok", "连续登录失败，锁定15分钟"
		s.audit(r, e)
	}
}

// clipName cuts what was typed as a user name to a length worth keeping.
func clipName(name string) string {
	if r := []rune(name); len(r) > 64 {
		return string(r[:64])
	}
	return name
}

func failReason(err error) string {
	switch {
	case errors.Is(err, auth.ErrLocked):
		return "locked"
	case errors.Is(err, auth.ErrDisabled):
		return "disabled"
	}
	return "bad password"
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if token, ok := r.Context().Value(tokenKey).(string); ok {
		if err := s.users.Logout(r.Context(), token); err != nil {
			s.error(w, r, err)
			return
		}
	}
	s.clearSessionCookie(w)
	s.audit(r, audit.Entry{Action: audit.Logout})
	redirect(w, r, "/login")
}

// safeNext keeps post-login redirects on this site: only a clean path
// (and query) is accepted. Browsers drop tabs and newlines and read a
// backslash as a slash, so "/\t/evil" or "/\\evil" would leave the site;
// anything with a control character, a backslash, a leading "//", or a
// scheme or host once parsed falls back to the home page.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || len(next) > 2048 {
		return "/"
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") ||
		strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

// audit records e with the request's user and address filled in; the
// region is the actor's unless e names another (a security event about an
// account is filed under that account's region, for its administrators).
// A failure to audit is logged loudly but does not fail a request that
// already happened.
func (s *Server) audit(r *http.Request, e audit.Entry) {
	if u, ok := currentUser(r); ok && e.Username == "" {
		id := u.ID
		e.UserID, e.Username = &id, u.Username
		if e.Region == "" {
			e.Region = u.RegionCode
		}
	}
	e.IP = clientIP(r)
	if err := audit.Record(r.Context(), s.db, e); err != nil {
		s.log.Error("audit", "action", e.Action, "err", err)
	}
}

// page builds the frame of a signed-in page.
func (s *Server) page(r *http.Request, title, active string) web.Page {
	u, _ := currentUser(r)
	return web.Page{
		Title: title,
		Flash: r.URL.Query().Get("flash"),
		Nav: web.Nav{
			UserName: u.DisplayName, RoleLabel: u.Role.Label(), RegionName: u.RegionName,
			Can: allowed(currentActor(r)), CSRF: csrfToken(r), Active: active,
		},
	}
}
