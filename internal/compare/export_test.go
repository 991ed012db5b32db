package compare

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5/pgxpool"
)

// SnapshotMatchesRows reads a run's persons from its snapshot and from
// its run_person rows, as an incremental run reads its base, and
// describes the first difference ("" when they are the same); ok is false
// when the run has no snapshot.
func SnapshotMatchesRows(ctx context.Context, db *pgxpool.Pool, runID int64) (diff string, ok bool, err error) {
	snap, ok, err := readSnapshot(ctx, db, runID)
	if err != nil || !ok {
		return "", ok, err
	}
	rows := &incremental{base: runID}
	if err := db.QueryRow(ctx, `SELECT coalesce(anchor, 0) FROM comparison_run WHERE id = $1`, runID).Scan(&rows.baseAnchor); err != nil {
		return "", true, err
	}
	if err := rows.readBase(ctx, db); err != nil {
		return "", true, err
	}
	if len(snap.persons) != len(rows.persons) {
		return fmt.Sprintf("%d persons in the snapshot, %d rows", len(snap.persons), len(rows.persons)), true, nil
	}
	// A person's records in (batch, line) order: a sparse run's are
	// derived in that order, a run's own are in the order it linked them.
	describe := func(p basePerson, arena []byte, regions []string, batches []int64, lines []int32) string {
		refs := make([]string, 0, p.nref)
		for j := p.refs; j < p.refs+p.nref; j++ {
			refs = append(refs, fmt.Sprintf("%012d:%09d", batches[j], lines[j]))
		}
		slices.Sort(refs)
		return fmt.Sprintf("%s %q %s %+v %v", unpack(p.id), arena[p.name.off:p.name.off+p.name.n], regions[p.region], p.res, refs)
	}
	for i := range snap.persons {
		a := describe(snap.persons[i], snap.arena, snap.regions, snap.refBatch, snap.refLine)
		b := describe(rows.persons[i], rows.arena, rows.regions, rows.refBatch, rows.refLine)
		if a != b {
			return fmt.Sprintf("person %d: snapshot %s, rows %s", i, a, b), true, nil
		}
	}
	if len(snap.refBatch) != len(rows.refBatch) || len(snap.refLine) != len(rows.refLine) {
		return "records that belong to no person", true, nil
	}
	return "", true, nil
}

// DecodeSnapshot decodes a snapshot's bytes, for tests of damaged ones.
func DecodeSnapshot(data []byte) (persons int, err error) {
	b, err := decodeSnapshot(data)
	return len(b.persons), err
}

// WriteEveryRow makes the engine's incremental runs write every row, as
// they do once their anchor's overlay has grown too large.
func (e *Engine) WriteEveryRow() { e.maxSparse = -1 }
