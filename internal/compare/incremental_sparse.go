package compare

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// A sparse run (migration 000029) writes only the rows that may differ
// from its anchor, the region's last run that wrote every person: the
// touched persons' rows, and the rows its base wrote beyond the anchor
// (the base may itself be sparse, and an untouched person keeps the
// base's row). run_person_gone lists the anchor's persons the run no
// longer has. Every other person is the anchor's row, unchanged, with
// its records derived from the run's batches by their ID (run_records):
// that holds for a ghost, whose records are its own-ID records and those
// run_link links to it, and whose ID never ends in 000 (see touchMangled).
//
// The overlay grows with every sparse run on the same anchor; past
// maxSparseShare of the anchor's persons the run writes every row again,
// early on the side (see incremental_save.go), and becomes the next
// anchor. A batch without keys (imported before there were any) cannot be
// derived from, so a run over one writes every row too.

// maxSparseShare is the share of the anchor's persons above which a run
// writes every row instead of an overlay.
const maxSparseShare = 0.10

// sparseRun is what a sparse run writes beyond its touched persons.
type sparseRun struct {
	anchor  int64
	overlay map[uint64]bool // the base's own rows, when the base is sparse
	gone    []string        // the base's run_person_gone
}

// planSparse decides whether the run writes an overlay of its anchor.
func (r *run) planSparse(ctx context.Context) (*sparseRun, error) {
	inc := r.inc
	keyed, err := keyedBatches(ctx, r.tx, batchIDs(r.batches))
	if err != nil {
		return nil, err
	}
	for _, has := range keyed {
		if !has {
			return nil, nil
		}
	}
	sp := &sparseRun{anchor: inc.base, overlay: map[uint64]bool{}}
	if inc.baseAnchor != 0 {
		sp.anchor = inc.baseAnchor
		ids, err := r.ids(ctx, `SELECT id_number FROM run_person_row WHERE run_id = $1`, inc.base)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if v, ok := pack(id); ok {
				sp.overlay[v] = true
			}
		}
		if sp.gone, err = r.ids(ctx, `SELECT id_number FROM run_person_gone WHERE run_id = $1`, inc.base); err != nil {
			return nil, err
		}
	}
	var persons int
	if err := r.tx.QueryRow(ctx, `SELECT persons FROM comparison_run WHERE id = $1`, sp.anchor).Scan(&persons); err != nil {
		return nil, fmt.Errorf("anchor run: %w", err)
	}
	if float64(len(sp.overlay)+len(sp.gone)+len(inc.touched)) > r.maxSparse*float64(persons) {
		return nil, nil
	}
	return sp, nil
}

// ids reads a column of IDs.
func (r *run) ids(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := r.tx.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sparse base: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("sparse base: %w", err)
	}
	return ids, nil
}

// saveSparse saves a sparse run: its overlay partition, its gone list and
// its links.
func (r *run) saveSparse(ctx context.Context) error {
	if err := r.writeSnapshot(ctx); err != nil {
		return err
	}
	t := time.Now()
	s, sp := r.state, r.sparse
	// The rows to write, by position: the touched persons' and those of the
	// ghosts the base wrote (a few thousand lookups, not a million).
	write := make([]bool, len(r.order))
	for k, pi := range r.order {
		write[k] = !s.persons[pi].ghost
	}
	for id := range sp.overlay {
		if pi, ok := s.find(id); ok && r.pos[pi] >= 0 {
			write[r.pos[pi]] = true
		}
	}
	n, err := r.writePersons(ctx, write)
	if err != nil {
		return err
	}
	if err := r.writeSparseGone(ctx); err != nil {
		return err
	}
	t = r.lap(fmt.Sprintf("写入变动人员（%d 行，其余沿用第 %d 次比对）", n, sp.anchor), t)
	// run_records finds the records a run linked otherwise by line.
	return r.saveLinks(ctx, t, false, `CREATE INDEX ON `+linkTable(r.id)+` (batch_id, line)`)
}

// writeSparseGone lists the anchor's persons the run no longer has: the
// base's persons gone since it, and those the base listed, unless back.
func (r *run) writeSparseGone(ctx context.Context) error {
	s := r.state
	var rows [][]any
	for _, id := range r.sparse.gone {
		v, _ := pack(id)
		if pi, ok := s.find(v); ok && r.pos[pi] >= 0 && s.persons[pi].id == v {
			continue
		}
		rows = append(rows, []any{r.id, id})
	}
	for _, g := range r.gone {
		rows = append(rows, []any{r.id, g.id})
	}
	return r.withCachedPlans(ctx, func() error {
		_, err := r.tx.CopyFrom(ctx, pgx.Identifier{"run_person_gone"}, []string{"run_id", "id_number"}, pgx.CopyFromRows(rows))
		return err
	})
}

// anchorID is the run's anchor for comparison_run.anchor, nil when it
// wrote every row.
func (r *run) anchorID() *int64 {
	if r.sparse == nil {
		return nil
	}
	return &r.sparse.anchor
}
