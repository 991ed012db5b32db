package server

import (
	"context"
	"sync"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/indicator"
	"github.com/canbao/canbao/internal/job"
	"github.com/canbao/canbao/internal/report"
)

// A run's report rows (what the basic tables count, per person and per
// region) are prepared by a job, never inside a request: one is started
// when a comparison run finishes, the daily snapshot job prepares any
// current run still without them, and a basic table asked for a run not
// ready yet starts one when none is under way and shows its progress.

// prepJobs remembers the preparation job this process started for each
// run, so that pages asking for the same run share it.
type prepJobs struct {
	mu   sync.Mutex
	jobs map[int64]int64 // run → job
}

// prepareReports makes sure a job prepares run's report rows, and returns
// it: the job already started for the run while it is still active, else
// a new one. A job for a run already prepared ends at once and writes
// nothing.
func (s *Server) prepareReports(ctx context.Context, runID int64) (job.Job, error) {
	s.prep.mu.Lock()
	defer s.prep.mu.Unlock()
	if id, ok := s.prep.jobs[runID]; ok {
		j, err := s.jobs.Store().Get(ctx, id)
		if err != nil || !j.State.Final() {
			return j, err
		}
	}
	run, name, err := s.reports().RunOf(ctx, runID)
	if err != nil {
		return job.Job{}, err
	}
	id, err := s.jobs.Submit(ctx, report.PrepareJob(s.db, runID, run.RegionCode, name))
	if err != nil {
		return job.Job{}, err
	}
	if s.prep.jobs == nil {
		s.prep.jobs = map[int64]int64{}
	}
	s.prep.jobs[runID] = id
	return s.jobs.Store().Get(ctx, id)
}

// thenPrepareReports is a comparison job that, once its run is done,
// starts the preparation of the run's report rows.
func (s *Server) thenPrepareReports(spec job.Spec) job.Spec {
	run := spec.Run
	spec.Run = func(ctx context.Context, p *job.Progress) (int64, error) {
		id, err := run(ctx, p)
		if err == nil && id > 0 {
			if _, perr := s.prepareReports(context.WithoutCancel(ctx), id); perr != nil {
				s.log.Warn("start report preparation", "run", id, "err", perr)
			}
		}
		return id, err
	}
	return spec
}

// snapshotJob is the daily indicator snapshot of day as a job, whose last
// step prepares the report rows of every current run still without them.
func (s *Server) snapshotJob(a actor.Actor, day time.Time) job.Spec {
	spec := indicator.Job(s.db, a, day)
	snap := spec.Run
	spec.Run = func(ctx context.Context, p *job.Progress) (int64, error) {
		res, err := snap(ctx, p)
		if err != nil {
			return res, err
		}
		p.Set(job.Status{Message: "正在准备报表数据"})
		_, err = s.reports().PrepareMissing(ctx, p)
		return res, err
	}
	return spec
}
