package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
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
	if ok, first := s.logins.allow(clientIP(r)); !ok {
		if first {
			if err := s.users.Throttled(r.Context(), name, clientIP(r)); err != nil {
				s.error(w, r, err)
				return
			}
		}
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
		w.WriteHeader(http.StatusUnauthorized)
		form.Error = apperr.Message(err)
		s.render(w, r, web.Login(form))
		return
	}
	// Replace any old session so a fixed session ID never survives login.
	if old, ok := r.Context().Value(tokenKey).(string); ok {
		if err := s.users.Logout(r.Context(), currentActor(r), old, false); err != nil {
			s.error(w, r, err)
			return
		}
	}
	s.setSessionCookie(w, token)
	if next == "/" && u.Role == actor.Leader {
		next = "/dashboard" // leaders land on their dashboard
	}
	redirect(w, r, next)
}

// clipName cuts what was typed as a user name to a length worth keeping.
func clipName(name string) string {
	if r := []rune(name); len(r) > 64 {
		return string(r[:64])
	}
	return name
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if token, ok := r.Context().Value(tokenKey).(string); ok {
		if err := s.users.Logout(r.Context(), currentActor(r), token, true); err != nil {
			s.error(w, r, err)
			return
		}
	}
	s.clearSessionCookie(w)
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
