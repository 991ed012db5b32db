package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/auth"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/server"
)

// TestLoginRedirectStaysOnSite: a crafted next= never leads the browser
// off the site after a successful login.
func TestLoginRedirectStaysOnSite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("redir", actor.County, "440981")
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

// newEnvWith is newEnv with a server configured by set.
func newEnvWith(t testing.TB, set func(*server.Config)) *env {
	t.Helper()
	return newEnvLog(t, set, io.Discard)
}

// newEnvLog is newEnvWith with the server's log written to w.
func newEnvLog(t testing.TB, set func(*server.Config), w io.Writer) *env {
	t.Helper()
	db, _ := pgtest.New(t)
	fixture.Regions(t, db, "4409")
	cfg := server.Config{MaxUpload: 64 << 20, TempDir: t.TempDir()}
	set(&cfg)
	srv := server.New(cfg, db, slog.New(slog.NewTextHandler(w, nil)))
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &env{t: t, db: db, srv: srv, http: hs}
}

// countHashes makes the server's password checks countable (and slower,
// so parallel logins overlap as they would on a busy server).
func countHashes(e *env) *atomic.Int64 {
	var n atomic.Int64
	e.srv.Users().Verify = func(hash, pw string) bool {
		n.Add(1)
		time.Sleep(20 * time.Millisecond)
		return auth.VerifyPassword(hash, pw)
	}
	return &n
}

// TestLockoutHoldsUnderParallelLogins: after four failures, twenty
// simultaneous logins (one with the right password) get one password
// check between them, not twenty, and at most one of them in.
func TestLockoutHoldsUnderParallelLogins(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(c *server.Config) { c.LoginBurst = 1000 })
	e.mustCreateUser("para", actor.County, "440981")
	c := e.client()
	for i := 0; i < 4; i++ {
		if resp := c.login("para", "Wrong#Pass1"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i+1, resp.StatusCode)
		}
	}
	hashes := countHashes(e)
	var ok atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		cl := e.client()
		token := cl.csrf("/login")
		pw := "Wrong#Pass1"
		if i == 10 {
			pw = testPassword
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := cl.c.Post(cl.base+"/login", "application/x-www-form-urlencoded",
				strings.NewReader(url.Values{"csrf": {token}, "username": {"para"}, "password": {pw}}.Encode()))
			if err != nil {
				t.Error(err)
				return
			}
			_ = resp.Body.Close() // only the status matters
			if resp.StatusCode == http.StatusSeeOther {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := hashes.Load(); n > 1 {
		t.Errorf("20 parallel logins after 4 failures checked %d passwords, want at most 1", n)
	}
	if n := ok.Load(); n > 1 {
		t.Errorf("%d parallel logins got in", n)
	}
}

// TestUnknownNameLooksLikeKnown: a name without an account fails and locks
// exactly like one with an account: same status, same message, same
// number of password checks at every attempt.
func TestUnknownNameLooksLikeKnown(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(c *server.Config) { c.LoginBurst = 1000 })
	e.mustCreateUser("known", actor.County, "440981")
	hashes := countHashes(e)
	c := e.client()
	errMsg := regexp.MustCompile(`data-testid="login-error"[^>]*>([^<]*)<`)
	for i := 1; i <= 7; i++ {
		var seen [2]string
		var cost [2]int64
		for j, name := range []string{"known", "nobody-here"} {
			before := hashes.Load()
			token := c.csrf("/login")
			resp, body := c.post("/login", url.Values{"csrf": {token}, "username": {name}, "password": {"Wrong#Pass1"}})
			m := errMsg.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("attempt %d as %s: no error message (status %d)", i, name, resp.StatusCode)
			}
			seen[j] = strconv.Itoa(resp.StatusCode) + " " + m[1]
			cost[j] = hashes.Load() - before
		}
		if seen[0] != seen[1] || cost[0] != cost[1] {
			t.Errorf("attempt %d: known %q (%d hashes), unknown %q (%d hashes)", i, seen[0], cost[0], seen[1], cost[1])
		}
		if i > 5 && cost[0] != 0 {
			t.Errorf("attempt %d on a locked name checked a password", i)
		}
	}
}

// TestLoginThrottledPerClient: one client cannot make the server hash
// passwords without bound by trying many names.
func TestLoginThrottledPerClient(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(c *server.Config) { c.LoginBurst, c.LoginInterval = 3, time.Hour })
	hashes := countHashes(e)
	c := e.client()
	for i := 0; i < 3; i++ {
		if resp := c.login("name"+strconv.Itoa(i), "Wrong#Pass1"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d", i+1, resp.StatusCode)
		}
	}
	token := c.csrf("/login")
	resp, body := c.post("/login", url.Values{"csrf": {token}, "username": {"name9"}, "password": {"Wrong#Pass1"}})
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "过于频繁") {
		t.Errorf("fourth attempt: status %d, want 429 with a Chinese message", resp.StatusCode)
	}
	if n := hashes.Load(); n != 3 {
		t.Errorf("%d password checks, want 3", n)
	}
}

// TestSecurityEventsReachResponsibleAdmins: failed logins, the lock and a
// password reset of a county user appear on the audit page of that
// county's and the city's administrators, not on a neighbouring county's.
func TestSecurityEventsReachResponsibleAdmins(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(c *server.Config) { c.LoginBurst = 1000 })
	e.mustCreateUser("zhaoliu", actor.Township, "440981107")
	e.mustCreateUser("cityadmin", actor.Admin, "4409")
	e.mustCreateUser("countyadmin", actor.Admin, "440981")
	e.mustCreateUser("otheradmin", actor.Admin, "440902")
	c := e.client()
	for i := 0; i < 5; i++ {
		c.login("zhaoliu", "Wrong#Pass1")
	}
	city := e.client()
	city.mustLogin("cityadmin")
	var id int64
	if err := e.db.QueryRow(context.Background(), `SELECT id FROM app_user WHERE username = 'zhaoliu'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	token := city.csrf("/users")
	if resp, _ := city.post("/users/"+strconv.FormatInt(id, 10)+"/password", url.Values{"csrf": {token}, "password": {"Reset#Zl2026"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("password reset: status %d", resp.StatusCode)
	}
	county := e.client()
	county.mustLogin("countyadmin")
	other := e.client()
	other.mustLogin("otheradmin")
	for _, a := range []string{"login.failed", "login.locked", "user.password"} {
		for _, admin := range []*client{city, county} {
			if _, body := admin.get("/audit?action=" + a); !strings.Contains(body, "user:zhaoliu") {
				t.Errorf("an administrator responsible for zhaoliu does not see %s", a)
			}
		}
		if _, body := other.get("/audit?action=" + a); strings.Contains(body, "user:zhaoliu") {
			t.Errorf("another county's administrator sees zhaoliu's %s", a)
		}
	}
}

// TestSessionsPerUserLimited: a sixth login ends the least recently used
// session.
func TestSessionsPerUserLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("many", actor.County, "440981")
	var clients []*client
	for i := 0; i < 6; i++ {
		c := e.client()
		c.mustLogin("many")
		clients = append(clients, c)
	}
	var n int
	if err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM session s JOIN app_user u ON u.id = s.user_id WHERE u.username = 'many'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("%d live sessions, want 5", n)
	}
	if resp, _ := clients[0].get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the oldest session still works (status %d)", resp.StatusCode)
	}
	if resp, _ := clients[5].get("/"); resp.StatusCode != http.StatusOK {
		t.Errorf("the newest session does not work (status %d)", resp.StatusCode)
	}
}

// TestClientAddressFromTrustedProxyOnly: forwarding headers are believed
// only when configured, and then only the hop the proxy wrote, never the
// client-written addresses to its left.
func TestClientAddressFromTrustedProxyOnly(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		set  func(*server.Config)
		xff  string
		want string
	}{
		{"NoProxyIgnoresHeader", func(*server.Config) {}, "6.6.6.6", "127.0.0.1"},
		{"ProxyTakesRightmost", func(c *server.Config) { c.TrustProxy = true }, "6.6.6.6, 203.0.113.7", "203.0.113.7"},
		{"ProxyNetsSkipInnerProxies", func(c *server.Config) {
			c.TrustProxy = true
			c.ProxyNets = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
		}, "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"},
		{"XRealIPIgnoredUnlessConfigured", func(c *server.Config) { c.TrustProxy = true }, "", "127.0.0.1"},
		{"XRealIPConfigured", func(c *server.Config) { c.TrustProxy, c.ProxyHeader = true, "X-Real-IP" }, "203.0.113.8", "6.6.6.6"},
		{"PeerOutsideProxyNets", func(c *server.Config) {
			c.TrustProxy = true
			c.ProxyNets = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		}, "6.6.6.6", "127.0.0.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnvWith(t, tc.set)
			c := e.client()
			token := c.csrf("/login")
			req, _ := http.NewRequest(http.MethodPost, c.base+"/login",
				strings.NewReader(url.Values{"csrf": {token}, "username": {"ghost"}, "password": {"Wrong#Pass1"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.xff != "" {
				req.Header.Set("X-Forwarded-For", tc.xff)
			}
			req.Header.Set("X-Real-IP", "6.6.6.6")
			resp, err := c.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close() // only the status matters
			var ip string
			if err := e.db.QueryRow(context.Background(), `SELECT ip FROM audit_log WHERE action = 'login.failed'`).Scan(&ip); err != nil {
				t.Fatal(err)
			}
			if ip != tc.want {
				t.Errorf("client address %q, want %q", ip, tc.want)
			}
		})
	}
}
