package report

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/job"
	"github.com/canbao/canbao/internal/source"
)

// JobKind is the kind of the job that prepares a run's report rows.
const JobKind = "report"

// prepareSteps are the steps of a preparation, as its job reports them.
var prepareSteps = []string{"汇总每人的户籍与参保记录", "按区划统计各栏人数", "保存"}

// Prepared reports whether the run's report rows and counts are complete.
// A prepared run stays prepared: that answer is kept.
func (s *Store) Prepared(ctx context.Context, runID int64) (bool, error) {
	key := fmt.Sprintf("prepared|%d", runID)
	if _, ok := s.fixed.get(key); ok {
		return true, nil
	}
	var done bool
	err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM report_run WHERE run_id = $1)`, runID).Scan(&done)
	if err != nil {
		return false, fmt.Errorf("report run %d prepared: %w", runID, err)
	}
	if done {
		s.fixed.put(key, true)
	}
	return done, nil
}

// errPreparing is what a page that needs a run's report rows says while a
// job prepares them.
func errPreparing(runID int64, what string) error {
	return apperr.Conflictf("正在准备报表数据（比对批次 #%d），%s暂不可用，请稍后再试", runID, what)
}

// Prepare derives the run's report_person rows and counts, reporting its
// steps to p (which may be nil). It runs once per run: a prepared run
// returns at once, and concurrent calls for one run take the same advisory
// lock, so the second waits for the first and then writes nothing (the
// primary keys of report_run and report_person would refuse a second copy
// anyway). It reports whether it wrote the rows.
func (s *Store) Prepare(ctx context.Context, runID int64, p *job.Progress) (bool, error) {
	if done, err := s.Prepared(ctx, runID); err != nil || done {
		return false, err
	}
	step := func(i int) {
		if p != nil {
			p.Set(job.Status{Done: int64(i), Total: int64(len(prepareSteps)),
				Message: fmt.Sprintf("第 %d/%d 步：%s", i+1, len(prepareSteps), prepareSteps[i])})
		}
	}
	step(0)
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer func() { _ = tx.Rollback(ctx) }() // after Commit: a no-op
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('report_run'), $1::int)`, runID); err != nil {
		return false, err
	}
	var done bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM report_run WHERE run_id = $1)`, runID).Scan(&done); err != nil || done {
		return false, err
	}
	// On the 1,000,000-person county the planner, underestimating how many
	// records the run's batches hold, probed source_record's BRIN index
	// once per record (still running after 30 minutes); joins by hashing
	// or merging read each table once.
	if _, err := tx.Exec(ctx, `SET LOCAL enable_nestloop = off`); err != nil {
		return false, err
	}
	start := time.Now()
	n, err := derivePersons(ctx, tx, runID)
	if err != nil {
		return false, fmt.Errorf("report persons of run %d: %w", runID, err)
	}
	step(1)
	const qRun = `INSERT INTO report_run (run_id, persons, duration_ms) VALUES ($1, $2, 0)`
	if _, err := tx.Exec(ctx, qRun, runID, n); err != nil {
		return false, err
	}
	if err := deriveCounts(ctx, tx, runID); err != nil {
		return false, fmt.Errorf("report counts of run %d: %w", runID, err)
	}
	step(2)
	const qTook = `UPDATE report_run SET duration_ms = $2 WHERE run_id = $1`
	if _, err := tx.Exec(ctx, qTook, runID, time.Since(start).Milliseconds()); err != nil {
		return false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return false, err
	}
	// The rows just written have no statistics, hint bits or visibility
	// map yet: left to autovacuum, that work lands on the first readers
	// (on the 1M county, report pages right after a preparation were p95
	// 1.4–3.5 s at 20 users without this, 0.16–0.20 s with it). The job
	// does it now, after the rows are already readable.
	if _, err := s.db.Exec(ctx, `VACUUM (ANALYZE) report_person, report_count`); err != nil {
		return true, fmt.Errorf("report rows of run %d: vacuum: %w", runID, err)
	}
	return true, nil
}

// derivePersons reads each universe person's linked 户籍 and 参保 records
// once (the run's batches only) and keeps what the tables count: a living
// local hukou, an active local enrollment, the schemes held and the scheme
// groups with one scheme active in two counties (DOMAIN §5's rules).
//
// The rows are written in the order of the lists behind the figures
// (report_person_list's): a page of a list then reads a few neighbouring
// table pages instead of one page per row scattered over the whole run,
// which on the 1,000,000-person county no longer stayed in shared memory.
//
// Measured on a 100,000-person county (EXPLAIN ANALYZE, same machine and
// load): a one-pass rewrite folding per person and scheme, with hash joins
// forced, took 30 s against this query's 18 s, and raising work_mem made
// the planner probe source_record's BRIN index per record (140–200 s). So
// it stays as written, with the planner's defaults.
func derivePersons(ctx context.Context, tx pgx.Tx, runID int64) (int64, error) {
	var keys []string
	var bits, groups []int32
	for k, b := range schemeBits {
		keys, bits, groups = append(keys, k), append(bits, int32(b)), append(groups, int32(groupBits[k]))
	}
	q := `
		INSERT INTO report_person (run_id, id_number, region_code, hukou, local_active, schemes, emp, res, cross_groups,
		                           pension, medical, flags, survey)
		WITH run AS (SELECT region_code AS region, batches FROM comparison_run WHERE id = $1),
		rec AS (SELECT r.id_number, r.batch_id AS b, r.line AS l FROM run_records_all($1) r),
		src AS (
			SELECT r.id_number, b.kind, s.pop_status, s.hukou_region, s.region_code, s.scheme,
			       (b.kind = $5 AND coalesce(s.enroll_status, 0) <> 4 AND coalesce(s.pay_status, 0) <> 3) AS active
			FROM rec r
			JOIN import_batch b ON b.id = r.b AND b.kind IN ($5, $6)
			JOIN source_record s ON s.batch_id = r.b AND s.line = r.l
			WHERE s.batch_id = ANY ((SELECT batches FROM run)::bigint[])
		),
		sc AS (SELECT * FROM unnest($2::text[], $3::int[], $4::int[]) AS sc(key, bit, grp)),
		f AS (
			SELECT s.id_number,
			       bool_or(s.kind = $6 AND s.pop_status = $7 AND s.hukou_region LIKE run.region || '%') AS hukou,
			       bool_or(s.active AND s.region_code LIKE run.region || '%') AS local_active,
			       bit_or(CASE WHEN s.active THEN coalesce(sc.bit, 0) ELSE 0 END) AS schemes
			FROM src s CROSS JOIN run LEFT JOIN sc ON sc.key = s.scheme
			GROUP BY s.id_number
		),
		cg AS (
			SELECT id_number, bit_or(grp) AS groups
			FROM (SELECT s.id_number, sc.grp FROM src s JOIN sc ON sc.key = s.scheme
			      WHERE s.active AND s.region_code IS NOT NULL
			      GROUP BY s.id_number, sc.key, sc.grp
			      HAVING count(DISTINCT left(s.region_code, 6)) > 1) x
			GROUP BY id_number
		)
		SELECT $1, rp.id_number, rp.region_code, coalesce(f.hukou, false), coalesce(f.local_active, false), s.schemes,
		       ((s.schemes & 3 <> 0)::int + 2 * (s.schemes & 8 <> 0)::int + 4 * (s.schemes & 128 <> 0)::int
		        + 8 * (s.schemes & 64 <> 0)::int + 16 * (s.schemes & 256 <> 0)::int)::smallint,
		       ((s.schemes & 4 <> 0)::int + 2 * (s.schemes & 16 <> 0)::int + 4 * (s.schemes & 32 <> 0)::int)::smallint,
		       coalesce(cg.groups, 0), rp.pension, rp.medical, rp.flags, rp.survey
		FROM run_persons($1) rp
		LEFT JOIN f ON f.id_number = rp.id_number
		LEFT JOIN cg ON cg.id_number = rp.id_number
		CROSS JOIN LATERAL (SELECT coalesce(f.schemes, 0) AS schemes) s
		WHERE rp.in_universe
		ORDER BY rp.region_code, rp.id_number`
	tag, err := tx.Exec(ctx, q, runID, keys, bits, groups, string(source.Enrollment), string(source.Hukou), source.PopNormal)
	return tag.RowsAffected(), err
}

// deriveCounts writes every computed column's count for each region at or
// below the run's, from countPreds.
func deriveCounts(ctx context.Context, tx pgx.Tx, runID int64) error {
	var pairs []string
	for _, k := range countKeys() {
		pairs = append(pairs, fmt.Sprintf("'%s', count(*) FILTER (WHERE %s)", k, countPreds[k]))
	}
	// jsonb_build_object takes at most 100 arguments: build in halves.
	half := len(pairs) / 2
	q := `
		INSERT INTO report_count (run_id, region_code, counts)
		SELECT $1, l.code, jsonb_build_object(` + strings.Join(pairs[:half], ", ") + `) || jsonb_build_object(` + strings.Join(pairs[half:], ", ") + `)
		FROM report_person p
		CROSS JOIN LATERAL (SELECT left(p.region_code, n) AS code FROM unnest(ARRAY[2, 4, 6, 9, 12]) AS n
		                    WHERE n <= length(p.region_code)) l
		WHERE p.run_id = $1 AND l.code LIKE (SELECT region_code FROM comparison_run WHERE id = $1) || '%'
		GROUP BY l.code`
	_, err := tx.Exec(ctx, q, runID)
	return err
}

// PrepareJob prepares run's report rows as a job of region (the run's).
// Its result is the run.
func PrepareJob(db *pgxpool.Pool, runID int64, region, regionName string) job.Spec {
	return job.Spec{Kind: JobKind, Region: region, UserName: "系统",
		Title: fmt.Sprintf("报表数据准备：%s 比对批次 #%d", regionName, runID),
		Run: func(ctx context.Context, p *job.Progress) (int64, error) {
			_, err := NewStore(db).Prepare(ctx, runID, p)
			return runID, err
		}}
}

// RunOf is the comparison run id with its region and the region's name.
func (s *Store) RunOf(ctx context.Context, runID int64) (Run, string, error) {
	const q = `SELECT c.id, c.region_code, c.as_of, c.started_at, coalesce(r.name, c.region_code)
		FROM comparison_run c LEFT JOIN region r ON r.code = c.region_code WHERE c.id = $1`
	var r Run
	var name string
	err := s.db.QueryRow(ctx, q, runID).Scan(&r.ID, &r.RegionCode, &r.AsOf, &r.StartedAt, &name)
	if errors.Is(err, pgx.ErrNoRows) {
		return Run{}, "", apperr.NotFoundf("比对批次 #%d 不存在", runID)
	}
	return r, name, err
}

// PrepareMissing prepares every run the tables of today read that is not
// prepared yet: the newest finished run of each region compared (older
// runs are prepared when a table of an earlier day asks for them). The
// daily snapshot job calls it as its last step, so runs finished outside
// the server (the CLI) are ready by morning. It returns how many runs it
// prepared.
func (s *Store) PrepareMissing(ctx context.Context, p *job.Progress) (int, error) {
	const q = `
		SELECT DISTINCT ON (c.region_code) c.id FROM comparison_run c
		WHERE c.status = 'done'
		ORDER BY c.region_code, c.id DESC`
	rows, err := s.db.Query(ctx, `SELECT id FROM (`+q+`) cur WHERE NOT EXISTS (SELECT 1 FROM report_run WHERE run_id = cur.id) ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("runs to prepare: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("runs to prepare: %w", err)
	}
	n := 0
	for i, id := range ids {
		if p != nil {
			p.Set(job.Status{Done: int64(i), Total: int64(len(ids)), Message: fmt.Sprintf("正在准备比对批次 #%d 的报表数据", id)})
		}
		wrote, err := s.Prepare(ctx, id, nil)
		if err != nil {
			return n, err
		}
		if wrote {
			n++
		}
	}
	return n, nil
}
