package dynamic

import (
	"context"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/job"
)

// AfterImport is the import jobs' follow-up: a batch that superseded an
// older one of its extract has its events derived and the unambiguous
// ones applied, in the same job, with its progress.
func (s *Store) AfterImport(ctx context.Context, a actor.Actor, res imports.Result, p *job.Progress) error {
	if len(res.Superseded) == 0 {
		return nil
	}
	_, err := s.Derive(ctx, a, res.BatchID, p)
	return err
}
