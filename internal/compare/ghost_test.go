package compare

import (
	"bytes"
	"errors"
	"testing"

	"github.com/canbao/canbao/internal/pgcopy"
)

// ghostCopy encodes run_person rows as copyGhosts selects them: run, ID,
// name, region, result columns, records, changed.
func ghostCopy(t *testing.T, rows []ghostRow) []byte {
	t.Helper()
	var buf bytes.Buffer
	e := pgcopy.NewEncoder(&buf)
	for _, r := range rows {
		e.Row(12)
		e.Int64(7)
		e.Text(r.id)
		e.Text("某某")
		e.Text("440981001")
		e.Bool(true)
		e.Text(Insured)
		e.Text(Insured)
		e.Int32(0)
		e.Bool(false)
		e.Int64Array(r.batches)
		e.Int32Array(r.lines)
		e.Bool(false)
	}
	if err := e.Finish(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type ghostRow struct {
	id      string
	batches []int64
	lines   []int32
}

// TestGhostRows checks the rewrite of the base's rows an incremental run
// copies: touched persons dropped, records of a superseded batch moved to
// the new batch and line, others untouched; a record of an untouched
// person that is gone is an error, not a silently wrong row.
func TestGhostRows(t *testing.T) {
	const kept, touched, unpackable = "440981199001011234", "440981199001021238", "4409811990"
	_, ok := pack(kept)
	if !ok {
		t.Fatal("test ID does not pack")
	}
	tc, ok := pack(touched)
	if !ok {
		t.Fatal("test ID does not pack")
	}
	// Batch 3 superseded by 9: line 2 removed, line 3 is now 2, 4 is 5.
	p := &pair{old: 3, new: 9, lineMap: []int32{-1, -1, -1, 2, 5}}
	inc := &incremental{touched: map[uint64]bool{tc: true}, changes: &changes{pairs: map[int64]*pair{3: p}}}
	in := ghostCopy(t, []ghostRow{
		{kept, []int64{3, 5, 3}, []int32{3, 7, 4}},
		{touched, []int64{3}, []int32{2}},
		{unpackable, nil, nil},
	})
	got, err := inc.ghostRows(in)
	if err != nil {
		t.Fatal(err)
	}
	want := ghostCopy(t, []ghostRow{{kept, []int64{9, 5, 9}, []int32{2, 7, 5}}})
	if !bytes.Equal(got, want) {
		t.Errorf("rows:\n got %x\nwant %x", got, want)
	}

	t.Run("ErrGone", func(t *testing.T) {
		inc := &incremental{touched: map[uint64]bool{}, changes: &changes{pairs: map[int64]*pair{3: p}}}
		if _, err := inc.ghostRows(ghostCopy(t, []ghostRow{{kept, []int64{3}, []int32{2}}})); err == nil {
			t.Error("a gone record of an untouched person was copied")
		}
	})
	t.Run("ErrFormat", func(t *testing.T) {
		in := ghostCopy(t, []ghostRow{{kept, []int64{3}, []int32{3}}})
		if _, err := inc.ghostRows(in[:len(in)-5]); !errors.Is(err, errCopyFormat) {
			t.Errorf("truncated data: %v", err)
		}
		if _, err := inc.ghostRows([]byte("PGCOPY but not")); !errors.Is(err, errCopyFormat) {
			t.Errorf("bad header: %v", err)
		}
	})
}
