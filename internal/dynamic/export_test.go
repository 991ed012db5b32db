package dynamic

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ExplainDerive runs the derivation query of batch under EXPLAIN (ANALYZE,
// BUFFERS) in a transaction it rolls back, for the benchmark's log.
func ExplainDerive(ctx context.Context, db *pgxpool.Pool, batch int64) (string, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback(ctx)
	pair, ok, err := findPair(ctx, tx, batch, true)
	if err != nil || !ok {
		return "", err
	}
	q, args, ok, err := prepareDerive(ctx, tx, pair)
	if err != nil || !ok {
		return "", err
	}
	rows, err := tx.Query(ctx, `EXPLAIN (ANALYZE, BUFFERS) `+q, args)
	if err != nil {
		return "", err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return strings.Join(lines, "\n"), err
}
