package server

import (
	"context"
	"fmt"
	"time"

	"github.com/canbao/canbao/internal/indicator"
)

// ParseSnapshotAt reads CANBAO_SNAPSHOT_AT: "HH:MM" (local time) for the
// nightly snapshot, or "off". An empty value means 01:30.
func ParseSnapshotAt(v string) (hour, minute int, on bool, err error) {
	switch v {
	case "":
		return 1, 30, true, nil
	case "off":
		return 0, 0, false, nil
	}
	t, err := time.Parse("15:04", v)
	if err != nil {
		return 0, 0, false, fmt.Errorf("CANBAO_SNAPSHOT_AT %q: want HH:MM or off", v)
	}
	return t.Hour(), t.Minute(), true, nil
}

// snapshots is the tiny scheduler of the daily indicator snapshot: once
// at start when today has none yet (so a server that was down at night
// catches up), then every day at the configured time, each as a job on
// the runner, so it shows on the jobs page and is recorded like any other.
func (s *Server) snapshots(ctx context.Context) {
	if !s.cfg.SnapshotOn {
		return
	}
	if d, ok, err := s.indicators.LatestDay(ctx); err == nil && (!ok || d.Day.Before(dayUTC(time.Now()))) {
		s.submitSnapshot(ctx)
	}
	for {
		next := indicator.NextRun(time.Now(), s.cfg.SnapshotHour, s.cfg.SnapshotMinute)
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
			s.submitSnapshot(ctx)
		}
	}
}

func (s *Server) submitSnapshot(ctx context.Context) {
	if _, err := s.jobs.Submit(ctx, s.snapshotJob(indicator.System, time.Now())); err != nil && ctx.Err() == nil {
		s.log.Warn("nightly snapshot", "err", err)
	}
}

// dayUTC is t's calendar date as the indicator package keeps days.
func dayUTC(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
