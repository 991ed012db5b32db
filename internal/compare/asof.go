package compare

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
)

// RunAsOf returns the comparison whose numbers stood for region on day d:
// the latest done run covering the region (of the region or one above it)
// whose as-of date is on or before d; ok is false when there is none.
func (e *Engine) RunAsOf(ctx context.Context, a actor.Actor, region string, d time.Time) (Run, bool, error) {
	if err := a.CheckIn(actor.CompareRead, region, "区划 "+region); err != nil {
		return Run{}, false, err
	}
	rows, err := e.db.Query(ctx, `SELECT `+runCols+` FROM comparison_run c LEFT JOIN region r ON r.code = c.region_code
		WHERE c.status = 'done' AND `+actor.InScope("$1", "c.region_code")+` AND c.as_of <= $2
		ORDER BY c.as_of DESC, c.id DESC LIMIT 1`, region, d)
	if err != nil {
		return Run{}, false, err
	}
	run, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Run])
	if errors.Is(err, pgx.ErrNoRows) {
		return Run{}, false, nil
	}
	return run, err == nil, err
}
