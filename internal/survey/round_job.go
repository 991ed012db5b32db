package survey

import (
	"context"
	"sync"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/job"
)

// Job is a publish or top-up as a job, for the web's runner and the CLI
// alike: it reports its current step and leaves the result in out when out
// is not nil; the job's result id is the round.
func (s *Store) Job(a actor.Actor, req PublishRequest, title string, out *PublishResult) job.Spec {
	return job.Spec{Kind: job.KindSurvey, Region: req.Region, UserID: a.UserID, UserName: a.Username, Title: title,
		Run: func(ctx context.Context, p *job.Progress) (int64, error) {
			var mu sync.Mutex
			current := "开始"
			p.Follow(func() job.Status {
				mu.Lock()
				defer mu.Unlock()
				return job.Status{Message: current}
			})
			res, err := s.Publish(ctx, a, req, func(step string) {
				mu.Lock()
				current = step
				mu.Unlock()
			})
			if out != nil {
				*out = res
			}
			return res.Round, err
		}}
}
