package imports

import (
	"context"
	"fmt"

	"github.com/canbao/canbao/internal/batchdiff"
)

// An import records what changed since the batch it supersedes (see
// batchdiff), for the incremental comparison. The new batch's records are
// noted as they are converted; the older batch's are read on a connection
// of their own while the file is read and copied, when it can be told
// beforehand which batch the import will supersede.

// predecessor is the older batch's records, being read.
type predecessor struct {
	id     int64
	rows   []batchdiff.Row
	ok     bool
	err    error
	done   chan struct{}
	cancel context.CancelFunc
}

// readPredecessor starts reading the records of the one batch in force of
// the import's kind and region (and source, when the request names it);
// nil when there is none or more than one.
func (im *Importer) readPredecessor(ctx context.Context, req Request) *predecessor {
	const q = `SELECT coalesce(array_agg(id), '{}') FROM import_batch
		WHERE kind = $1 AND region_code = $2 AND status = 'done' AND superseded_by IS NULL AND ($3 = '' OR source = $3)`
	var ids []int64
	if err := im.db.QueryRow(ctx, q, req.Kind, req.Region, req.Source).Scan(&ids); err != nil || len(ids) != 1 {
		return nil // matched after the copy, if at all
	}
	p := &predecessor{id: ids[0], done: make(chan struct{})}
	ctx, p.cancel = context.WithCancel(ctx)
	go func() {
		defer close(p.done)
		p.rows, p.ok, p.err = batchdiff.ReadRows(ctx, im.db, p.id)
	}()
	return p
}

// stop ends the read, if still going, and waits for it.
func (p *predecessor) stop() {
	if p != nil {
		p.cancel()
		<-p.done
	}
}

// recordChange matches the new batch with the one batch it superseded,
// if it superseded exactly one, and records the change.
func recordChange(ctx context.Context, q batchdiff.Querier, pre *predecessor, superseded []int64, id int64, rows []batchdiff.Row) error {
	if len(superseded) != 1 {
		return nil // none, or several: the comparison matches them itself
	}
	old := superseded[0]
	same, err := batchdiff.SameLayout(ctx, q, old, id)
	if err != nil || !same {
		return err
	}
	var oldRows []batchdiff.Row
	ok := false
	if pre != nil && pre.id == old {
		<-pre.done
		oldRows, ok, err = pre.rows, pre.ok, pre.err
	} else {
		oldRows, ok, err = batchdiff.ReadRows(ctx, q, old)
	}
	if err != nil {
		return fmt.Errorf("match with batch %d: %w", old, err)
	}
	if !ok || !batchdiff.Ordered(rows) {
		return nil
	}
	return batchdiff.Record(ctx, q, batchdiff.Compute(old, id, oldRows, rows))
}
