package compare

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/source"
)

// Request starts a comparison run.
type Request struct {
	Region string
	AsOf   time.Time
	// Incremental re-links and re-classifies only the persons touched
	// since the region's last run and reuses that run's results for the
	// rest; it runs in full when it cannot (see incremental.go).
	Incremental bool
}

// Progress reports a running comparison's current step.
type Progress struct {
	step atomic.Value // string
}

// Step returns the current step's Chinese name.
func (p *Progress) Step() string {
	if s, ok := p.step.Load().(string); ok {
		return s
	}
	return "准备中"
}

func (p *Progress) set(s string) {
	if p != nil {
		p.step.Store(s)
	}
}

// RunResult is what a run did.
type RunResult struct {
	RunID                              int64
	Records, Linked, Review, Unmatched int
	Persons                            int
	Read                               int    // records read: all of them in a full run
	Incremental                        bool   // the run was incremental
	Note                               string // why a requested incremental run ran in full, or what it touched
	Duration                           time.Duration
	Steps                              []StepTime // how long each step took, each followed by its timed parts ("· …")
}

// StepTime is one step's duration, for the log and the benchmark.
type StepTime struct {
	Step     string
	Duration time.Duration
}

// Engine runs comparisons.
type Engine struct {
	db        *pgxpool.Pool
	maxSparse float64 // see maxSparseShare
}

// New returns an Engine over db.
func New(db *pgxpool.Pool) *Engine { return &Engine{db: db, maxSparse: maxSparseShare} }

// Run compares every current batch that concerns req.Region, in one
// transaction: links, classifications, the registry and the summaries all
// change together or not at all.
// The actor a must be allowed to compare and req.Region lie inside theirs;
// a refused or failed run leaves its audit line (and a failed run row), and
// if that cannot be written the error says so.
func (e *Engine) Run(ctx context.Context, a actor.Actor, req Request, prog *Progress) (RunResult, error) {
	start := time.Now()
	if err := a.CheckIn(actor.Compare, req.Region, "区划 "+req.Region); err != nil {
		return RunResult{}, audit.Reject(ctx, e.db, audit.For(a, audit.CompareRun, "region:"+req.Region), err)
	}
	if req.AsOf.IsZero() {
		var err error
		if req.AsOf, err = e.lastAsOf(ctx, req.Region); err != nil {
			return RunResult{}, e.recordFailure(a, Request{Region: req.Region, AsOf: time.Now()}, err)
		}
	}
	res, err := e.run(ctx, a, req, prog, start)
	if err != nil {
		err = explain(err)
		return RunResult{}, e.recordFailure(a, req, err)
	}
	return res, nil
}

func (e *Engine) run(ctx context.Context, a actor.Actor, req Request, prog *Progress, start time.Time) (RunResult, error) {
	conn, err := e.workConn(ctx)
	if err != nil {
		return RunResult{}, err
	}
	defer conn.Close(context.Background())
	// An incremental run's early written partition is dropped unless the
	// run commits: after the rollback below, which releases it.
	var r *run
	committed := false
	defer func() {
		if r != nil && !committed {
			r.dropGhosts()
			r.waitSnapshot() // whose transaction fails once the run's rolled back
		}
	}()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return RunResult{}, err
	}
	defer tx.Rollback(ctx)
	// One run per region at a time; a second waits rather than interleaving.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7001, hashtext($1))`, req.Region); err != nil {
		return RunResult{}, err
	}
	batches, err := currentBatches(ctx, tx, req.Region)
	if err != nil {
		return RunResult{}, err
	}
	if len(batches) == 0 {
		return RunResult{}, apperr.Invalidf("该区划还没有可比对的导入数据，请先导入")
	}
	var runID int64
	if err := tx.QueryRow(ctx, `INSERT INTO comparison_run (region_code, as_of, status, batches, created_by, created_name)
		VALUES ($1, $2, 'done', $3, $4, $5) RETURNING id`, req.Region, req.AsOf, batchIDs(batches), nullID(a.UserID), a.Username).Scan(&runID); err != nil {
		return RunResult{}, fmt.Errorf("insert run: %w", err)
	}
	r = &run{tx: tx, db: e.db, id: runID, req: req, by: a, batches: batches, maxSparse: e.maxSparse}
	times, err := r.execute(ctx, prog)
	if err != nil {
		return RunResult{}, err
	}
	res, err := r.finish(ctx, start)
	res.Steps = times
	if err != nil {
		return RunResult{}, err
	}
	prog.set("完成")
	if err := tx.Commit(ctx); err != nil {
		return RunResult{}, err
	}
	committed = true
	res.Steps = append(res.Steps, r.waitSnapshot()...)
	return res, nil
}

// lastAsOf is the as-of date of the region's last done run, or today
// (China Standard Time) when it has none: the date an incremental run
// keeps when none is given.
func (e *Engine) lastAsOf(ctx context.Context, region string) (time.Time, error) {
	var d time.Time
	err := e.db.QueryRow(ctx, `SELECT as_of FROM comparison_run WHERE region_code = $1 AND status = 'done' ORDER BY id DESC LIMIT 1`, region).Scan(&d)
	if errors.Is(err, pgx.ErrNoRows) {
		y, m, day := time.Now().In(time.FixedZone("CST", 8*3600)).Date()
		return time.Date(y, m, day, 0, 0, 0, 0, time.UTC), nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("last as-of date: %w", err)
	}
	return d, nil
}

// step is one named step of a run.
type step struct {
	name string
	fn   func(context.Context) error
}

// fullSteps read every record and compute everything.
func (r *run) fullSteps() []step {
	return []step{
		{"读取记录", r.load},
		{"模糊关联", r.fuzzyLinks},
		{"分类", r.classify},
		{"与上次比对", r.compareWithBase},
		{"更新登记库", r.updateRegistry},
		{"汇总", r.summarize},
		{"保存结果", r.save},
	}
}

// execute runs the run's steps: incremental ones when asked and possible,
// else (or when an incremental run finds too much changed) the full ones.
// Incremental steps write nothing before they are sure, so falling back
// midway is safe.
func (r *run) execute(ctx context.Context, prog *Progress) ([]StepTime, error) {
	if r.req.Incremental {
		times, err := r.runSteps(ctx, prog, r.incrementalSteps())
		var fb *fallback
		if !errors.As(err, &fb) {
			return times, err
		}
		r.dropGhosts()
		r.inc, r.state, r.note, r.ghosts, r.sparse, r.packing = nil, nil, fb.reason, nil, nil, nil
	}
	return r.runSteps(ctx, prog, r.fullSteps())
}

func (r *run) runSteps(ctx context.Context, prog *Progress, steps []step) ([]StepTime, error) {
	var times []StepTime
	for _, s := range steps {
		prog.set(s.name)
		t := time.Now()
		if err := s.fn(ctx); err != nil {
			var fb *fallback
			if errors.As(err, &fb) {
				return times, err
			}
			return times, &stepError{step: s.name, err: err}
		}
		times = append(times, StepTime{s.name, time.Since(t)})
		times = append(times, r.parts...)
		r.parts = r.parts[:0]
	}
	return times, nil
}

// workConn opens a connection of its own for a run, set up for reading
// each batch in line order without a sort (see state.load) and with memory
// for its joins and temporary tables (temp_buffers can only be set before
// a session first touches one, which a pooled connection may have done).
func (e *Engine) workConn(ctx context.Context) (*pgx.Conn, error) {
	cfg := e.db.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["temp_buffers"] = "1GB"
	cfg.RuntimeParams["work_mem"] = "512MB"
	cfg.RuntimeParams["maintenance_work_mem"] = "512MB"
	cfg.RuntimeParams["synchronize_seqscans"] = "off"
	cfg.RuntimeParams["DateStyle"] = "ISO, YMD" // dates as text compare with Go's YYYY-MM-DD
	cfg.RuntimeParams["max_parallel_workers_per_gather"] = "0"
	// A run sends the same query once per batch with other arguments: a
	// generic plan (chosen after five) cannot hash an = ANY($2) of the
	// thousands of IDs an incremental run reads, and compares each row
	// with every one of them (tens of seconds on a million persons).
	cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect for comparison: %w", err)
	}
	return conn, nil
}

// batch is an import batch taking part in a run.
type batch struct {
	ID       int64
	Kind     string
	Rows     int       // accepted rows
	Imported time.Time // when the extract reached the system
}

// currentBatches are the batches that concern region: inside it or above
// it (a city-wide extract serves each county), neither withdrawn nor
// superseded.
func currentBatches(ctx context.Context, tx pgx.Tx, region string) ([]batch, error) {
	q := `
		SELECT id, kind, rows_accepted, created_at FROM import_batch
		WHERE status = 'done' AND superseded_by IS NULL
		  AND (` + actor.InScope("region_code", "$1") + ` OR ` + actor.InScope("$1", "region_code") + `)
		ORDER BY id`
	rows, err := tx.Query(ctx, q, region)
	if err != nil {
		return nil, fmt.Errorf("current batches: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[batch])
}

func batchIDs(bs []batch) []int64 {
	ids := make([]int64, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	return ids
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// run holds one comparison's state while it runs.
type run struct {
	tx        pgx.Tx
	db        *pgxpool.Pool // for reads of committed rows beside tx's (see planIncremental)
	id        int64
	req       Request
	by        actor.Actor // who runs it
	batches   []batch
	state     *state
	order     []int32      // the persons with a linked record, in ID order
	pos       []int32      // persons index → position in order, -1 when not there
	results   []outcome    // their classification
	regions   []uint32     // and region (dict ids)
	base      int64        // the region's previous run, 0 when none
	changed   []bool       // by position in order: new since base, or a result unlike base's
	gone      []gone       // base's persons no longer there
	links     string       // this run's run_link partition, filled before it is attached
	persons   string       // this run's run_person partition, likewise
	inc       *incremental // an incremental run's base and touched persons; nil for a full run
	ghosts    *ghostTable  // an incremental run's early written partition (see incremental_save.go)
	sparse    *sparseRun   // an incremental run that writes an overlay of its anchor (see incremental_sparse.go)
	maxSparse float64      // see maxSparseShare
	note      string       // see RunResult.Note
	parts     []StepTime   // the current step's parts timed so far (see lap)

	// The run's snapshot, being packed (see startSnapshot) and saved (see
	// writeSnapshot).
	packing chan packed
	saving  chan snapshotSaved
}

// lap records a part of the current step that began at t, for the log
// and the benchmark, and returns the time the next part begins.
func (r *run) lap(name string, t time.Time) time.Time {
	now := time.Now()
	r.parts = append(r.parts, StepTime{"· " + name, now.Sub(t)})
	return now
}

// exec runs statements in order, stopping at the first error.
func (r *run) exec(ctx context.Context, stmts ...string) error {
	for _, q := range stmts {
		if _, err := r.tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("%.60s…: %w", q, err)
		}
	}
	return nil
}

// load reads the run's records, with the reviewers' decisions for them.
func (r *run) load(ctx context.Context) error {
	decisions, err := r.decisions(ctx)
	if err != nil {
		return err
	}
	r.state = newState(r.req.Region, r.batches, decisions)
	err = r.state.load(ctx, r.tx, false)
	if errors.Is(err, errUnordered) {
		r.state = newState(r.req.Region, r.batches, decisions)
		err = r.state.load(ctx, r.tx, true)
	}
	return err
}

func (r *run) decisions(ctx context.Context) (map[recordKey]decision, error) {
	rows, err := r.tx.Query(ctx, `SELECT batch_id, line, coalesce(id_number, '') FROM link_decision WHERE batch_id = ANY($1)`, batchIDs(r.batches))
	if err != nil {
		return nil, fmt.Errorf("decisions: %w", err)
	}
	defer rows.Close()
	out := map[recordKey]decision{}
	for rows.Next() {
		var k recordKey
		var d decision
		if err := rows.Scan(&k.batch, &k.line, &d.id); err != nil {
			return nil, err
		}
		out[k] = d
	}
	return out, rows.Err()
}

func kindPriority(kind string) int {
	switch source.Kind(kind) {
	case source.Hukou:
		return 1
	case source.Resident:
		return 2
	}
	return 3
}

// save writes the run's persons and links and attaches their partitions.
// Attaching builds each partition's indexes in one pass, now that they
// are full; statistics right away, or the pages read just after a run are
// planned blind until autovacuum gets round to the new tables.
func (r *run) save(ctx context.Context) error {
	if err := r.writeSnapshot(ctx); err != nil {
		return err
	}
	t := time.Now()
	if _, err := r.writePersons(ctx, nil); err != nil {
		return err
	}
	t = r.lap("写入人员", t)
	return r.saveLinks(ctx, t, false)
}

// saveLinks ends a save once the run's persons are written (to r.persons):
// it writes the links and the base's persons gone, runs the statements
// before, attaches both partitions (which builds their indexes, now that
// they are full) and analyzes them; the persons' table only when it was
// not analyzed as it was written.
func (r *run) saveLinks(ctx context.Context, t time.Time, analyzed bool, before ...string) error {
	if err := r.writeLinks(ctx); err != nil {
		return err
	}
	if err := r.writeGone(ctx); err != nil {
		return err
	}
	t = r.lap("写入关联", t)
	err := r.exec(ctx, append(before,
		fmt.Sprintf(`ALTER TABLE run_link ATTACH PARTITION %s FOR VALUES IN (%d)`, r.links, r.id),
		fmt.Sprintf(`ALTER TABLE run_person_row ATTACH PARTITION %s FOR VALUES IN (%d)`, r.persons, r.id))...)
	if err != nil {
		return err
	}
	t = r.lap("挂接分区（建立索引）", t)
	stmts := []string{`ANALYZE ` + r.links}
	if !analyzed {
		stmts = append(stmts, `ANALYZE `+r.persons+` (`+personStatCols+`)`)
	}
	err = r.exec(ctx, stmts...)
	r.lap("统计", t)
	return err
}

// finish records the run's counts.
func (r *run) finish(ctx context.Context, start time.Time) (RunResult, error) {
	s := r.state
	c := RunResult{RunID: r.id, Records: s.records, Read: s.records, Linked: len(s.linkPerson), Persons: len(r.order),
		Incremental: r.inc != nil, Note: r.note}
	for _, p := range s.pending {
		switch {
		case p.method == "review":
			c.Review++
		case p.linked == "":
			c.Unmatched++
		}
	}
	mode := "full"
	if r.inc != nil {
		// An incremental run read only some records: every record is
		// either linked or still pending.
		mode, c.Records = "incremental", 0
		for _, b := range r.batches {
			c.Records += b.Rows
		}
		c.Linked = c.Records - c.Review - c.Unmatched
	}
	c.Duration = time.Since(start)
	const upd = `UPDATE comparison_run SET records = $2, linked = $3, review = $4, unmatched = $5, persons = $6, duration_ms = $7,
		base_run = $8, mode = $9, mode_note = $10, anchor = $11, event_mark = (SELECT coalesce(max(id), 0) FROM person_event) WHERE id = $1`
	if _, err := r.tx.Exec(ctx, upd, r.id, c.Records, c.Linked, c.Review, c.Unmatched, c.Persons, c.Duration.Milliseconds(),
		nullID(r.base), mode, r.note, r.anchorID()); err != nil {
		return RunResult{}, err
	}
	e := audit.For(r.by, audit.CompareRun, "run:"+strconv.FormatInt(r.id, 10))
	e.Detail = fmt.Sprintf("%s 基准日 %s 记录%d 关联%d 待审核%d 未匹配%d 人员%d", r.req.Region, r.req.AsOf.Format("2006-01-02"),
		c.Records, c.Linked, c.Review, c.Unmatched, c.Persons)
	if r.inc != nil {
		e.Detail += " 增量比对（" + r.note + "）"
	} else if r.note != "" {
		e.Detail += " 全量比对（" + r.note + "）"
	}
	return c, audit.Record(ctx, r.tx, e)
}

// recordFailure writes a failed run row and its audit line in one
// transaction outside the failed one, and returns cause (or, if they cannot
// be written, why not). A cancelled run (shutdown) is left to the caller.
func (e *Engine) recordFailure(a actor.Actor, req Request, cause error) error {
	if errors.Is(cause, context.Canceled) {
		return cause
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ae := audit.For(a, audit.CompareRun, "region:"+req.Region)
	ae.Result, ae.Detail = "failed", apperr.Message(cause)
	err := pgx.BeginFunc(ctx, e.db, func(tx pgx.Tx) error {
		// A run row needs an existing region; a run of an unknown one is only audited.
		const q = `INSERT INTO comparison_run (region_code, as_of, status, error, created_by, created_name)
			SELECT $1, $2, 'failed', $3, $4, $5 WHERE EXISTS (SELECT 1 FROM region WHERE code = $1)`
		if _, err := tx.Exec(ctx, q,
			req.Region, req.AsOf, apperr.Message(cause), nullID(a.UserID), a.Username); err != nil {
			return fmt.Errorf("record failed run: %w", err)
		}
		return audit.Record(ctx, tx, ae)
	})
	if err != nil {
		return fmt.Errorf("%w (after: %v)", err, cause)
	}
	return cause
}
