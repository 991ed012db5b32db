package batchdiff

import (
	"slices"
	"testing"
)

func rows(lines []int32, hashes []int64) []Row {
	out := make([]Row, len(lines))
	for i := range lines {
		out[i] = Row{Line: lines[i], Hash: hashes[i], ID: uint64(hashes[i]) * 100}
	}
	return out
}

// TestCompute: records with equal digests in the same relative order are
// kept under their new lines; a changed record, a removed one, a new one
// and one moved against the others are removed and added.
func TestCompute(t *testing.T) {
	old := rows([]int32{2, 3, 4, 5, 6, 7}, []int64{10, 11, 12, 13, 14, 15})
	// 11 removed, 13 changed to 23, 15 moved before 12, 30 new at the end.
	nw := rows([]int32{2, 3, 4, 5, 6, 7}, []int64{10, 15, 12, 23, 14, 30})
	d := Compute(1, 2, old, nw)
	want := []int32{-1, -1, 2, -1, 4, -1, 6, -1}
	if !slices.Equal(d.LineMap, want) {
		t.Errorf("line map %v, want %v", d.LineMap, want)
	}
	if !slices.Equal(d.Removed, []int32{3, 5, 7}) || !slices.Equal(d.Added, []int32{3, 5, 7}) {
		t.Errorf("removed %v, added %v", d.Removed, d.Added)
	}
	if !slices.Equal(d.IDs, []uint64{1500, 2300, 3000, 1100, 1300, 1500}) {
		t.Errorf("IDs %v", d.IDs)
	}
	// Lines shifted by a removed record keep their records.
	d = Compute(1, 2, old, rows([]int32{2, 3, 4, 5, 6}, []int64{10, 12, 13, 14, 15}))
	if want := []int32{-1, -1, 2, -1, 3, 4, 5, 6}; !slices.Equal(d.LineMap, want) || !slices.Equal(d.Removed, []int32{3}) || len(d.Added) != 0 {
		t.Errorf("shifted: %+v", d)
	}
	// Two equal records pair up in line order.
	d = Compute(1, 2, rows([]int32{1, 2}, []int64{5, 5}), rows([]int32{1, 2, 3}, []int64{5, 6, 5}))
	if want := []int32{-1, 1, 3}; !slices.Equal(d.LineMap, want) || !slices.Equal(d.Added, []int32{2}) {
		t.Errorf("equal records: %+v", d)
	}
}

// TestRuns: the line map stored as runs reads back the same.
func TestRuns(t *testing.T) {
	m := []int32{-1, -1, 2, 3, 4, -1, 5, 6, 9, -1, -1, 12}
	d := &Diff{LineMap: m}
	runs := d.Runs()
	if want := []int32{2, 2, 3, 6, 5, 2, 8, 9, 1, 11, 12, 1}; !slices.Equal(runs, want) {
		t.Errorf("runs %v, want %v", runs, want)
	}
	if back := fromRuns(runs, int32(len(m)-1)); !slices.Equal(back, m) {
		t.Errorf("read back %v, want %v", back, m)
	}
}

func TestOrdered(t *testing.T) {
	r := rows([]int32{3, 1, 2}, []int64{1, 2, 3})
	if !Ordered(r) || r[0].Line != 1 || r[2].Line != 3 {
		t.Errorf("unsorted lines: %v", r)
	}
	if Ordered(rows([]int32{1, 2, 2}, []int64{1, 2, 3})) {
		t.Error("a repeated line matched")
	}
}

func TestKey(t *testing.T) {
	for _, c := range []struct {
		id, damage string
		ok         bool
	}{
		{"44098119800101123X", "", true},
		{"440981198001010000", "", false}, // ends in 000
		{"44098119800101123X", "check", false},
		{"", "", false},
		{"4409811980010112", "", false},
	} {
		v, ok := Key(c.id, c.damage)
		if ok != c.ok {
			t.Errorf("Key(%q, %q) ok = %v", c.id, c.damage, ok)
		}
		if ok && Unpack(uint64(v)) != c.id {
			t.Errorf("Key(%q) = %d, unpacks to %s", c.id, v, Unpack(uint64(v)))
		}
	}
}
