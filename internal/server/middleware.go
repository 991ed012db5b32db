package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/canbao/canbao/internal/auth"
)

const (
	sessionCookie = "canbao_session"
	csrfCookie    = "canbao_csrf"
)

type ctxKey int

const (
	userKey ctxKey = iota
	csrfKey
	tokenKey
	multipartKey
)

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()")
		// Pages and downloads hold personal data: no browser or proxy keeps
		// a copy (static assets set their own caching after this).
		h.Set("Cache-Control", "no-store")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		start := time.Now()
		info := &logInfo{}
		next.ServeHTTP(ww, r.WithContext(context.WithValue(r.Context(), logInfoKey, info)))
		if r.URL.Path == "/healthz" || strings.HasPrefix(r.URL.Path, "/static/") {
			return
		}
		s.log.Info("http", "method", r.Method, "path", redactIDs(r.URL.Path), "status", ww.Status(),
			"ms", time.Since(start).Milliseconds(), "ip", clientIP(r), "user", info.user)
	})
}

// csrf guards every state-changing request with a token each form echoes
// back (field "csrf", or header X-CSRF-Token). Signed in, the token is an
// HMAC of the session under a server secret: bound to the session, it
// changes at login and a token from another session or from before login
// is refused. Signed out (the login form) it is a random value in an
// HttpOnly SameSite cookie (double submit). An upload's multipart body is
// streamed, so its token must be the body's first field. Cross-origin
// requests are refused outright too.
func (s *Server) csrf(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := ""
		if session, ok := r.Context().Value(tokenKey).(string); ok {
			token = s.sessionCSRF(session)
		} else if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
			token = c.Value
		} else {
			token = randomToken()
			http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: token, Path: "/", HttpOnly: true,
				Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
		}
		ctx := context.WithValue(r.Context(), csrfKey, token)
		if !safeMethod(r.Method) {
			got, mr := s.submittedToken(w, r)
			if err := cop.Check(r); err != nil || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				s.renderStatus(w, r, http.StatusForbidden, "页面已过期或请求来源不明，请刷新页面后重试")
				return
			}
			if mr != nil {
				ctx = context.WithValue(ctx, multipartKey, mr)
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// sessionCSRF is the CSRF token of a session.
func (s *Server) sessionCSRF(session string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// submittedToken reads the token a request carries. For a multipart body
// it reads the first part, which must be the token, and returns the reader
// positioned after it for the handler (the body is bounded first: every
// multipart request here is an upload).
func (s *Server) submittedToken(w http.ResponseWriter, r *http.Request) (string, *multipart.Reader) {
	if got := r.Header.Get("X-CSRF-Token"); got != "" {
		return got, nil
	}
	ctype := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ctype, "application/x-www-form-urlencoded"):
		return r.PostFormValue("csrf"), nil
	case strings.HasPrefix(ctype, "multipart/form-data"):
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload+1<<20)
		mr, err := r.MultipartReader()
		if err != nil {
			return "", nil
		}
		p, err := mr.NextPart()
		if err != nil || p.FormName() != "csrf" {
			return "", nil
		}
		b, _ := io.ReadAll(io.LimitReader(p, 256))
		return strings.TrimSpace(string(b)), mr
	}
	return "", nil
}

// multipartBody is the reader of a multipart request after its CSRF field.
func multipartBody(r *http.Request) (*multipart.Reader, bool) {
	mr, ok := r.Context().Value(multipartKey).(*multipart.Reader)
	return mr, ok
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) loadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil || c.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		u, err := s.users.Session(r.Context(), c.Value)
		if err != nil {
			s.clearSessionCookie(w)
			next.ServeHTTP(w, r)
			return
		}
		noteUser(r, u.Username)
		ctx := context.WithValue(r.Context(), userKey, u)
		ctx = context.WithValue(ctx, tokenKey, c.Value)
		ctx = withActor(ctx, r, u)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *Server) requireLogin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := currentUser(r); !ok {
			to := "/login"
			if r.Method == http.MethodGet && r.URL.Path != "/" {
				to += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: int(s.users.MaxLifetime.Seconds())})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

func currentUser(r *http.Request) (auth.User, bool) {
	u, ok := r.Context().Value(userKey).(auth.User)
	return u, ok
}

func userName(r *http.Request) string {
	u, _ := currentUser(r)
	return u.Username
}

func csrfToken(r *http.Request) string {
	t, _ := r.Context().Value(csrfKey).(string)
	return t
}
