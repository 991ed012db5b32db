package job

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
)

// ErrCancelled is the cause of a job's context when someone cancelled it.
var ErrCancelled = errors.New("job cancelled")

// errStopped is the cause of every job's context once the runner stops.
var errStopped = errors.New("job runner stopped")

// errLost is the cause of a job's context when its row ended without it:
// the stale-job sweep or a stopping runner recorded it as interrupted, so
// the person was told to start it again and it must not go on.
var errLost = errors.New("job row ended elsewhere")

// How often a runner writes its jobs' progress, and at least how often it
// beats (which is also how soon it sees a cancel asked for elsewhere).
const (
	flushEvery = 300 * time.Millisecond
	beatEvery  = 2 * time.Second
	sweepEvery = 10 * time.Second
)

// Runner runs jobs, at most Workers at a time, each on a context derived
// from the runner's own: Stop cancels them all and records them as
// interrupted.
type Runner struct {
	store *Store
	db    *pgxpool.Pool
	log   *slog.Logger
	owner string // names this process in job.owner
	sem   chan struct{}

	ctx      context.Context
	stop     context.CancelCauseFunc
	wg       sync.WaitGroup // the jobs
	loopDone chan struct{}
	stopOnce sync.Once

	mu     sync.Mutex
	active map[int64]*active
}

// active is a job of this runner that has not ended.
type active struct {
	cancel context.CancelCauseFunc
	prog   *Progress
	last   Status
	beat   time.Time
}

// NewRunner returns a runner over db running at most workers jobs at once
// (at least one). Start it before submitting.
func NewRunner(db *pgxpool.Pool, log *slog.Logger, workers int) *Runner {
	b := make([]byte, 4)
	rand.Read(b)
	host, _ := os.Hostname()
	return &Runner{store: NewStore(db), db: db, log: log, sem: make(chan struct{}, max(workers, 1)),
		owner:  fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b)),
		active: map[int64]*active{}}
}

// Store returns the runner's job store.
func (r *Runner) Store() *Store { return r.store }

// Start marks interrupted the jobs a dead process left active, then starts
// writing progress. Jobs' contexts derive from ctx.
func (r *Runner) Start(ctx context.Context) error {
	r.ctx, r.stop = context.WithCancelCause(ctx)
	r.loopDone = make(chan struct{})
	n, err := r.store.interruptStale(ctx)
	if n > 0 {
		r.log.Warn("jobs left running by a stopped process marked interrupted", "jobs", n)
	}
	go r.loop()
	return err
}

// Stop cancels every job, waits for them to end (they are recorded as
// interrupted) and stops the runner. Calling it again does nothing.
func (r *Runner) Stop() {
	r.stopOnce.Do(func() {
		r.stop(errStopped)
		done := make(chan struct{})
		go func() { r.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			r.log.Error("jobs did not stop within 30 s; recording them as interrupted")
		}
		<-r.loopDone
		// A job that did not end in time is recorded here; one that ended
		// is untouched (its state is final).
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		const q = `
			UPDATE job SET state = 'interrupted', error = $2, finished_at = now()
			WHERE owner = $1 AND state IN ('queued', 'running')`
		if _, err := r.db.Exec(ctx, q, r.owner, msgInterrupted); err != nil {
			r.log.Error("record interrupted jobs", "err", err)
		}
	})
}

// Submit records a job as queued and runs it in the background; it
// returns the job's id at once.
func (r *Runner) Submit(ctx context.Context, spec Spec) (int64, error) {
	id, jctx, a, err := r.begin(ctx, spec)
	if err != nil {
		return 0, err
	}
	go func() { _ = r.work(jctx, id, spec, a) }() // the job's row records its error
	return id, nil
}

// Run runs a job in the calling goroutine (the CLI's foreground), calling
// show with its progress every so often when show is not nil. It returns
// the job as recorded and the job function's error.
func (r *Runner) Run(ctx context.Context, spec Spec, show func(Status)) (Job, error) {
	id, jctx, a, err := r.begin(ctx, spec)
	if err != nil {
		return Job{}, err
	}
	// The caller's context ends the job too (Ctrl-C interrupts it).
	defer context.AfterFunc(ctx, func() { a.cancel(context.Cause(ctx)) })()
	if show != nil {
		stop, stopped := make(chan struct{}), make(chan struct{})
		defer func() { close(stop); <-stopped }()
		go func() {
			defer close(stopped)
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					show(a.prog.Get())
				}
			}
		}()
	}
	err = r.work(jctx, id, spec, a)
	j, gerr := r.store.Get(context.WithoutCancel(ctx), id)
	if gerr != nil && err == nil {
		err = gerr
	}
	return j, err
}

// Cancel cancels a job: at once when this runner runs it, else through its
// row, which the process running it reads on its next beat. It reports
// false when the job had already ended.
func (r *Runner) Cancel(ctx context.Context, a actor.Actor, id int64) (bool, error) {
	ok, err := r.store.RequestCancel(ctx, a, id)
	if err != nil || !ok {
		return ok, err
	}
	r.mu.Lock()
	run := r.active[id]
	r.mu.Unlock()
	if run != nil {
		run.cancel(ErrCancelled)
	}
	return true, nil
}

// begin records a queued job and registers it with the runner.
func (r *Runner) begin(ctx context.Context, spec Spec) (int64, context.Context, *active, error) {
	if r.ctx == nil || r.ctx.Err() != nil {
		return 0, nil, nil, apperr.Conflictf("服务正在停止，请稍后再试")
	}
	const q = `
		INSERT INTO job (kind, region_code, user_id, user_name, title, owner)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`
	var userID *int64
	if spec.UserID != 0 {
		userID = &spec.UserID
	}
	var id int64
	if err := r.db.QueryRow(ctx, q, spec.Kind, spec.Region, userID, spec.UserName, spec.Title, r.owner).Scan(&id); err != nil {
		return 0, nil, nil, fmt.Errorf("record job: %w", err)
	}
	jctx, cancel := context.WithCancelCause(r.ctx)
	a := &active{cancel: cancel, prog: &Progress{}, beat: time.Now()}
	r.mu.Lock()
	r.active[id] = a
	r.mu.Unlock()
	r.wg.Add(1)
	return id, jctx, a, nil
}

// work waits for a free worker, runs the job and records how it ended,
// then calls the spec's Finally with the state recorded.
func (r *Runner) work(ctx context.Context, id int64, spec Spec, a *active) (err error) {
	defer r.wg.Done()
	state := Failed // what Finally hears if finish itself panics
	defer func() {
		r.mu.Lock()
		delete(r.active, id)
		r.mu.Unlock()
		a.cancel(nil)
		r.finally(id, spec, state)
	}()
	select {
	case r.sem <- struct{}{}:
		defer func() { <-r.sem }()
	case <-ctx.Done():
		err = context.Cause(ctx)
		state = r.finish(ctx, id, spec, a, 0, err)
		return err
	}
	var result int64
	if err = r.markRunning(ctx, id); errors.Is(err, errLost) {
		a.cancel(err) // recorded as the interruption it already is
	} else if err == nil {
		result, err = r.call(ctx, spec, a)
	}
	state = r.finish(ctx, id, spec, a, result, err)
	return err
}

// finally calls the spec's Finally, keeping a panic in it from taking the
// process down.
func (r *Runner) finally(id int64, spec Spec, state State) {
	if spec.Finally == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("job's final step panicked", "job", id, "kind", spec.Kind, "panic", p)
		}
	}()
	spec.Finally(state)
}

// call runs the job function, turning a panic into a failure so one bad
// job does not take the server down.
func (r *Runner) call(ctx context.Context, spec Spec, a *active) (result int64, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job panicked: %v", p)
		}
	}()
	return spec.Run(ctx, a.prog)
}

// markRunning records the job as running; errLost when its row is no
// longer queued (swept as interrupted while it waited), so it never runs.
func (r *Runner) markRunning(ctx context.Context, id int64) error {
	const q = `UPDATE job SET state = 'running', started_at = now(), heartbeat_at = now() WHERE id = $1 AND state = 'queued'`
	tag, err := r.db.Exec(ctx, q, id)
	if err != nil {
		return fmt.Errorf("start job %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		r.log.Warn("job ended before it started; not running it", "job", id)
		return errLost
	}
	return nil
}

// finish records a job's end: cancelled or interrupted when its context
// was ended from outside, else failed or succeeded by its own account. A
// row already final (interrupted by the sweep or a stopping runner) is
// left as it is, and finish returns the state the row holds.
func (r *Runner) finish(ctx context.Context, id int64, spec Spec, a *active, result int64, err error) State {
	state, msg := Succeeded, ""
	switch {
	case err == nil:
	case ctx.Err() != nil && errors.Is(context.Cause(ctx), ErrCancelled):
		state, msg = Cancelled, msgCancelled
	case ctx.Err() != nil:
		state, msg = Interrupted, msgInterrupted
	default:
		state, msg = Failed, apperr.Message(err)
		if apperr.KindOf(err) == apperr.Internal {
			r.log.Error("job failed", "job", id, "kind", spec.Kind, "region", spec.Region, "err", err)
		}
	}
	var resultID *int64
	if err == nil && result != 0 {
		resultID = &result
	}
	st := a.prog.Get()
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	const q = `
		UPDATE job SET state = $2, error = $3, result_id = $4, finished_at = now(), heartbeat_at = now(),
		       done = $5, total = $6, unit = $7, message = $8
		WHERE id = $1 AND state IN ('queued', 'running')`
	tag, err := r.db.Exec(wctx, q, id, state, msg, resultID, st.Done, st.Total, st.Unit, st.Message)
	switch {
	case err != nil:
		// The row stays active; the sweep records it interrupted.
		r.log.Error("record job end", "job", id, "state", state, "err", err)
		return Interrupted
	case tag.RowsAffected() == 0:
		// Only the sweep and a stopping runner end a row from outside.
		if state != Interrupted {
			r.log.Warn("job ended after it was recorded as interrupted; its end is not recorded", "job", id, "state", state)
		}
		return Interrupted
	}
	return state
}

// loop writes progress, beats, and sweeps jobs of dead processes until the
// runner stops.
func (r *Runner) loop() {
	defer close(r.loopDone)
	flush := time.NewTicker(flushEvery)
	defer flush.Stop()
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-flush.C:
			r.flush()
		case <-sweep.C:
			if _, err := r.store.interruptStale(r.ctx); err != nil && r.ctx.Err() == nil {
				r.log.Warn("sweep stale jobs", "err", err)
			}
		}
	}
}

// flush writes each active job's progress when it changed, or beats when a
// beat is due, and cancels the jobs someone asked to cancel.
func (r *Runner) flush() {
	r.mu.Lock()
	ids := make([]int64, 0, len(r.active))
	jobs := make([]*active, 0, len(r.active))
	for id, a := range r.active {
		ids, jobs = append(ids, id), append(jobs, a)
	}
	r.mu.Unlock()
	const q = `
		UPDATE job SET done = $2, total = $3, unit = $4, message = $5, heartbeat_at = now()
		WHERE id = $1 AND state IN ('queued', 'running')
		RETURNING cancel_requested`
	for i, a := range jobs {
		st := a.prog.Get()
		if st == a.last && time.Since(a.beat) < beatEvery {
			continue
		}
		var cancelled bool
		err := r.db.QueryRow(r.ctx, q, ids[i], st.Done, st.Total, st.Unit, st.Message).Scan(&cancelled)
		if errors.Is(err, pgx.ErrNoRows) {
			// The row is final: the job just ended (cancelling its context
			// again does nothing), or the sweep recorded it interrupted and
			// the person was told to start it again, so it must stop.
			a.cancel(errLost)
			continue
		}
		if err != nil {
			if r.ctx.Err() == nil {
				r.log.Warn("record job progress", "job", ids[i], "err", err) // the next beat retries
			}
			continue
		}
		a.last, a.beat = st, time.Now()
		if cancelled {
			a.cancel(ErrCancelled)
		}
	}
}
