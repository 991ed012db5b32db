package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/auth"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/server"
)

const testPassword = "Test@2026pw"

// env is a running server over a fresh database holding 茂名's regions.
type env struct {
	t    testing.TB
	db   *pgxpool.Pool
	srv  *server.Server
	http *httptest.Server
}

func newEnv(t testing.TB) *env {
	t.Helper()
	db, _ := pgtest.New(t)
	fixture.Regions(t, db, "4409")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := server.New(server.Config{MaxUpload: 64 << 20, TempDir: t.TempDir()}, db, log)
	t.Cleanup(srv.Close) // before the database is dropped
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &env{t: t, db: db, srv: srv, http: hs}
}

func (e *env) mustCreateUser(name string, role actor.Role, regionCode string) auth.User {
	e.t.Helper()
	u, err := auth.NewStore(e.db).Create(context.Background(), actor.CLI("test"), auth.NewUser{
		Username: name, DisplayName: name + "姓名", Role: role, RegionCode: regionCode, Password: testPassword})
	if err != nil {
		e.t.Fatalf("create user %s: %v", name, err)
	}
	return u
}

// client is a browser-like HTTP client: a cookie jar, no automatic redirects.
type client struct {
	t    testing.TB
	base string
	c    *http.Client
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, base: e.http.URL, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.c.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, readBody(c.t, resp)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf fetches a page and returns the token its forms carry.
func (c *client) csrf(path string) string {
	c.t.Helper()
	_, body := c.get(path)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("no csrf field on %s", path)
	}
	return m[1]
}

func (c *client) post(path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.c.Post(c.base+path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, readBody(c.t, resp)
}

func (c *client) login(name, pw string) *http.Response {
	c.t.Helper()
	token := c.csrf("/login")
	resp, _ := c.post("/login", url.Values{"csrf": {token}, "username": {name}, "password": {pw}})
	return resp
}

func (c *client) mustLogin(name string) {
	c.t.Helper()
	if resp := c.login(name, testPassword); resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("login %s: status %d", name, resp.StatusCode)
	}
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
