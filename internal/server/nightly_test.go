package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/server"
)

// TestNightlyNext: the nightly time is read as HH:MM, China time, and the
// next one is today's when still ahead, else tomorrow's.
func TestNightlyNext(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	n, err := server.ParseNightly("02:30")
	if err != nil || !n.On {
		t.Fatalf("ParseNightly: %+v %v", n, err)
	}
	for _, c := range []struct{ now, want time.Time }{
		{time.Date(2026, 7, 1, 1, 0, 0, 0, cst), time.Date(2026, 7, 1, 2, 30, 0, 0, cst)},
		{time.Date(2026, 7, 1, 2, 30, 0, 0, cst), time.Date(2026, 7, 1, 2, 30, 0, 0, cst)},
		{time.Date(2026, 7, 1, 2, 31, 0, 0, cst), time.Date(2026, 7, 2, 2, 30, 0, 0, cst)},
		{time.Date(2026, 12, 31, 20, 0, 0, 0, time.UTC), time.Date(2027, 1, 2, 2, 30, 0, 0, cst)}, // 04:00 CST on 1 Jan: past it
	} {
		if got := n.Next(c.now); !got.Equal(c.want) {
			t.Errorf("Next(%v) = %v, want %v", c.now, got, c.want)
		}
	}
	for _, bad := range []string{"2:3", "25:00", "0230", "tonight"} {
		if _, err := server.ParseNightly(bad); err == nil {
			t.Errorf("ParseNightly(%q) accepted", bad)
		}
	}
	if n, err := server.ParseNightly(""); err != nil || n.On {
		t.Errorf("empty: %+v %v", n, err)
	}
}

// TestIncrementalButtonAndNightly: the runs page's 增量比对 button runs an
// incremental comparison that keeps the last as-of date, the run list
// marks it, and the nightly submission queues one per compared county.
func TestIncrementalButtonAndNightly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.importDemoCounty(150)
	e.mustCreateUser("county", actor.County, "440981")
	c := e.client()
	c.mustLogin("county")
	c.mustCompare("440981", demoAsOf.Format("2006-01-02"))

	token := c.csrf("/compare")
	resp, body := c.post("/compare", url.Values{"csrf": {token}, "region": {"440981"}, "as_of": {""}, "mode": {"incremental"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("incremental start: %d\n%s", resp.StatusCode, body)
	}
	run, failed := c.waitCompare(resp.Header.Get("Location"))
	if run == "" {
		t.Fatalf("incremental comparison failed:\n%s", failed)
	}
	var mode, asOf string
	if err := e.db.QueryRow(context.Background(), `SELECT mode, as_of::text FROM comparison_run WHERE id = $1`,
		strings.TrimPrefix(strings.SplitN(run, "?", 2)[0], "/compare/runs/")).Scan(&mode, &asOf); err != nil {
		t.Fatal(err)
	}
	if mode != "incremental" || asOf != demoAsOf.Format("2006-01-02") {
		t.Errorf("button's run: mode %s, as-of %s", mode, asOf)
	}
	if _, page := c.get("/compare"); !strings.Contains(page, `data-testid="run-incremental-`) {
		t.Error("the run list does not mark the incremental run")
	}

	ids, err := e.srv.SubmitNightly(context.Background())
	if err != nil || len(ids) != 1 {
		t.Fatalf("nightly: %v %v", ids, err)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var state string
		var n int
		if err := e.db.QueryRow(context.Background(), `SELECT state FROM job WHERE id = $1`, ids[0]).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state == "succeeded" {
			if err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM comparison_run WHERE mode = 'incremental' AND created_name = 'system:nightly'`).Scan(&n); err != nil || n != 1 {
				t.Fatalf("nightly runs: %d %v", n, err)
			}
			break
		}
		if state != "queued" && state != "running" || time.Now().After(deadline) {
			t.Fatalf("nightly job %s", state)
		}
	}
}
