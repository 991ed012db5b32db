package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/compare"
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
type Store struct {
	db    *pgxpool.Pool
	fixed *fixedCache // nil: read everything every time
	live  *liveCache  // survey rows; nil: read every time
}

// NewStore returns a Store over db.
func NewStore(db *pgxpool.Pool) *Store { return &Store{db: db} }

// NewCachedStore returns a Store over db that keeps, for the life of the
// process, the numbers that never change once written: a prepared run's
// counts per region and a computed snapshot's indicators per region, and
// the survey forms the tables count until one of them changes. The server
// keeps one; every call still checks the actor's scope first.
func NewCachedStore(db *pgxpool.Pool) *Store {
	return &Store{db: db, fixed: newFixedCache(4096), live: newLiveCache(500_000)}
}

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

// counts reads the computed counts of the given regions in a prepared
// run (a region without any is absent). Read-only: the maps may be shared.
func (s *Store) counts(ctx context.Context, runID int64, codes []string) (map[string]map[string]int64, error) {
	out := map[string]map[string]int64{}
	var missing []string
	for _, c := range codes {
		if m, ok := s.fixed.get(fmt.Sprintf("count|%d|%s", runID, c)); ok {
			if m != nil {
				out[c] = m.(map[string]int64)
			}
			continue
		}
		missing = append(missing, c)
	}
	if len(missing) == 0 {
		return out, nil
	}
	rows, err := s.db.Query(ctx, `SELECT region_code, counts FROM report_count WHERE run_id = $1 AND region_code = ANY ($2)`, runID, missing)
	if err != nil {
		return nil, fmt.Errorf("report counts: %w", err)
	}
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
	if err != nil {
		return nil, fmt.Errorf("report counts: %w", err)
	}
	for _, c := range missing { // a prepared run's counts never change
		if m, ok := out[c]; ok {
			s.fixed.put(fmt.Sprintf("count|%d|%s", runID, c), m)
		} else {
			s.fixed.put(fmt.Sprintf("count|%d|%s", runID, c), nil)
		}
	}
	return out, nil
}
