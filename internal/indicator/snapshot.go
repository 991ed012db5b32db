package indicator

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Snapshot computes every indicator of every region as of the end of day
// and replaces that day's snapshot with it, in one transaction: the whole
// installation at once, so a county's numbers and its city's come from
// the same moment and add up.
func Snapshot(ctx context.Context, db *pgxpool.Pool, day time.Time) (Result, error) {
	start := time.Now()
	tx, err := db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	// Two snapshots of one day must not interleave their deletes and copies.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7013)`); err != nil {
		return Result{}, err
	}
	if err := tune(ctx, tx); err != nil {
		return Result{}, err
	}
	s, err := LoadScope(ctx, tx, "", day)
	if err != nil {
		return Result{}, err
	}
	res, err := Compute(ctx, tx, s)
	if err != nil {
		return Result{}, err
	}
	if err := write(ctx, tx, res, time.Since(start)); err != nil {
		return Result{}, err
	}
	return res, tx.Commit(ctx)
}

func write(ctx context.Context, tx pgx.Tx, res Result, took time.Duration) error {
	day := res.Scope.Day
	for _, t := range []string{"indicator_snapshot", "indicator_breakdown"} {
		if _, err := tx.Exec(ctx, `DELETE FROM `+t+` WHERE day = $1`, day); err != nil {
			return fmt.Errorf("snapshot %s: %w", t, err)
		}
	}
	var rows [][]any
	for code, c := range res.Counts {
		for _, ind := range All {
			v := ind.Of(c)
			rows = append(rows, []any{day, code, ind.Key, v.Num, v.Den})
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"indicator_snapshot"},
		[]string{"day", "region_code", "indicator", "numerator", "denominator"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("snapshot rows: %w", err)
	}
	rows = rows[:0]
	for code, b := range res.Breakdown {
		for k, n := range b {
			rows = append(rows, []any{day, code, k.Dim, k.Value, n})
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"indicator_breakdown"},
		[]string{"day", "region_code", "dimension", "bucket", "n"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("snapshot breakdown: %w", err)
	}
	const q = `
		INSERT INTO indicator_day (day, computed_at, duration_ms, runs, rounds) VALUES ($1, now(), $2, $3, $4)
		ON CONFLICT (day) DO UPDATE SET computed_at = now(), duration_ms = $2, runs = $3, rounds = $4`
	if _, err := tx.Exec(ctx, q, day, took.Milliseconds(), res.Scope.Runs(), res.Scope.Rounds()); err != nil {
		return fmt.Errorf("snapshot day: %w", err)
	}
	return nil
}

// Backfill computes the snapshot of every day from from to to (inclusive),
// each as of the end of its day from the data as it stood then (runs and
// rounds started by then, forms submitted and reviewed by then): how a
// trend gets its past when snapshots start later than the work did.
func Backfill(ctx context.Context, db *pgxpool.Pool, from, to time.Time) (int, error) {
	n := 0
	for d := dayOf(from); !d.After(dayOf(to)); d = d.AddDate(0, 0, 1) {
		if _, err := Snapshot(ctx, db, d); err != nil {
			return n, fmt.Errorf("snapshot of %s: %w", d.Format(time.DateOnly), err)
		}
		n++
	}
	return n, nil
}

// tune sets the transaction up for one big counting query: compiling it
// (JIT) costs seconds and saves nothing on a query run once, and a little
// more memory lets the groups and joins stay in hashes.
func tune(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
		return fmt.Errorf("indicator settings: %w", err)
	}
	if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '64MB'`); err != nil {
		return fmt.Errorf("indicator settings: %w", err)
	}
	return nil
}
