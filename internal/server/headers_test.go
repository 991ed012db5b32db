package server_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/server"
)

// TestPersonalPagesNotCached: pages carry no-store and a Permissions-Policy;
// static assets stay cacheable.
func TestPersonalPagesNotCached(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("cachecheck", actor.County, "440981")
	c := e.client()
	c.mustLogin("cachecheck")
	for _, path := range []string{"/", "/imports", "/compare", "/login"} {
		resp, _ := c.get(path)
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", path, got)
		}
		if got := resp.Header.Get("Permissions-Policy"); !strings.Contains(got, "camera=()") {
			t.Errorf("%s: Permissions-Policy %q", path, got)
		}
	}
	resp, _ := c.get("/static/app.css")
	if got := resp.Header.Get("Cache-Control"); !strings.HasPrefix(got, "public") {
		t.Errorf("static asset: Cache-Control %q", got)
	}
}

// TestHugePageNumbers: any page number answers a page, never a 500.
func TestHugePageNumbers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("pager", actor.Admin, "4409")
	c := e.client()
	c.mustLogin("pager")
	for _, path := range []string{"/imports", "/users", "/audit", "/compare"} {
		for _, p := range []string{"99999999999999999999", "-5", "9223372036854775807", "abc"} {
			if resp, _ := c.get(path + "?page=" + p); resp.StatusCode != http.StatusOK {
				t.Errorf("%s?page=%s: status %d", path, p, resp.StatusCode)
			}
		}
	}
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRequestLogNamesUserMasksIDs: the request log says who asked, and an
// ID number in a path is masked.
func TestRequestLogNamesUserMasksIDs(t *testing.T) {
	t.Parallel()
	var log syncBuffer
	e := newEnvLog(t, func(*server.Config) {}, &log)
	e.mustCreateUser("logged", actor.County, "440981")
	c := e.client()
	c.mustLogin("logged")
	const id = "44098119800101123X"
	c.get("/persons/" + id)
	out := log.String()
	if strings.Contains(out, id) {
		t.Errorf("the log holds a full ID number:\n%s", out)
	}
	if !strings.Contains(out, "user=logged") || !strings.Contains(out, "440981********123X") {
		t.Errorf("the log line lacks the user or the masked path:\n%s", out)
	}
}
