// Package job runs long work — imports, comparisons — as rows in the job
// table: a bounded runner in the server, the same code in the foreground
// for the CLI, progress people can watch, and a state that survives the
// process. A job is never retried: when its process stops, the job is
// recorded as interrupted and the person who started it starts it again
// (an import's uploaded file is gone by then, so a retry could not work).
package job

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/list"
)

// Kinds of job; the web layer maps each to its result page.
const (
	KindImport  = "import"
	KindCompare = "compare"
	KindSurvey  = "survey" // publishing or topping up a survey round
)

// State is where a job is in its life.
type State string

// Job states. Queued and running are active; the rest are final.
const (
	Queued      State = "queued"
	Running     State = "running"
	Succeeded   State = "succeeded"
	Failed      State = "failed"
	Cancelled   State = "cancelled"
	Interrupted State = "interrupted"
)

// Final reports whether the job has ended.
func (s State) Final() bool { return s != Queued && s != Running }

// Label is the state in Chinese.
func (s State) Label() string {
	switch s {
	case Queued:
		return "排队中"
	case Running:
		return "运行中"
	case Succeeded:
		return "已完成"
	case Failed:
		return "失败"
	case Cancelled:
		return "已取消"
	case Interrupted:
		return "已中断"
	}
	return string(s)
}

// Messages recorded for jobs that did not end by themselves.
const (
	msgCancelled   = "任务已被取消，未保存任何结果"
	msgInterrupted = "服务已停止，任务被中断，未保存任何结果，请重新发起"
)

// Status is a job's progress at a moment: Done of Total Units (Total 0 when
// not known) and what it is doing.
type Status struct {
	Done, Total int64
	Unit        string
	Message     string
}

// Progress is what a running job reports through; safe for concurrent use.
type Progress struct {
	mu     sync.Mutex
	st     Status
	follow func() Status
}

// Set records the job's progress.
func (p *Progress) Set(st Status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st = st
}

// Follow makes the progress read from f whenever it is reported, for work
// that keeps its own counters.
func (p *Progress) Follow(f func() Status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.follow = f
}

// Get returns the current progress.
func (p *Progress) Get() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.follow != nil {
		return p.follow()
	}
	return p.st
}

// Func is a job's work. It returns the id of what it made (a batch, a run),
// and must stop soon after ctx ends.
type Func func(ctx context.Context, p *Progress) (resultID int64, err error)

// Spec describes a job to run.
type Spec struct {
	Kind     string
	Region   string
	UserID   int64 // 0 for the CLI
	UserName string
	Title    string // what it works on, e.g. the file name
	Run      Func
	// Finally, when set, is called once with the job's final state as
	// recorded, however it ended: also when it was cancelled or interrupted
	// while queued, or panicked. It releases what the job holds (an
	// uploaded file) that nothing else would.
	Finally func(State)
}

// Job is a job as recorded.
type Job struct {
	ID         int64
	Kind       string
	Region     string
	UserID     int64 // 0 when started from the CLI
	UserName   string
	Title      string
	State      State
	Status     Status
	Error      string
	ResultID   int64
	CreatedAt  time.Time
	StartedAt  time.Time // zero while queued
	FinishedAt time.Time // zero while active
}

// Elapsed is how long the job has run (or ran).
func (j Job) Elapsed(now time.Time) time.Duration {
	if j.StartedAt.IsZero() {
		return 0
	}
	if !j.FinishedAt.IsZero() {
		return j.FinishedAt.Sub(j.StartedAt)
	}
	return now.Sub(j.StartedAt)
}

// Store reads and changes job rows.
type Store struct {
	db *pgxpool.Pool
}

// NewStore returns a Store over db.
func NewStore(db *pgxpool.Pool) *Store { return &Store{db: db} }

// Get returns a job; the caller decides who may see it.
func (s *Store) Get(ctx context.Context, id int64) (Job, error) {
	const q = `
		SELECT id, kind, region_code, coalesce(user_id, 0), user_name, title, state,
		       done, total, unit, message, error, coalesce(result_id, 0),
		       created_at, started_at, finished_at
		FROM job WHERE id = $1`
	var (
		j                 Job
		started, finished *time.Time
	)
	err := s.db.QueryRow(ctx, q, id).Scan(&j.ID, &j.Kind, &j.Region, &j.UserID, &j.UserName, &j.Title, &j.State,
		&j.Status.Done, &j.Status.Total, &j.Status.Unit, &j.Status.Message, &j.Error, &j.ResultID,
		&j.CreatedAt, &started, &finished)
	if errors.Is(err, pgx.ErrNoRows) {
		return Job{}, apperr.NotFoundf("任务 #%d 不存在", id)
	}
	if err != nil {
		return Job{}, fmt.Errorf("get job %d: %w", id, err)
	}
	return j.withTimes(started, finished), nil
}

// Find returns job id as actor a may see it: a job outside a's region
// does not exist for them.
func (s *Store) Find(ctx context.Context, a actor.Actor, id int64) (Job, error) {
	if err := a.Check(actor.JobRead); err != nil {
		return Job{}, err
	}
	j, err := s.Get(ctx, id)
	if err == nil && !a.Sees(j.Region) {
		err = apperr.NotFoundf("任务 #%d 不存在", id)
	}
	return j, err
}

// List returns the jobs inside a's region, newest first, and how many
// there are.
func (s *Store) List(ctx context.Context, a actor.Actor, lq list.Query) (list.Page[Job], error) {
	if err := a.Check(actor.JobRead); err != nil {
		return list.Page[Job]{}, err
	}
	q := `
		SELECT id, kind, region_code, coalesce(user_id, 0), user_name, title, state,
		       done, total, unit, message, error, coalesce(result_id, 0),
		       created_at, started_at, finished_at, count(*) OVER ()
		FROM job WHERE ` + actor.InScope("region_code", "$1") + `
		ORDER BY id DESC LIMIT $2 OFFSET $3`
	scope := a.Region
	rows, err := s.db.Query(ctx, q, scope, lq.Limit(), lq.Offset())
	if err != nil {
		return list.Page[Job]{}, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	var (
		out   []Job
		total int
	)
	for rows.Next() {
		var (
			j                 Job
			started, finished *time.Time
		)
		if err := rows.Scan(&j.ID, &j.Kind, &j.Region, &j.UserID, &j.UserName, &j.Title, &j.State,
			&j.Status.Done, &j.Status.Total, &j.Status.Unit, &j.Status.Message, &j.Error, &j.ResultID,
			&j.CreatedAt, &started, &finished, &total); err != nil {
			return list.Page[Job]{}, fmt.Errorf("list jobs: %w", err)
		}
		out = append(out, j.withTimes(started, finished))
	}
	if err := rows.Err(); err != nil {
		return list.Page[Job]{}, fmt.Errorf("list jobs: %w", err)
	}
	if len(out) == 0 && lq.Offset() > 0 {
		// past the last page: count alone
		err = s.db.QueryRow(ctx, `SELECT count(*) FROM job WHERE `+actor.InScope("region_code", "$1"), scope).Scan(&total)
	}
	return list.Of(out, total, lq), err
}

func (j Job) withTimes(started, finished *time.Time) Job {
	if started != nil {
		j.StartedAt = *started
	}
	if finished != nil {
		j.FinishedAt = *finished
	}
	return j
}

// CanCancel reports whether a may cancel j: the person who started it may,
// and so may an administrator whose region holds it.
func CanCancel(a actor.Actor, j Job) bool {
	return a.Sees(j.Region) && (a.May(actor.UsersManage) || (j.UserID != 0 && j.UserID == a.UserID))
}

// RequestCancel asks, for actor a, whichever process runs the job to
// cancel it, and audits the request in the same transaction; it reports
// false when the job has already ended.
func (s *Store) RequestCancel(ctx context.Context, a actor.Actor, id int64) (bool, error) {
	e := audit.For(a, audit.JobCancel, "job:"+strconv.FormatInt(id, 10))
	j, err := s.Find(ctx, a, id)
	if err != nil {
		return false, err
	}
	if j.State.Final() {
		return false, nil // nothing left to cancel, whoever asks
	}
	if !CanCancel(a, j) {
		return false, audit.Reject(ctx, s.db, e, apperr.Forbiddenf("只有发起人或管理员可以取消该任务"))
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("cancel job %d: %w", id, err)
	}
	defer tx.Rollback(ctx)
	const q = `UPDATE job SET cancel_requested = true WHERE id = $1 AND state IN ('queued', 'running')`
	tag, err := tx.Exec(ctx, q, id)
	if err != nil {
		return false, fmt.Errorf("cancel job %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	e.Detail = j.Kind + " " + j.Title
	if err := audit.Record(ctx, tx, e); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}

// staleAfter is how long an active job may go without its process's
// heartbeat before it counts as interrupted (its process died unseen).
const staleAfter = 20 * time.Second

// interruptStale marks interrupted the active jobs whose process stopped
// beating: after a crash, a restart shows them as interrupted, never as
// running forever.
func (s *Store) interruptStale(ctx context.Context) (int64, error) {
	const q = `
		UPDATE job SET state = 'interrupted', error = $1, finished_at = now()
		WHERE state IN ('queued', 'running') AND heartbeat_at < now() - make_interval(secs => $2)`
	tag, err := s.db.Exec(ctx, q, msgInterrupted, staleAfter.Seconds())
	if err != nil {
		return 0, fmt.Errorf("interrupt stale jobs: %w", err)
	}
	return tag.RowsAffected(), nil
}
