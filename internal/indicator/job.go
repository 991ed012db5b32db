package indicator

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/job"
)

// JobKind is the snapshot job's kind in the job table.
const JobKind = "snapshot"

// Job is the snapshot of day as a job started by a (the nightly schedule
// passes the system's actor). It records the day as its result (yyyymmdd).
func Job(db *pgxpool.Pool, a actor.Actor, day time.Time) job.Spec {
	day = dayOf(day)
	return job.Spec{Kind: JobKind, Region: a.Region, UserID: a.UserID, UserName: a.Username,
		Title: "统计快照 " + day.Format("2006-01-02"),
		Run: func(ctx context.Context, p *job.Progress) (int64, error) {
			p.Set(job.Status{Message: "正在统计各区划指标"})
			if _, err := Snapshot(ctx, db, day); err != nil {
				return 0, err
			}
			return int64(day.Year()*10000 + int(day.Month())*100 + day.Day()), nil
		}}
}

// System is the actor of scheduled snapshots: the installation, nobody
// in particular.
var System = actor.Actor{Username: "系统", Role: actor.Admin, Region: "", RegionName: "全部", IP: "local"}

// NextRun is the next time of day at (hour, minute) after now, in now's
// location.
func NextRun(now time.Time, hour, minute int) time.Time {
	t := time.Date(now.Year(), now.Month(), now.Day(), hour, minute, 0, 0, now.Location())
	if !t.After(now) {
		t = t.AddDate(0, 0, 1)
	}
	return t
}
