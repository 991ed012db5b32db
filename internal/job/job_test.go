package job_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/job"
	"github.com/canbao/canbao/internal/pgtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func mustStart(t *testing.T, db *pgxpool.Pool, workers int) *job.Runner {
	t.Helper()
	r := job.NewRunner(db, quiet, workers)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

func mustSubmit(t *testing.T, r *job.Runner, fn job.Func) int64 {
	t.Helper()
	id, err := r.Submit(context.Background(), job.Spec{Kind: job.KindImport, Region: "", UserName: "tester", Title: "t", Run: fn})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// waitFor polls a job until cond holds; the bound only keeps a broken
// runner from hanging the test.
func waitFor(t *testing.T, s *job.Store, id int64, what string, cond func(job.Job) bool) job.Job {
	t.Helper()
	var j job.Job
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var err error
		if j, err = s.Get(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		if cond(j) {
			return j
		}
	}
	t.Fatalf("job %d never %s; last %+v", id, what, j)
	return j
}

func inState(st job.State) func(job.Job) bool { return func(j job.Job) bool { return j.State == st } }

func countStates(t *testing.T, db *pgxpool.Pool) map[job.State]int {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT state, count(*) FROM job GROUP BY state`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[job.State]int{}
	for rows.Next() {
		var st job.State
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			t.Fatal(err)
		}
		out[st] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRunnerBoundsConcurrency(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	r := mustStart(t, db, 2)
	var running, peak atomic.Int32
	release := make(chan struct{})
	var ids []int64
	for i := range 5 {
		ids = append(ids, mustSubmit(t, r, func(ctx context.Context, p *job.Progress) (int64, error) {
			n := running.Add(1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			defer running.Add(-1)
			<-release
			return int64(100 + i), nil
		}))
	}
	waitFor(t, r.Store(), ids[0], "running", inState(job.Running))
	waitFor(t, r.Store(), ids[1], "running", inState(job.Running))
	// Give a runner that ignores its bound the chance to start a third.
	time.Sleep(200 * time.Millisecond)
	if got := countStates(t, db); got[job.Running] != 2 || got[job.Queued] != 3 {
		t.Errorf("states while two block: %v, want 2 running and 3 queued", got)
	}
	close(release)
	for i, id := range ids {
		j := waitFor(t, r.Store(), id, "succeeded", inState(job.Succeeded))
		if j.ResultID != int64(100+i) || j.StartedAt.IsZero() || j.FinishedAt.Before(j.StartedAt) {
			t.Errorf("job %d: result %d, started %v, finished %v", id, j.ResultID, j.StartedAt, j.FinishedAt)
		}
	}
	if p := peak.Load(); p != 2 {
		t.Errorf("peak concurrency %d, want 2", p)
	}
}

func TestProgressIsRecorded(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	r := mustStart(t, db, 1)
	step := make(chan struct{})
	var rows atomic.Int64
	id := mustSubmit(t, r, func(ctx context.Context, p *job.Progress) (int64, error) {
		p.Set(job.Status{Message: "准备中"})
		<-step
		p.Follow(func() job.Status {
			return job.Status{Done: rows.Load(), Total: 1000, Unit: "行", Message: "正在读取"}
		})
		rows.Store(420)
		<-step
		rows.Store(1000)
		return 7, nil
	})
	waitFor(t, r.Store(), id, "reported 准备中", func(j job.Job) bool { return j.Status.Message == "准备中" })
	step <- struct{}{}
	j := waitFor(t, r.Store(), id, "reported 420 rows", func(j job.Job) bool { return j.Status.Done == 420 })
	if j.State != job.Running || j.Status != (job.Status{Done: 420, Total: 1000, Unit: "行", Message: "正在读取"}) {
		t.Errorf("mid-way: %s %+v", j.State, j.Status)
	}
	step <- struct{}{}
	j = waitFor(t, r.Store(), id, "succeeded", inState(job.Succeeded))
	if j.Status.Done != 1000 || j.ResultID != 7 || j.Error != "" {
		t.Errorf("final: %+v", j)
	}
}

func TestFailureIsRecordedWithMessage(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	r := mustStart(t, db, 2)
	t.Run("Invalid", func(t *testing.T) {
		id := mustSubmit(t, r, func(context.Context, *job.Progress) (int64, error) {
			return 0, apperr.Invalidf("文件中没有数据")
		})
		j := waitFor(t, r.Store(), id, "failed", inState(job.Failed))
		if j.Error != "文件中没有数据" || j.ResultID != 0 {
			t.Errorf("failed job: error %q result %d", j.Error, j.ResultID)
		}
	})
	t.Run("InternalHidden", func(t *testing.T) {
		id := mustSubmit(t, r, func(context.Context, *job.Progress) (int64, error) {
			return 5, errors.New("pq: relation secret does not exist")
		})
		j := waitFor(t, r.Store(), id, "failed", inState(job.Failed))
		if j.Error != apperr.Message(errors.New("x")) || j.ResultID != 0 {
			t.Errorf("internal failure shown as %q, result %d", j.Error, j.ResultID)
		}
	})
	t.Run("Panic", func(t *testing.T) {
		id := mustSubmit(t, r, func(context.Context, *job.Progress) (int64, error) { panic("boom") })
		waitFor(t, r.Store(), id, "failed", inState(job.Failed))
	})
}

// blocking is a job that runs until its context ends, as a well-behaved
// import does, and reports that it saw the end.
func blocking(started *sync.WaitGroup) job.Func {
	started.Add(1)
	return func(ctx context.Context, p *job.Progress) (int64, error) {
		started.Done()
		<-ctx.Done()
		return 0, ctx.Err()
	}
}

func TestStopInterruptsRunningAndQueued(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	r := job.NewRunner(db, quiet, 1)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var started sync.WaitGroup
	running := mustSubmit(t, r, blocking(&started))
	started.Wait()
	queued := mustSubmit(t, r, func(context.Context, *job.Progress) (int64, error) {
		t.Error("a queued job ran after the runner stopped")
		return 0, nil
	})
	r.Stop()
	for _, id := range []int64{running, queued} {
		j, err := r.Store().Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State != job.Interrupted || j.Error == "" || j.FinishedAt.IsZero() {
			t.Errorf("job %d after stop: %s %q", id, j.State, j.Error)
		}
	}
	if _, err := r.Submit(context.Background(), job.Spec{Kind: job.KindImport, Run: blocking(&sync.WaitGroup{})}); apperr.KindOf(err) != apperr.Conflict {
		t.Errorf("submit after stop: %v", err)
	}
}

func TestRestartShowsDeadProcessJobsInterrupted(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	// A process that died without stopping left one job running and one
	// queued; another process (a CLI import) is alive and beating.
	const q = `INSERT INTO job (kind, region_code, title, state, owner, started_at, heartbeat_at)
		VALUES ($1, '', $2, $3, $4, now() - interval '5 minutes', now() - make_interval(secs => $5)) RETURNING id`
	var dead, deadQueued, alive int64
	for _, row := range []struct {
		id    *int64
		state job.State
		owner string
		age   int
	}{{&dead, job.Running, "host:1:dead", 120}, {&deadQueued, job.Queued, "host:1:dead", 120}, {&alive, job.Running, "host:2:cli", 0}} {
		if err := db.QueryRow(ctx, q, job.KindImport, "f.csv", row.state, row.owner, row.age).Scan(row.id); err != nil {
			t.Fatal(err)
		}
	}
	r := mustStart(t, db, 1)
	for _, id := range []int64{dead, deadQueued} {
		j, err := r.Store().Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State != job.Interrupted || j.Error == "" || j.FinishedAt.IsZero() {
			t.Errorf("dead process's job %d after restart: %s %q", id, j.State, j.Error)
		}
	}
	if j, err := r.Store().Get(ctx, alive); err != nil || j.State != job.Running {
		t.Errorf("a live process's job after restart: %s %v", j.State, err)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	r := mustStart(t, db, 2)
	t.Run("SameProcess", func(t *testing.T) {
		var started sync.WaitGroup
		id := mustSubmit(t, r, blocking(&started))
		started.Wait()
		if ok, err := r.Cancel(context.Background(), actor.CLI("test"), id); err != nil || !ok {
			t.Fatalf("cancel: %v %v", ok, err)
		}
		j := waitFor(t, r.Store(), id, "cancelled", inState(job.Cancelled))
		if j.Error == "" {
			t.Error("cancelled job has no message")
		}
		if ok, err := r.Cancel(context.Background(), actor.CLI("test"), id); err != nil || ok {
			t.Errorf("cancel of an ended job: %v %v", ok, err)
		}
	})
	t.Run("OtherProcess", func(t *testing.T) {
		other := mustStart(t, db, 1)
		var started sync.WaitGroup
		id := mustSubmit(t, r, blocking(&started))
		started.Wait()
		if ok, err := other.Cancel(context.Background(), actor.CLI("test"), id); err != nil || !ok {
			t.Fatalf("cancel: %v %v", ok, err)
		}
		waitFor(t, r.Store(), id, "cancelled", inState(job.Cancelled))
	})
}

func TestRunInForeground(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	r := mustStart(t, db, 1)
	var shown atomic.Int64
	j, err := r.Run(context.Background(), job.Spec{Kind: job.KindCompare, Region: "", UserName: "cli:test", Title: "全国",
		Run: func(ctx context.Context, p *job.Progress) (int64, error) {
			for i := range 5 {
				p.Set(job.Status{Done: int64(i + 1), Total: 5, Message: "步骤"})
				time.Sleep(150 * time.Millisecond)
			}
			return 99, nil
		}}, func(st job.Status) { shown.Store(st.Done) })
	if err != nil {
		t.Fatal(err)
	}
	if j.State != job.Succeeded || j.ResultID != 99 || j.UserID != 0 || j.UserName != "cli:test" || j.Status.Done != 5 {
		t.Errorf("foreground job: %+v", j)
	}
	if shown.Load() == 0 {
		t.Error("progress was never shown")
	}

	// Ctrl-C (the caller's context ending) interrupts it.
	ctx, cancel := context.WithCancel(context.Background())
	var started sync.WaitGroup
	spec := job.Spec{Kind: job.KindCompare, Region: "", Run: blocking(&started)}
	go func() { started.Wait(); cancel() }()
	j, err = r.Run(ctx, spec, nil)
	if err == nil || j.State != job.Interrupted {
		t.Errorf("foreground job after Ctrl-C: %s %v", j.State, err)
	}
}

// submitFinally submits fn with a Finally that reports the state it heard
// on the returned channel.
func submitFinally(t *testing.T, r *job.Runner, fn job.Func) (int64, <-chan job.State) {
	t.Helper()
	ended := make(chan job.State, 2) // room for a wrong second call
	id, err := r.Submit(context.Background(), job.Spec{Kind: job.KindImport, UserName: "tester", Title: "t", Run: fn,
		Finally: func(st job.State) { ended <- st }})
	if err != nil {
		t.Fatal(err)
	}
	return id, ended
}

// finalState waits for a job's Finally and checks it is called only once.
func finalState(t *testing.T, ended <-chan job.State) job.State {
	t.Helper()
	var st job.State
	select {
	case st = <-ended:
	case <-time.After(30 * time.Second):
		t.Fatal("Finally was never called")
	}
	select {
	case again := <-ended:
		t.Errorf("Finally called twice: %s, then %s", st, again)
	case <-time.After(100 * time.Millisecond):
	}
	return st
}

// interrupt marks a job's row interrupted from outside, as the stale-job
// sweep does when its process missed heartbeats.
func interrupt(t *testing.T, db *pgxpool.Pool, id int64) {
	t.Helper()
	const q = `UPDATE job SET state = 'interrupted', error = '已中断', finished_at = now() WHERE id = $1`
	if _, err := db.Exec(context.Background(), q, id); err != nil {
		t.Fatal(err)
	}
}

// TestSweptJobStaysInterrupted: a job whose row was recorded interrupted
// while it ran is stopped at its next heartbeat, and what it returns after
// does not turn the row into succeeded (the person was told to start it
// again).
func TestSweptJobStaysInterrupted(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	r := mustStart(t, db, 1)
	started := make(chan struct{})
	stopped := make(chan error, 1)
	id, ended := submitFinally(t, r, func(ctx context.Context, p *job.Progress) (int64, error) {
		close(started)
		select {
		case <-ctx.Done():
			stopped <- ctx.Err()
		case <-time.After(30 * time.Second):
			stopped <- errors.New("the job's context was never cancelled")
		}
		return 42, nil // claims success regardless
	})
	<-started
	waitFor(t, r.Store(), id, "running", inState(job.Running))
	interrupt(t, db, id)
	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Errorf("swept job: %v", err)
	}
	if st := finalState(t, ended); st != job.Interrupted {
		t.Errorf("Finally heard %s, want interrupted", st)
	}
	j, err := r.Store().Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != job.Interrupted || j.ResultID != 0 {
		t.Errorf("swept job ended as %s with result %d", j.State, j.ResultID)
	}
}

// TestSweptQueuedJobDoesNotRun: a queued job recorded interrupted before a
// worker is free never runs.
func TestSweptQueuedJobDoesNotRun(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	r := mustStart(t, db, 1)
	release := make(chan struct{})
	first := mustSubmit(t, r, func(ctx context.Context, p *job.Progress) (int64, error) {
		<-release
		return 0, nil
	})
	waitFor(t, r.Store(), first, "running", inState(job.Running))
	var ran atomic.Bool
	queued, ended := submitFinally(t, r, func(context.Context, *job.Progress) (int64, error) {
		ran.Store(true)
		return 1, nil
	})
	interrupt(t, db, queued)
	close(release)
	waitFor(t, r.Store(), first, "succeeded", inState(job.Succeeded))
	if st := finalState(t, ended); st != job.Interrupted {
		t.Errorf("Finally heard %s, want interrupted", st)
	}
	if ran.Load() {
		t.Error("a job swept while queued ran")
	}
	if j, err := r.Store().Get(context.Background(), queued); err != nil || j.State != job.Interrupted || !j.StartedAt.IsZero() {
		t.Errorf("swept queued job: %s started %v (%v)", j.State, j.StartedAt, err)
	}
}

// TestFinallyRunsHoweverTheJobEnds: a job's Finally hears its final state
// once, also when it was cancelled while queued or panicked.
func TestFinallyRunsHoweverTheJobEnds(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	r := mustStart(t, db, 1)
	t.Run("Succeeded", func(t *testing.T) {
		id, ended := submitFinally(t, r, func(context.Context, *job.Progress) (int64, error) { return 3, nil })
		if st := finalState(t, ended); st != job.Succeeded {
			t.Errorf("Finally heard %s", st)
		}
		waitFor(t, r.Store(), id, "succeeded", inState(job.Succeeded))
	})
	t.Run("Panic", func(t *testing.T) {
		id, ended := submitFinally(t, r, func(context.Context, *job.Progress) (int64, error) { panic("boom") })
		if st := finalState(t, ended); st != job.Failed {
			t.Errorf("Finally heard %s", st)
		}
		waitFor(t, r.Store(), id, "failed", inState(job.Failed))
	})
	t.Run("CancelledWhileQueued", func(t *testing.T) {
		var started sync.WaitGroup
		busy := mustSubmit(t, r, blocking(&started))
		started.Wait()
		id, ended := submitFinally(t, r, func(context.Context, *job.Progress) (int64, error) {
			t.Error("a job cancelled while queued ran")
			return 0, nil
		})
		if ok, err := r.Cancel(context.Background(), actor.CLI("test"), id); err != nil || !ok {
			t.Fatalf("cancel: %v %v", ok, err)
		}
		if st := finalState(t, ended); st != job.Cancelled {
			t.Errorf("Finally heard %s", st)
		}
		if j, err := r.Store().Get(context.Background(), id); err != nil || j.State != job.Cancelled {
			t.Errorf("cancelled queued job: %s %v", j.State, err)
		}
		if _, err := r.Cancel(context.Background(), actor.CLI("test"), busy); err != nil {
			t.Fatal(err)
		}
	})
}
