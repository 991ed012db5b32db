package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/source"
)

// Scheme bits of report_person.schemes, by scheme key (DOMAIN §3).
var schemeBits = map[string]int{
	"企业职工养老": 1, "机关事业养老": 2, "城乡居民养老": 4,
	"职工医疗": 8, "居民医疗": 16, "新农合": 32,
	"失业": 64, "工伤": 128, "生育": 256,
}

// groupBits: the basic table's scheme groups (养老 1, 医疗 2, 工伤 4, 失业 8,
// 生育 16) a scheme belongs to, for report_person.cross_groups.
var groupBits = map[string]int{
	"企业职工养老": 1, "机关事业养老": 1, "城乡居民养老": 1,
	"职工医疗": 2, "居民医疗": 2, "新农合": 2,
	"工伤": 4, "失业": 8, "生育": 16,
}

// countPreds are the predicates on report_person p behind each computed
// column of the basic tables: the counts are written from them and the
// lists select with them, so a count is its list's length.
var countPreds = map[string]string{
	"b1.1":  "p.hukou",
	"b1.2":  "p.local_active AND NOT p.survey",
	"b1.3":  "p.local_active AND NOT p.survey AND NOT p.hukou",
	"b1.5":  "p.survey",
	"b1.7":  "p.pension = '" + compare.NotInsured + "'",
	"b1.8":  fmt.Sprintf("p.flags & %d <> 0", int(compare.FlagCrossPension)),
	"b1.10": "p.cross_groups & 1 <> 0",
	"b1.14": "p.medical = '" + compare.NotInsured + "'",
	"b1.15": "p.cross_groups & 2 <> 0",
	"b1.16": fmt.Sprintf("p.flags & %d <> 0", int(compare.FlagCrossMedical)),
	"b1.21": "p.cross_groups & 4 <> 0",
	"b1.23": "p.cross_groups & 8 <> 0",
	"b1.25": "p.cross_groups & 16 <> 0",
	// 职工: emp bits 1 养老 2 医疗 4 工伤 8 失业 16 生育
	"b2.1":  "p.emp = 31",
	"b2.2":  "p.emp = 7",
	"b2.3":  "p.emp = 3",
	"b2.4":  "p.emp = 1",
	"b2.5":  "p.emp = 5",
	"b2.6":  "p.emp = 2",
	"b2.7":  "p.emp = 4",
	"b2.8":  "p.emp = 8",
	"b2.9":  "p.emp = 16",
	"b2.10": "p.emp NOT IN (0, 31, 7, 3, 1, 5, 2, 4, 8, 16)",
	// 居民: res bits 1 居民养老 2 居民医疗 4 新农合
	"b2.11": "p.res = 3",
	"b2.12": "p.res = 1",
	"b2.13": "p.res = 2",
	"b2.14": "p.res IN (4, 5)",
	"b2.15": "p.res IN (6, 7)",
}

// countKeys are countPreds' keys in a fixed order.
func countKeys() []string {
	var keys []string
	for _, cols := range [][]Column{basic1Columns, basic2Columns} {
		for _, c := range cols {
			if _, ok := countPreds[c.Key]; ok {
				keys = append(keys, c.Key)
			}
		}
	}
	return keys
}

// Run is the comparison run a basic table counts.
type Run struct {
	ID         int64
	RegionCode string
	AsOf       time.Time
	StartedAt  time.Time
}

// Store reads and writes the report tables.
type Store struct{ db *pgxpool.Pool }

// NewStore returns a Store over db.
func NewStore(db *pgxpool.Pool) *Store { return &Store{db: db} }

// CurrentRun is the newest successful comparison run covering region that
// started before day ended; false when there is none.
func (s *Store) CurrentRun(ctx context.Context, region string, day time.Time) (Run, bool, error) {
	const q = `
		SELECT id, region_code, as_of, started_at FROM comparison_run
		WHERE status = 'done' AND $1 LIKE region_code || '%' AND started_at < ($2::date + 1)::timestamptz
		ORDER BY id DESC LIMIT 1`
	var r Run
	err := s.db.QueryRow(ctx, q, region, day).Scan(&r.ID, &r.RegionCode, &r.AsOf, &r.StartedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, fmt.Errorf("current run of %s: %w", region, err)
	}
	return r, true, nil
}

// Prepare derives the run's report_person rows and counts once; later
// calls return at once. Concurrent calls for one run wait for the first.
func (s *Store) Prepare(ctx context.Context, runID int64) error {
	var done bool
	if err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM report_run WHERE run_id = $1)`, runID).Scan(&done); err != nil || done {
		return err
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }() // after Commit: a no-op
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('report_run'), $1::int)`, runID); err != nil {
		return err
	}
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM report_run WHERE run_id = $1)`, runID).Scan(&done); err != nil || done {
		return err
	}
	start := time.Now()
	n, err := derivePersons(ctx, tx, runID)
	if err != nil {
		return fmt.Errorf("report persons of run %d: %w", runID, err)
	}
	const qRun = `INSERT INTO report_run (run_id, persons, duration_ms) VALUES ($1, $2, $3)`
	if _, err := tx.Exec(ctx, qRun, runID, n, time.Since(start).Milliseconds()); err != nil {
		return err
	}
	if err := deriveCounts(ctx, tx, runID); err != nil {
		return fmt.Errorf("report counts of run %d: %w", runID, err)
	}
	return tx.Commit(ctx)
}

// derivePersons reads each universe person's linked 户籍 and 参保 records
// once (the run's batches only) and keeps what the tables count: a living
// local hukou, an active local enrollment, the schemes held and the scheme
// groups with one scheme active in two counties (DOMAIN §5's rules).
func derivePersons(ctx context.Context, tx pgx.Tx, runID int64) (int64, error) {
	var keys []string
	var bits, groups []int32
	for k, b := range schemeBits {
		keys, bits, groups = append(keys, k), append(bits, int32(b)), append(groups, int32(groupBits[k]))
	}
	const q = `
		INSERT INTO report_person (run_id, id_number, region_code, hukou, local_active, schemes, emp, res, cross_groups,
		                           pension, medical, flags, survey)
		WITH run AS (SELECT region_code AS region, batches FROM comparison_run WHERE id = $1),
		rec AS (
			SELECT rp.id_number, x.b, x.l
			FROM run_person rp, unnest(rp.record_batches, rp.record_lines) AS x(b, l)
			WHERE rp.run_id = $1 AND rp.in_universe
		),
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
		FROM run_person rp
		LEFT JOIN f ON f.id_number = rp.id_number
		LEFT JOIN cg ON cg.id_number = rp.id_number
		CROSS JOIN LATERAL (SELECT coalesce(f.schemes, 0) AS schemes) s
		WHERE rp.run_id = $1 AND rp.in_universe`
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

// counts reads the computed counts of the given regions in a run.
func (s *Store) counts(ctx context.Context, runID int64, codes []string) (map[string]map[string]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT region_code, counts FROM report_count WHERE run_id = $1 AND region_code = ANY ($2)`, runID, codes)
	if err != nil {
		return nil, fmt.Errorf("report counts: %w", err)
	}
	out := map[string]map[string]int64{}
	var code string
	var raw []byte
	_, err = pgx.ForEachRow(rows, []any{&code, &raw}, func() error {
		m := map[string]int64{}
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		out[code] = m
		return nil
	})
	return out, err
}
