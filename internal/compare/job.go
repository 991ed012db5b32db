package compare

import (
	"context"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/job"
)

// Job is the comparison req by a as a job, for the web's runner and the CLI's
// foreground alike: it reports the current step, named by title (the
// region's name), and leaves the result in out when out is not nil.
func (e *Engine) Job(a actor.Actor, req Request, title string, out *RunResult) job.Spec {
	return job.Spec{Kind: job.KindCompare, Region: req.Region, UserID: a.UserID, UserName: a.Username, Title: title,
		Run: func(ctx context.Context, p *job.Progress) (int64, error) {
			prog := &Progress{}
			p.Follow(func() job.Status { return job.Status{Message: prog.Step()} })
			res, err := e.Run(ctx, a, req, prog)
			if out != nil {
				*out = res
			}
			return res.RunID, err
		}}
}
