package indicator

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/source"
)

// Querier is what the package reads through: a pool, a connection or a
// transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// runSource is a current comparison run and the smaller regions newer runs
// took over from it.
type runSource struct {
	ID       int64
	Region   string
	Internal bool // compared 参保信息 extracts
	Cross    bool // compared other departments' extracts
	Exclude  []string
}

// roundSource is a current survey round, the regions newer rounds took over
// from it, the run it was published from and the current run covering its
// region (0: none).
type roundSource struct {
	ID       int64
	Region   string
	Baseline int64
	Current  int64
	Exclude  []string
}

// Scope is where a computation looks: a region, a day, and the runs and
// rounds current there on that day.
type Scope struct {
	Region string
	Day    time.Time
	runs   []runSource
	rounds []roundSource
}

// Runs are the ids of the comparison runs the scope counts.
func (s Scope) Runs() []int64 {
	ids := make([]int64, len(s.runs))
	for i, r := range s.runs {
		ids[i] = r.ID
	}
	return ids
}

// Rounds are the ids of the survey rounds the scope counts.
func (s Scope) Rounds() []int64 {
	ids := make([]int64, len(s.rounds))
	for i, r := range s.rounds {
		ids[i] = r.ID
	}
	return ids
}

// LoadScope finds the runs and rounds current in region at the end of day,
// and each round's baseline run.
func LoadScope(ctx context.Context, db Querier, region string, day time.Time) (Scope, error) {
	s, err := loadSources(ctx, db, region, day)
	if err != nil {
		return s, err
	}
	// The run a round was published from, once that run had started.
	const qBase = `
		SELECT coalesce((SELECT b.id FROM comparison_run b
		                 WHERE b.id = coalesce((SELECT min(h.added_run) FROM survey_household h WHERE h.round_id = r.id), r.run_id)
		                   AND b.started_at < ($2::date + 1)::timestamptz), 0)
		FROM survey_round r WHERE r.id = $1`
	for i := range s.rounds {
		if err := db.QueryRow(ctx, qBase, s.rounds[i].ID, s.Day).Scan(&s.rounds[i].Baseline); err != nil {
			return s, fmt.Errorf("indicator round %d: %w", s.rounds[i].ID, err)
		}
		s.rounds[i].Current = s.coveringRun(s.rounds[i].Region)
	}
	return s, nil
}

// Sources are the ids of the runs and rounds current in the whole
// installation at the end of day, as a snapshot of that day records them:
// a cheap check whether a snapshot still shows the data.
func Sources(ctx context.Context, db Querier, day time.Time) (runs, rounds []int64, err error) {
	s, err := loadSources(ctx, db, "", day)
	return s.Runs(), s.Rounds(), err
}

// loadSources finds the current runs and rounds, without baselines.
func loadSources(ctx context.Context, db Querier, region string, day time.Time) (Scope, error) {
	s := Scope{Region: region, Day: dayOf(day)}
	qRuns := `
		SELECT DISTINCT ON (c.region_code) c.id, c.region_code,
		       EXISTS (SELECT 1 FROM import_batch b WHERE b.id = ANY (c.batches) AND b.kind = $3),
		       EXISTS (SELECT 1 FROM import_batch b WHERE b.id = ANY (c.batches) AND b.kind <> $3)
		FROM comparison_run c
		WHERE c.status = 'done' AND c.started_at < ($2::date + 1)::timestamptz
		  AND (` + actor.InScope("c.region_code", "$1") + ` OR ` + actor.InScope("$1", "c.region_code") + `)
		ORDER BY c.region_code, c.id DESC`
	rows, err := db.Query(ctx, qRuns, region, s.Day, string(source.Enrollment))
	if err != nil {
		return s, fmt.Errorf("indicator runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (runSource, error) {
		var x runSource
		return x, r.Scan(&x.ID, &x.Region, &x.Internal, &x.Cross)
	})
	if err != nil {
		return s, fmt.Errorf("indicator runs: %w", err)
	}
	qRounds := `
		SELECT DISTINCT ON (r.region_code) r.id, r.region_code
		FROM survey_round r
		WHERE r.created_at < ($2::date + 1)::timestamptz
		  AND (` + actor.InScope("r.region_code", "$1") + ` OR ` + actor.InScope("$1", "r.region_code") + `)
		ORDER BY r.region_code, r.id DESC`
	rows, err = db.Query(ctx, qRounds, region, s.Day)
	if err != nil {
		return s, fmt.Errorf("indicator rounds: %w", err)
	}
	rounds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (roundSource, error) {
		var x roundSource
		return x, r.Scan(&x.ID, &x.Region)
	})
	if err != nil {
		return s, fmt.Errorf("indicator rounds: %w", err)
	}
	s.runs = current(runs, func(r *runSource) (int64, string, *[]string) { return r.ID, r.Region, &r.Exclude })
	s.rounds = current(rounds, func(r *roundSource) (int64, string, *[]string) { return r.ID, r.Region, &r.Exclude })
	return s, nil
}

// current keeps, newest first, the sources not wholly replaced by a newer
// one covering their region, and gives each the regions inside it that
// newer kept sources took over (as LIKE patterns).
func current[T any](all []T, key func(*T) (int64, string, *[]string)) []T {
	slices.SortFunc(all, func(a, b T) int {
		ia, _, _ := key(&a)
		ib, _, _ := key(&b)
		return int(ib - ia)
	})
	var kept []T
	for _, s := range all {
		_, region, exclude := key(&s)
		covered := false
		for i := range kept {
			_, k, _ := key(&kept[i])
			if actor.Within(k, region) {
				covered = true
				break
			}
			if actor.Within(region, k) {
				*exclude = append(*exclude, k+"%")
			}
		}
		if !covered {
			kept = append(kept, s)
		}
	}
	return kept
}

// coveringRun is the newest current run whose region covers region.
func (s Scope) coveringRun(region string) int64 {
	for _, r := range s.runs { // newest first
		if actor.Within(r.Region, region) {
			return r.ID
		}
	}
	return 0
}

// dayOf is t's calendar date (UTC midnight, the date pgx sends).
func dayOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
