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

	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/source"
)

// Request starts a comparison run.
type Request struct {
	Region   string
	AsOf     time.Time
	UserID   int64
	UserName string
	IP       string
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
	Duration                           time.Duration
	Steps                              []StepTime // how long each step took
}

// StepTime is one step's duration, for the log and the benchmark.
type StepTime struct {
	Step     string
	Duration time.Duration
}

// Engine runs comparisons.
type Engine struct {
	db *pgxpool.Pool
}

// New returns an Engine over db.
func New(db *pgxpool.Pool) *Engine { return &Engine{db: db} }

// Run compares every current batch that concerns req.Region, in one
// transaction: links, classifications, the registry and the summaries all
// change together or not at all.
func (e *Engine) Run(ctx context.Context, req Request, prog *Progress) (RunResult, error) {
	start := time.Now()
	res, err := e.run(ctx, req, prog, start)
	if err != nil {
		e.recordFailure(req, err)
		return RunResult{}, err
	}
	return res, nil
}

func (e *Engine) run(ctx context.Context, req Request, prog *Progress, start time.Time) (RunResult, error) {
	conn, err := e.workConn(ctx)
	if err != nil {
		return RunResult{}, err
	}
	defer conn.Close(context.Background())
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
		VALUES ($1, $2, 'done', $3, $4, $5) RETURNING id`, req.Region, req.AsOf, batchIDs(batches), nullID(req.UserID), req.UserName).Scan(&runID); err != nil {
		return RunResult{}, fmt.Errorf("insert run: %w", err)
	}
	r := &run{tx: tx, id: runID, req: req, batches: batches}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"整理身份信息", r.identities},
		{"精确关联", r.exactLinks},
		{"模糊关联", r.fuzzyLinks},
		{"分类", r.classify},
		{"更新登记库", r.updateRegistry},
		{"汇总", r.summarize},
	}
	var times []StepTime
	for _, s := range steps {
		prog.set(s.name)
		t := time.Now()
		if err := s.fn(ctx); err != nil {
			return RunResult{}, fmt.Errorf("%s: %w", s.name, err)
		}
		times = append(times, StepTime{s.name, time.Since(t)})
	}
	t := time.Now()
	res, err := r.finish(ctx, start)
	res.Steps = append(times, StepTime{"保存", time.Since(t)})
	if err != nil {
		return RunResult{}, err
	}
	prog.set("完成")
	return res, tx.Commit(ctx)
}

// workConn opens a connection of its own for a run: a comparison sorts and
// groups millions of rows in temporary tables, and the memory for that
// (temp_buffers) can only be set before a session first touches one, which
// a pooled connection may already have done.
func (e *Engine) workConn(ctx context.Context) (*pgx.Conn, error) {
	cfg := e.db.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["temp_buffers"] = "1GB"
	cfg.RuntimeParams["work_mem"] = "512MB"
	cfg.RuntimeParams["maintenance_work_mem"] = "512MB"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect for comparison: %w", err)
	}
	return conn, nil
}

// batch is an import batch taking part in a run.
type batch struct {
	ID   int64
	Kind string
}

// currentBatches are the batches that concern region: inside it or above
// it (a city-wide extract serves each county), neither withdrawn nor
// superseded.
func currentBatches(ctx context.Context, tx pgx.Tx, region string) ([]batch, error) {
	const q = `
		SELECT id, kind FROM import_batch
		WHERE status = 'done' AND superseded_by IS NULL
		  AND (region_code LIKE $1 || '%' OR $1 LIKE region_code || '%')
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
	tx      pgx.Tx
	id      int64
	req     Request
	batches []batch
	counts  RunResult
	links   string // this run's run_link partition, filled before it is attached
	persons string // this run's run_person partition, likewise
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

// identities builds the run's working tables: the batches with their
// kinds, and one identity per valid ID, taken from 户籍人口 first, then
// 居住人口, then the other kinds (earliest batch and row first).
func (r *run) identities(ctx context.Context) error {
	// Working tables live in a schema of the run's own, dropped with it:
	// unlike temporary tables, PostgreSQL may scan them with parallel workers.
	work := fmt.Sprintf("cmp_run_%d", r.id)
	if err := r.exec(ctx, `CREATE SCHEMA `+work, `SET LOCAL search_path = `+work+`, public`,
		`CREATE UNLOGGED TABLE cmp_batch (id bigint PRIMARY KEY, kind text NOT NULL, priority int NOT NULL)`); err != nil {
		return err
	}
	rows := make([][]any, len(r.batches))
	for i, b := range r.batches {
		rows[i] = []any{b.ID, b.Kind, kindPriority(b.Kind)}
	}
	if _, err := r.tx.CopyFrom(ctx, pgx.Identifier{"cmp_batch"}, []string{"id", "kind", "priority"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	// Without statistics the planner guesses a large cmp_batch and sorts
	// millions of records to merge-join them with it.
	// Without statistics the planner guesses a large cmp_batch and sorts
	// millions of records to merge-join them with it.
	return r.exec(ctx, `ANALYZE cmp_batch`, `
		CREATE UNLOGGED TABLE cmp_ident AS
		SELECT DISTINCT ON (s.id_norm) s.id_norm AS id_number, coalesce(s.name, '') AS name, s.sex, s.birth,
		       s.household, s.relation, s.hukou_region, s.pop_status, b.kind
		FROM source_record s JOIN cmp_batch b ON b.id = s.batch_id
		WHERE s.id_damage IS NULL AND s.id_norm IS NOT NULL
		ORDER BY s.id_norm, b.priority, (s.name IS NULL), s.batch_id, s.line`,
		`ALTER TABLE cmp_ident ADD PRIMARY KEY (id_number)`,
		`ANALYZE cmp_ident`)
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

// exactLinks writes the run's link table with one row per record of the
// current batches, carrying the record's facts so that nothing later has
// to join the records again. A record is linked here when its ID is valid
// and its name agrees with (or is blank against) the person's, or when a
// reviewer decided it; every other record is left 'pending'.
func (r *run) exactLinks(ctx context.Context) error {
	r.links = fmt.Sprintf("public.run_link_%d", r.id)
	return r.exec(ctx,
		fmt.Sprintf(`CREATE TABLE %s (LIKE run_link INCLUDING DEFAULTS, CHECK (run_id = %d))`, r.links, r.id),
		fmt.Sprintf(`
		INSERT INTO %[1]s (run_id, batch_id, line, id_number, method, name_diff, reason, kind, id_norm, id_damage, name,
		                   region_code, hukou_region, pop_status, scheme, enroll_status, pay_status, death_date)
		SELECT %[2]d, s.batch_id, s.line,
		       CASE WHEN d.batch_id IS NOT NULL THEN d.id_number WHEN x.exact THEN s.id_norm END,
		       CASE WHEN d.batch_id IS NOT NULL THEN 'reviewed' WHEN x.exact THEN 'exact' ELSE 'pending' END,
		       false,
		       CASE WHEN d.batch_id IS NOT NULL AND d.id_number IS NULL THEN '审核认定无匹配人员' END,
		       b.kind, s.id_norm, s.id_damage, s.name,
		       s.region_code, s.hukou_region, s.pop_status, s.scheme, s.enroll_status, s.pay_status, s.death_date
		FROM source_record s
		JOIN cmp_batch b ON b.id = s.batch_id
		LEFT JOIN cmp_ident i ON i.id_number = s.id_norm AND s.id_damage IS NULL
		LEFT JOIN link_decision d ON d.batch_id = s.batch_id AND d.line = s.line
		CROSS JOIN LATERAL (SELECT i.id_number IS NOT NULL AND (s.name IS NULL OR s.name = i.name) AS exact) x`, r.links, r.id))
}

// finish stores the links and the run's counts.
func (r *run) finish(ctx context.Context, start time.Time) (RunResult, error) {
	counts := fmt.Sprintf(`
		SELECT count(*), count(*) FILTER (WHERE id_number IS NOT NULL),
		       count(*) FILTER (WHERE method = 'review'), count(*) FILTER (WHERE id_number IS NULL AND method <> 'review')
		FROM %s`, r.links)
	c := &r.counts
	if err := r.tx.QueryRow(ctx, counts).Scan(&c.Records, &c.Linked, &c.Review, &c.Unmatched); err != nil {
		return RunResult{}, err
	}
	if err := r.tx.QueryRow(ctx, `SELECT count(*) FROM `+r.persons).Scan(&c.Persons); err != nil {
		return RunResult{}, err
	}
	// Attaching builds each partition's indexes in one pass, now that they
	// are full; statistics right away, or the pages read just after a run
	// are planned blind until autovacuum gets round to the new tables.
	if err := r.exec(ctx, fmt.Sprintf(`DROP SCHEMA cmp_run_%d CASCADE`, r.id), `ANALYZE `+r.links,
		fmt.Sprintf(`ALTER TABLE run_link ATTACH PARTITION %s FOR VALUES IN (%d)`, r.links, r.id),
		fmt.Sprintf(`ALTER TABLE run_person ATTACH PARTITION %s FOR VALUES IN (%d)`, r.persons, r.id)); err != nil {
		return RunResult{}, err
	}
	c.RunID, c.Duration = r.id, time.Since(start)
	const upd = `UPDATE comparison_run SET records = $2, linked = $3, review = $4, unmatched = $5, persons = $6, duration_ms = $7 WHERE id = $1`
	if _, err := r.tx.Exec(ctx, upd, r.id, c.Records, c.Linked, c.Review, c.Unmatched, c.Persons, c.Duration.Milliseconds()); err != nil {
		return RunResult{}, err
	}
	err := audit.Record(ctx, r.tx, audit.Entry{UserID: nullID(r.req.UserID), Username: r.req.UserName, Region: r.req.Region,
		IP: r.req.IP, Action: audit.CompareRun, Object: "run:" + strconv.FormatInt(r.id, 10),
		Detail: fmt.Sprintf("%s 基准日 %s 记录%d 关联%d 待审核%d 未匹配%d 人员%d", r.req.Region, r.req.AsOf.Format("2006-01-02"),
			c.Records, c.Linked, c.Review, c.Unmatched, c.Persons)})
	return *c, err
}

func (e *Engine) recordFailure(req Request, cause error) {
	if errors.Is(cause, context.Canceled) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.db.Exec(ctx, `INSERT INTO comparison_run (region_code, as_of, status, error, created_by, created_name) VALUES ($1, $2, 'failed', $3, $4, $5)`,
		req.Region, req.AsOf, apperr.Message(cause), nullID(req.UserID), req.UserName)
	audit.Record(ctx, e.db, audit.Entry{UserID: nullID(req.UserID), Username: req.UserName, Region: req.Region, IP: req.IP,
		Action: audit.CompareRun, Object: "region:" + req.Region, Result: "failed", Detail: apperr.Message(cause)})
}
