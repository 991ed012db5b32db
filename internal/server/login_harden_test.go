package server_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/canbao/canbao/internal/auth"
)

// TestLoginRedirectStaysOnSite: a crafted next= never leads the browser
// off the site after a successful login.
func TestLoginRedirectStaysOnSite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("redir", auth.County, "440981")
	cases := []struct {
		name, next, want string
	}{
		{"OKPathAndQuery", "/imports?kind=%E6%88%B7", "/imports?kind=%E6%88%B7"},
		{"ErrTabThenSlashes", "/\t/localhost:9999/pwn", "/"},
		{"ErrNewline", "/\n/evil.example/", "/"},
		{"ErrDoubleSlash", "//evil.example/", "/"},
		{"ErrBackslash", "/\\evil.example/", "/"},
		{"ErrInnerBackslash", "/a\\b", "/"},
		{"ErrScheme", "https://evil.example/", "/"},
		{"ErrNoSlash", "evil.example", "/"},
		{"ErrNul", "/\x00/evil", "/"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := e.client()
			// the form carries next along
			_, page := cl.get("/login?next=" + url.QueryEscape(c.next))
			token := csrfField.FindStringSubmatch(page)[1]
			resp, _ := cl.post("/login", url.Values{"csrf": {token}, "username": {"redir"}, "password": {testPassword}, "next": {c.next}})
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("login status %d", resp.StatusCode)
			}
			if got := resp.Header.Get("Location"); got != c.want {
				t.Errorf("next=%q redirected to %q, want %q", c.next, got, c.want)
			}
		})
	}
}
