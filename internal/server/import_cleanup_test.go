package server_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/server"
)

// newEnvIn is newEnv with one job at a time and uploads kept in tmp, so a
// test can hold the only worker and look at the files left behind.
func newEnvIn(t *testing.T, tmp string) *env {
	t.Helper()
	db, _ := pgtest.New(t)
	fixture.Regions(t, db, "4409")
	srv := server.New(server.Config{MaxUpload: 64 << 20, TempDir: tmp, Jobs: 1}, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &env{t: t, db: db, srv: srv, http: hs}
}

// noFilesLeft waits for dir to be empty: a job removes its upload just
// after its row records the end. The bound only keeps a broken cleanup
// from hanging the test.
func noFilesLeft(t *testing.T, dir, what string) {
	t.Helper()
	var left []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if left = filesIn(t, dir); len(left) == 0 {
			return
		}
	}
	t.Errorf("%s left its upload behind: %v", what, left)
}

// filesIn lists the names in dir.
func filesIn(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestCancelledQueuedImportRemovesFile: an import cancelled before a
// worker was free never runs, and its uploaded file (personal data) is
// deleted all the same; so is the file of an import that ran.
func TestCancelledQueuedImportRemovesFile(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	e := newEnvIn(t, tmp)
	e.mustCreateUser("cleaner", actor.County, "440981")
	c := e.client()
	c.mustLogin("cleaner")
	release := e.holdCompareLock("440981")
	defer release()
	busy := c.startCompare("440981", demoAsOf.Format("2006-01-02"))
	c.waitState(busy, "running") // the only worker is taken

	src := t.TempDir()
	resp, _ := c.upload("居住人口", "440981", residentCSV(t, src, "queued.csv", 0, 10))
	if len(filesIn(t, tmp)) != 1 {
		t.Fatalf("the upload is not staged in the temp dir: %v", filesIn(t, tmp))
	}
	queued := c.confirm(resp.Header.Get("Location")).Header.Get("Location")
	if st := c.waitState(queued, "queued"); !st.Active {
		t.Fatalf("queued import: %+v", st)
	}
	resp, _ = c.post(queued+"/cancel", url.Values{"csrf": {c.csrf(queued)}})
	if resp.StatusCode != 303 {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	c.waitState(queued, "cancelled")
	noFilesLeft(t, tmp, "a cancelled queued import")

	resp, _ = c.post(busy+"/cancel", url.Values{"csrf": {c.csrf(busy)}})
	if resp.StatusCode != 303 {
		t.Fatalf("cancel comparison: %d", resp.StatusCode)
	}
	c.waitState(busy, "cancelled")
	resp, _ = c.upload("居住人口", "440981", residentCSV(t, src, "done.csv", 0, 10))
	c.waitJob(c.confirm(resp.Header.Get("Location")).Header.Get("Location"))
	noFilesLeft(t, tmp, "a finished import")
}

// TestStoppedImportConfirmSwitchesOnce: while an import waits for its
// confirmation, posting its mapping again leads to the stopped job (no
// unforced import starts) and the file is kept; the confirmation starts
// one forced import, a second confirmation is refused, and the file goes
// when the confirmed import ends. (The switch happens under one hold of
// the uploads' lock; a race cannot be forced from outside, so this checks
// what the lock guarantees.)
func TestStoppedImportConfirmSwitchesOnce(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	e := newEnvIn(t, tmp)
	e.mustCreateUser("switcher", actor.County, "440981")
	c := e.client()
	c.mustLogin("switcher")
	src := t.TempDir()
	resp, _ := c.upload("居住人口", "440981", residentCSV(t, src, "big.csv", 0, 60))
	c.waitJob(c.confirm(resp.Header.Get("Location")).Header.Get("Location"))
	noFilesLeft(t, tmp, "the first import")

	resp, _ = c.upload("居住人口", "440981", residentCSV(t, src, "small.csv", 100, 5))
	preview := resp.Header.Get("Location")
	stopped := c.confirm(preview).Header.Get("Location")
	if batch, _ := c.waitJobEnd(stopped); batch != "" {
		t.Fatalf("the small extract was not stopped for confirmation (batch %q)", batch)
	}
	if len(filesIn(t, tmp)) != 1 {
		t.Fatalf("the stopped import's file was not kept: %v", filesIn(t, tmp))
	}
	resp, _ = c.post(preview, url.Values{"csrf": {c.csrf(stopped)}, "header_line": {"1"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != stopped {
		t.Errorf("posting the mapping again while waiting: %d %s, want the stopped job %s", resp.StatusCode, resp.Header.Get("Location"), stopped)
	}
	resp, _ = c.post(preview+"/confirm", url.Values{"csrf": {c.csrf(stopped)}})
	confirmed := resp.Header.Get("Location")
	if resp.StatusCode != 303 || confirmed == stopped {
		t.Fatalf("confirm: %d %s", resp.StatusCode, confirmed)
	}
	if resp, _ = c.post(preview+"/confirm", url.Values{"csrf": {c.csrf(stopped)}}); resp.StatusCode != 409 {
		t.Errorf("a second confirmation: %d, want 409", resp.StatusCode)
	}
	c.waitJob(confirmed)
	noFilesLeft(t, tmp, "the confirmed import")
	resp, _ = c.post(preview, url.Values{"csrf": {c.csrf(stopped)}, "header_line": {"1"}})
	if resp.Header.Get("Location") != confirmed {
		t.Errorf("posting the mapping after the confirmation: %s, want %s", resp.Header.Get("Location"), confirmed)
	}
}
