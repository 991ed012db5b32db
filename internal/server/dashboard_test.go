package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/server"
)

// TestSnapshotButton: before any snapshot the dashboard says so; a county
// clerk's button runs the snapshot as a job whose page opens the dashboard;
// then the dashboard's population is the comparison summary's 登记对象.
func TestSnapshotButton(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fixture.ImportCounty(t, e.db, 60, 4, "csv")
	res, err := compare.New(e.db).Run(context.Background(), fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.mustCreateUser("gz", actor.County, fixture.County)
	c := e.client()
	c.mustLogin("gz")
	if _, body := c.get("/dashboard"); !strings.Contains(body, `data-testid="no-snapshot"`) || !strings.Contains(body, `data-testid="refresh"`) {
		t.Fatal("the dashboard before any snapshot offers no button")
	}
	resp, _ := c.post("/dashboard/snapshot", url.Values{"csrf": {c.csrf("/dashboard")}})
	job := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(job, "/jobs/") {
		t.Fatalf("snapshot button: %d to %q", resp.StatusCode, job)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, _ := c.get(job)
		if resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == "/dashboard" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the snapshot job did not finish")
		}
	}
	var universe string
	if err := e.db.QueryRow(context.Background(), `SELECT n::text FROM run_summary WHERE run_id = $1 AND region_code = $2 AND metric = 'universe'`,
		res.RunID, fixture.County).Scan(&universe); err != nil {
		t.Fatal(err)
	}
	_, body := c.get("/dashboard")
	card := regexp.MustCompile(`data-testid="card-population"[^>]*>\s*<div class="label">常住人口</div>\s*<div class="value"><a [^>]*data-n="(\d+)"`).FindStringSubmatch(body)
	if card == nil || card[1] != universe {
		t.Errorf("dashboard population %v, the comparison's 登记对象 %s", card, universe)
	}
	if strings.Contains(body, `data-testid="stale"`) {
		t.Error("a fresh snapshot is reported stale")
	}
	// A newer run makes the snapshot stale until it is computed again.
	if _, err := compare.New(e.db).Run(context.Background(), fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil); err != nil {
		t.Fatal(err)
	}
	if _, body := c.get("/dashboard"); !strings.Contains(body, `data-testid="stale"`) {
		t.Error("a snapshot older than the newest run is not reported stale")
	}
}

func TestParseSnapshotAt(t *testing.T) {
	for _, c := range []struct {
		in       string
		h, m     int
		on, fail bool
	}{{"", 1, 30, true, false}, {"off", 0, 0, false, false}, {"23:05", 23, 5, true, false}, {"25:00", 0, 0, false, true}, {"soon", 0, 0, false, true}} {
		h, m, on, err := server.ParseSnapshotAt(c.in)
		if (err != nil) != c.fail || h != c.h || m != c.m || on != c.on {
			t.Errorf("ParseSnapshotAt(%q) = %d, %d, %v, %v", c.in, h, m, on, err)
		}
	}
}
