package dynamic

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/job"
)

// JobKind names the jobs that derive a batch's events again (重新生成变动事件).
const JobKind = "derive"

// pendingSQL is true for a batch whose events were never derived although
// it has some to derive: done, of a kind with events, superseding an older
// batch of its extract, not derived (see findPair). That is a derivation
// that failed after its import had committed.
const pendingSQL = `
	b.status = 'done' AND b.kind = ANY($2) AND b.derived_at IS NULL
	AND EXISTS (SELECT 1 FROM import_batch o WHERE o.superseded_by = b.id)
	AND NOT EXISTS (SELECT 1 FROM extract_event e WHERE e.batch_id = b.id)`

func eventKinds() []string {
	kinds := make([]string, 0, len(deriveSQL))
	for k := range deriveSQL {
		kinds = append(kinds, string(k))
	}
	return kinds
}

// Pending reports whether batch waits for its events to be derived again
// (see pendingSQL).
func (s *Store) Pending(ctx context.Context, batch int64) (bool, error) {
	var ok bool
	err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM import_batch b WHERE b.id = $1 AND `+pendingSQL+`)`,
		batch, eventKinds()).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("pending derivation of %d: %w", batch, err)
	}
	return ok, nil
}

// Rederive derives the events of a batch inside a's region whose
// derivation failed after its import committed, and applies the clear
// ones, as Derive does; the events and the audit line commit together.
// A batch derived already (or with nothing to derive) is refused, so a
// second request, or two at once, derive nothing twice; a refusal is
// audited too.
func (s *Store) Rederive(ctx context.Context, a actor.Actor, batch int64, p *job.Progress) (Derived, error) {
	e := audit.For(a, audit.EventDerive, "batch:"+strconv.FormatInt(batch, 10))
	res, err := s.rederive(ctx, a, batch, p, &e)
	if err != nil {
		return res, audit.Reject(ctx, s.db, e, err)
	}
	return res, nil
}

func (s *Store) rederive(ctx context.Context, a actor.Actor, batch int64, p *job.Progress, e *audit.Entry) (Derived, error) {
	if err := a.Check(actor.Import); err != nil {
		return Derived{}, err
	}
	var code string
	err := s.db.QueryRow(ctx, `SELECT region_code FROM import_batch WHERE id = $1`, batch).Scan(&code)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && a.CheckIn(actor.Import, code, "") != nil) {
		return Derived{}, apperr.NotFoundf("导入批次 #%d 不存在", batch)
	}
	if err != nil {
		return Derived{}, fmt.Errorf("rederive %d: %w", batch, err)
	}
	pending, err := s.Pending(ctx, batch)
	if err != nil {
		return Derived{}, err
	}
	if !pending {
		return Derived{}, apperr.Conflictf("批次 #%d 的变动事件已经生成（或没有需要生成的变动事件），未重复生成", batch)
	}
	res, err := s.derive(ctx, a, batch, p, e)
	if err == nil && res.Prev == 0 { // another request derived it meanwhile
		err = apperr.Conflictf("批次 #%d 的变动事件已经生成，未重复生成", batch)
	}
	return res, err
}

// RederiveJob is Rederive of batch (of region, named title) by a as a job;
// its result is the batch.
func (s *Store) RederiveJob(a actor.Actor, batch int64, region, title string) job.Spec {
	return job.Spec{Kind: JobKind, Region: region, UserID: a.UserID, UserName: a.Username, Title: "重新生成变动事件 · " + title,
		Run: func(ctx context.Context, p *job.Progress) (int64, error) {
			_, err := s.Rederive(ctx, a, batch, p)
			return batch, err
		}}
}
