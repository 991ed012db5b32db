package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/indicator"
	"github.com/canbao/canbao/internal/survey"
)

// demoReportDays is how many past days of snapshots the demo computes.
const demoReportDays = 14

// loadDemoReport gives the dashboard's trends a past. When the demo county
// has no survey round yet (the survey demo, when present, makes its own
// first), it writes one from the latest run's targets with field work
// spread over the last two weeks (demo.SurveyProgress); then it computes
// the snapshot of each of those days from the data as it stood at the end
// of that day (indicator.Backfill). No number is written by hand: every
// figure is counted from runs, rounds and forms with their own dates, so
// the comparison (run when the demo was loaded) shows from today, the
// survey's progress day by day.
func loadDemoReport(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	now := time.Now()
	start := now.AddDate(0, 0, -demoReportDays)
	var rounds int
	var run *int64
	q := `SELECT (SELECT count(*) FROM survey_round WHERE ` + actor.InScope("region_code", "$1") + `),
		(SELECT max(id) FROM comparison_run WHERE region_code = $1 AND status = 'done')`
	if err := pool.QueryRow(ctx, q, demoCounty).Scan(&rounds, &run); err != nil {
		return fmt.Errorf("demo report: %w", err)
	}
	if rounds == 0 && run != nil {
		id, err := demo.SurveyProgress(ctx, pool, demo.Progress{Region: demoCounty, RunID: *run, Start: start, Now: now,
			Deadline: now.AddDate(0, 0, 30), Recount: survey.Recount})
		if err != nil {
			return err
		}
		log.Info("demo survey round", "round", id)
	}
	n, err := indicator.Backfill(ctx, pool, start, now)
	if err != nil {
		return err
	}
	log.Info("demo snapshots", "days", n, "ms", time.Since(now).Milliseconds())
	return nil
}
