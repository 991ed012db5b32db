package server

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
)

// Nightly is the time of day (China Standard Time) the server re-compares
// every county that has runs, incrementally; the zero value is off.
type Nightly struct {
	On           bool
	Hour, Minute int
}

// ParseNightly reads CANBAO_NIGHTLY_COMPARE: "" (off) or HH:MM.
func ParseNightly(s string) (Nightly, error) {
	if s == "" {
		return Nightly{}, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return Nightly{}, fmt.Errorf("CANBAO_NIGHTLY_COMPARE %q: want HH:MM (e.g. 02:30)", s)
	}
	return Nightly{On: true, Hour: t.Hour(), Minute: t.Minute()}, nil
}

// Next is the first time at or after now the nightly comparison is due.
func (n Nightly) Next(now time.Time) time.Time {
	now = now.In(cst)
	at := time.Date(now.Year(), now.Month(), now.Day(), n.Hour, n.Minute, 0, 0, cst)
	if at.Before(now) {
		at = at.AddDate(0, 0, 1)
	}
	return at
}

// nightlyActor starts the nightly comparisons: the system, for the whole
// installation.
var nightlyActor = actor.Actor{Username: "system:nightly", Role: actor.Admin, Region: "", RegionName: "全部", IP: "local"}

// nightly submits the incremental comparisons each night until ctx ends.
func (s *Server) nightly(ctx context.Context) {
	for {
		t := time.NewTimer(time.Until(s.cfg.Nightly.Next(time.Now())))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		ids, err := s.SubmitNightly(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("nightly comparison", "err", err)
		}
		s.log.Info("nightly comparison submitted", "jobs", len(ids))
		// Past the minute, so the same night is not taken twice.
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Minute):
		}
	}
}

// SubmitNightly submits an incremental comparison job for every county
// with a finished run, and returns the jobs' ids. The jobs queue on the
// runner like any other; each falls back to a full run when it must.
func (s *Server) SubmitNightly(ctx context.Context) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT c.region_code, coalesce(r.name, c.region_code)
		FROM comparison_run c LEFT JOIN region r ON r.code = c.region_code
		WHERE c.status = 'done' AND length(c.region_code) = 6 ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("nightly regions: %w", err)
	}
	type county struct{ Code, Name string }
	counties, err := pgx.CollectRows(rows, pgx.RowToStructByPos[county])
	if err != nil {
		return nil, fmt.Errorf("nightly regions: %w", err)
	}
	var ids []int64
	for _, c := range counties {
		req := compare.Request{Region: c.Code, Incremental: true}
		id, err := s.jobs.Submit(ctx, s.thenPrepareReports(s.compare.Job(nightlyActor, req, c.Name+"，夜间增量比对", nil)))
		if err != nil {
			return ids, fmt.Errorf("submit nightly comparison of %s: %w", c.Code, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}
