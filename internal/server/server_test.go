package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/auth"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/pgtest"
)

func TestAnonymousRedirectsToLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/", "/regions", "/regions/4409", "/users", "/audit"} {
		resp, _ := e.client().get(path)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("GET %s: status %d location %q, want redirect to /login", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp, body := e.client().get("/healthz"); resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("healthz: %d %q", resp.StatusCode, body)
	}
}

func TestLoginLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("zhang", actor.County, "440981")
	c := e.client()
	resp := c.login("zhang", testPassword)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login status %d", resp.StatusCode)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "canbao_session" && (!ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode) {
			t.Errorf("session cookie must be HttpOnly and SameSite=Lax: %+v", ck)
		}
	}
	_, body := c.get("/")
	if !strings.Contains(body, "高州市") || !strings.Contains(body, "石仔岭街道") {
		t.Errorf("home page lacks the county's region tree")
	}
	token := c.csrf("/")
	if resp, _ := c.post("/logout", url.Values{"csrf": {token}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout status %d", resp.StatusCode)
	}
	if resp, _ := c.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout / answered %d, want redirect", resp.StatusCode)
	}
	p, err := audit.List(context.Background(), e.db, actor.CLI("test"), audit.Filter{Username: "zhang"}, list.Query{Page: 1, Size: 50})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, en := range p.Items {
		got[en.Action] = true
	}
	if !got[audit.LoginOK] || !got[audit.Logout] {
		t.Errorf("audit lacks login/logout: %+v", p.Items)
	}
}

func TestNewSessionIDAtLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("li", actor.County, "440981")
	c := e.client()
	c.mustLogin("li")
	first := sessionCookie(t, c)
	token := c.csrf("/") // logged in: /login would redirect, so post it directly
	if resp, _ := c.post("/login", url.Values{"csrf": {token}, "username": {"li"}, "password": {testPassword}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second login: %d", resp.StatusCode)
	}
	if second := sessionCookie(t, c); second == first {
		t.Error("session ID was not renewed at login")
	}
	var n int
	pgtest.MustScan(t, e.db.QueryRow(context.Background(), `SELECT count(*) FROM session`), &n)
	if n != 1 {
		t.Errorf("%d sessions after re-login, want the old one replaced", n)
	}
}

func sessionCookie(t *testing.T, c *client) string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == "canbao_session" {
			return ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

func TestLockoutAfterFiveFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("wang", actor.County, "440981")
	c := e.client()
	for i := 1; i <= 5; i++ {
		if resp := c.login("wang", "wrong-Password1"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i, resp.StatusCode)
		}
	}
	// The right password no longer works while locked.
	token := c.csrf("/login")
	resp, body := c.post("/login", url.Values{"csrf": {token}, "username": {"wang"}, "password": {testPassword}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "锁定") {
		t.Fatalf("locked login: status %d, body lacks 锁定", resp.StatusCode)
	}
	p, _ := audit.List(context.Background(), e.db, actor.CLI("test"), audit.Filter{Action: audit.LoginFailed}, list.Query{Page: 1, Size: 50})
	if p.Total != 6 {
		t.Errorf("%d failed logins audited, want 6", p.Total)
	}
	// An admin's password reset unlocks.
	var id int64
	pgtest.MustScan(t, e.db.QueryRow(context.Background(), `SELECT id FROM app_user WHERE username = 'wang'`), &id)
	if err := auth.NewStore(e.db).SetPassword(context.Background(), actor.CLI("test"), id, "New@Pass2026"); err != nil {
		t.Fatal(err)
	}
	if resp := c.login("wang", "New@Pass2026"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login after reset: status %d", resp.StatusCode)
	}
}

func TestTownshipClerkSeesOnlyOwnTownship(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("clerk", actor.Township, "440981107") // 镇江镇
	c := e.client()
	c.mustLogin("clerk")
	if resp, body := c.get("/regions/440981107"); resp.StatusCode != 200 || !strings.Contains(body, "镇江村") {
		t.Errorf("own township: status %d", resp.StatusCode)
	}
	if resp, _ := c.get("/regions/440981107204"); resp.StatusCode != 200 {
		t.Errorf("own village: status %d", resp.StatusCode)
	}
	for _, other := range []string{"440981002", "440981002001", "440981", "4409", "440902"} {
		resp, body := c.get("/regions/" + other)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("region %s outside scope: status %d, want 404", other, resp.StatusCode)
		}
		if strings.Contains(body, "石仔岭") {
			t.Errorf("region %s outside scope leaked data", other)
		}
	}
	if resp, _ := c.get("/users"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("clerk reached user admin: %d", resp.StatusCode)
	}
	_, body := c.get("/regions?q=" + url.QueryEscape("村"))
	if strings.Contains(body, "4409810020") {
		t.Error("search returned regions outside the clerk's township")
	}
}

func TestPostWithoutCSRFRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("admin1", actor.Admin, "4409")
	c := e.client()
	c.mustLogin("admin1")
	form := url.Values{"username": {"x1"}, "display_name": {"x"}, "role": {"county"}, "region": {"440981"}, "password": {testPassword}}
	if resp, _ := c.post("/users", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST without token: %d, want 403", resp.StatusCode)
	}
	form.Set("csrf", "forged-token-forged-token-forged-token")
	if resp, _ := c.post("/users", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST with forged token: %d, want 403", resp.StatusCode)
	}
	// A cross-site browser request is refused even with the right token.
	form.Set("csrf", c.csrf("/users"))
	req, _ := http.NewRequest("POST", c.base+"/users", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := c.c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST: %v %v, want 403", resp.StatusCode, err)
	}
	if _, err := auth.NewStore(e.db).ByName(context.Background(), "x1"); err == nil {
		t.Error("user was created by a forged request")
	}
	if resp, _ := c.post("/users", form); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("POST with token: %d, want 303", resp.StatusCode)
	}
	if resp, _ := c.post("/login", url.Values{"username": {"admin1"}, "password": {testPassword}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without token: %d, want 403", resp.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, _ := e.client().get("/login")
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP = %q", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("missing nosniff")
	}
}

func TestAdminManagesUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("boss", actor.Admin, "4409")
	c := e.client()
	c.mustLogin("boss")
	token := c.csrf("/users")
	form := url.Values{"csrf": {token}, "username": {"newclerk"}, "display_name": {"新经办"}, "role": {"township"},
		"region": {"440981107"}, "password": {"short"}}
	resp, body := c.post("/users", form)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "至少需要8位") {
		t.Fatalf("weak password accepted: %d", resp.StatusCode)
	}
	form.Set("password", "Clerk@2026")
	if resp, _ := c.post("/users", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	u, err := auth.NewStore(e.db).ByName(context.Background(), "newclerk")
	if err != nil {
		t.Fatal(err)
	}
	path := "/users/" + itoa(u.ID)
	if resp, _ := c.post(path+"/disable", url.Values{"csrf": {token}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	clerk := e.client()
	if resp := clerk.login("newclerk", "Clerk@2026"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("disabled user logged in: %d", resp.StatusCode)
	}
	c.post(path+"/enable", url.Values{"csrf": {token}})
	c.post(path+"/password", url.Values{"csrf": {token}, "password": {"Reset#2026"}})
	if resp := clerk.login("newclerk", "Reset#2026"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login after enable and reset: %d", resp.StatusCode)
	}
	_, body = c.get("/audit?action=" + audit.UserDisable)
	if !strings.Contains(body, "user:newclerk") {
		t.Error("audit page does not show the disable")
	}
	// A county admin cannot touch users of another county.
	e.mustCreateUser("otheradmin", actor.Admin, "440902")
	other := e.client()
	other.mustLogin("otheradmin")
	ot := other.csrf("/users")
	if resp, _ := other.post(path+"/disable", url.Values{"csrf": {ot}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("admin of another county disabled a user: %d", resp.StatusCode)
	}
}
