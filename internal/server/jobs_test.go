package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/job"
	"github.com/canbao/canbao/internal/server"
	"github.com/canbao/canbao/internal/source"
)

// jobStatus is the JSON a job's status endpoint answers.
type jobStatus struct {
	State, Label, Message, Error, Result string
	Active                               bool
	Percent                              int
}

func (c *client) jobStatus(job string) (int, jobStatus) {
	c.t.Helper()
	resp, body := c.get(job + "/status")
	var st jobStatus
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			c.t.Fatalf("status %s: %v\n%s", job, err, body)
		}
	}
	return resp.StatusCode, st
}

// waitState polls a job's status until it is in state; the bound only
// keeps a broken runner from hanging the test.
func (c *client) waitState(job, state string) jobStatus {
	c.t.Helper()
	var st jobStatus
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var code int
		if code, st = c.jobStatus(job); code != http.StatusOK {
			c.t.Fatalf("status of %s: %d", job, code)
		}
		if st.State == state {
			return st
		}
	}
	c.t.Fatalf("%s never %s: %+v", job, state, st)
	return st
}

// holdCompareLock takes the lock a comparison of region waits for, so a
// started comparison stays running until the test lets it go.
func (e *env) holdCompareLock(region string) (release func()) {
	e.t.Helper()
	ctx := context.Background()
	tx, err := e.db.Begin(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7001, hashtext($1))`, region); err != nil {
		e.t.Fatal(err)
	}
	return func() { tx.Rollback(ctx) }
}

func TestJobPagesScopeCancelAndShutdown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("gz", actor.County, "440981")
	e.mustCreateUser("gz2", actor.County, "440981")
	e.mustCreateUser("city", actor.City, "4409")
	e.mustCreateUser("hz", actor.County, "440982")
	release := e.holdCompareLock("440981")
	defer release()
	gz := e.client()
	gz.mustLogin("gz")
	jobPath := gz.startCompare("440981", demoAsOf.Format("2006-01-02"))
	st := gz.waitState(jobPath, "running")
	if !st.Active || st.Result != "" || st.Percent != -1 {
		t.Errorf("running comparison's status: %+v", st)
	}
	resp, page := gz.get(jobPath)
	for _, want := range []string{`data-testid="job-state">运行中<`, `data-testid="job-error" hidden`, `data-testid="job-cancel"`, `http-equiv="refresh"`} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, want) {
			t.Errorf("job page (%d) lacks %q", resp.StatusCode, want)
		}
	}

	t.Run("Scope", func(t *testing.T) {
		hz := e.client()
		hz.mustLogin("hz")
		if resp, _ := hz.get(jobPath); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another county's job page: %d, want 404", resp.StatusCode)
		}
		if code, _ := hz.jobStatus(jobPath); code != http.StatusNotFound {
			t.Errorf("another county's job status: %d, want 404", code)
		}
		city := e.client()
		city.mustLogin("city")
		if code, st := city.jobStatus(jobPath); code != http.StatusOK || st.State != "running" {
			t.Errorf("the city's view of its county's job: %d %+v", code, st)
		}
		// A colleague sees the job but may not cancel it.
		gz2 := e.client()
		gz2.mustLogin("gz2")
		resp, page := gz2.get(jobPath)
		if resp.StatusCode != http.StatusOK || strings.Contains(page, `data-testid="job-cancel"`) {
			t.Errorf("colleague's job page: %d, cancel shown %v", resp.StatusCode, strings.Contains(page, `data-testid="job-cancel"`))
		}
		resp, _ = gz2.post(jobPath+"/cancel", url.Values{"csrf": {gz2.csrf(jobPath)}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("colleague's cancel: %d, want 403", resp.StatusCode)
		}
		if _, st := gz.jobStatus(jobPath); st.State != "running" {
			t.Errorf("after a refused cancel the job is %s", st.State)
		}
	})

	t.Run("Cancel", func(t *testing.T) {
		resp, _ := gz.post(jobPath+"/cancel", url.Values{"csrf": {gz.csrf(jobPath)}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != jobPath {
			t.Fatalf("cancel: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		st := gz.waitState(jobPath, "cancelled")
		if st.Active || st.Error == "" {
			t.Errorf("cancelled job's status: %+v", st)
		}
		_, page := gz.get(jobPath)
		if strings.Contains(page, `data-testid="job-error" hidden`) || strings.Contains(page, `http-equiv="refresh"`) || !strings.Contains(page, "已取消") {
			t.Errorf("cancelled job's page does not say so")
		}
	})

	t.Run("ShutdownInterrupts", func(t *testing.T) {
		jobPath := gz.startCompare("440981", demoAsOf.Format("2006-01-02"))
		gz.waitState(jobPath, "running")
		e.srv.Close()
		st := gz.waitState(jobPath, "interrupted")
		if st.Active || !strings.Contains(st.Error, "中断") {
			t.Errorf("interrupted job's status: %+v", st)
		}
		// A server started afterwards shows it the same way.
		next := server.New(server.Config{TempDir: t.TempDir()}, e.db, slog.New(slog.NewTextHandler(io.Discard, nil)))
		defer next.Close()
		var state string
		if err := e.db.QueryRow(context.Background(), `SELECT state FROM job WHERE id = $1`, strings.TrimPrefix(jobPath, "/jobs/")).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state != "interrupted" {
			t.Errorf("after restart the job is %s", state)
		}
		// The stopped server takes no new job.
		token := gz.csrf("/compare")
		resp, _ := gz.post("/compare", url.Values{"csrf": {token}, "region": {"440981"}, "as_of": {demoAsOf.Format("2006-01-02")}})
		if resp.StatusCode != http.StatusConflict {
			t.Errorf("start after stop: %d, want 409", resp.StatusCode)
		}
	})
}

func TestJobListShowsForegroundJobs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("gz", actor.County, "440981")
	e.mustCreateUser("hz", actor.County, "440982")
	// The CLI's way: the same import job, run in the foreground.
	r := job.NewRunner(e.db, slog.New(slog.NewTextHandler(io.Discard, nil)), 1)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	var res imports.Result
	req := imports.Request{Kind: source.Hukou, Region: "440981", Path: "../../testdata/imports/hukou_title_gb18030.csv",
		FileName: "hukou.csv", TempDir: t.TempDir()}
	j, err := r.Run(context.Background(), imports.New(e.db).Job(actor.CLI("tester"), req, 0, &res), nil)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != job.Succeeded || j.ResultID != res.BatchID || j.Status.Done != int64(res.Read) || res.Read == 0 {
		t.Fatalf("foreground import job: %+v, result %+v", j, res)
	}
	row := fmt.Sprintf(`data-testid="job-%d"`, j.ID)
	batch := fmt.Sprintf(`href="/imports/%d"`, res.BatchID)

	gz := e.client()
	gz.mustLogin("gz")
	resp, page := gz.get("/jobs")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, row) || !strings.Contains(page, batch) || !strings.Contains(page, "cli:tester") {
		t.Errorf("job list (%d) lacks the CLI's import job", resp.StatusCode)
	}
	if resp, _ := gz.get(jobURLOf(j.ID)); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != fmt.Sprintf("/imports/%d", res.BatchID) {
		t.Errorf("finished job page: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	hz := e.client()
	hz.mustLogin("hz")
	if _, page := hz.get("/jobs"); strings.Contains(page, row) {
		t.Error("another county's job list shows the job")
	}
}

func jobURLOf(id int64) string { return fmt.Sprintf("/jobs/%d", id) }
