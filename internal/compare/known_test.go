package compare

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestKnownMergesSortedGhosts: known gives every unmerged person's ID in
// order whether or not the first persons are in order already (an
// incremental run's ghosts, some of them emptied and merged between
// rounds), and whatever the others' IDs are; person by person, and from
// the ghosts' IDs and emptied slots.
func TestKnownMergesSortedGhosts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		ids := map[uint64]bool{}
		for len(ids) < 1+rng.IntN(300) {
			ids[rng.Uint64N(5000)] = true
		}
		all := make([]uint64, 0, len(ids))
		for id := range ids {
			all = append(all, id)
		}
		rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		s := &state{sorted: rng.IntN(len(all) + 1)}
		slices.Sort(all[:s.sorted]) // the ghosts, in ID order; the rest in any order
		var want knownIDs
		for i, id := range all {
			merged := rng.IntN(5) == 0
			s.persons = append(s.persons, person{id: id, merged: merged, ghost: i < s.sorted && !merged})
			if !merged {
				want = append(want, id)
			}
		}
		slices.Sort(want)
		if got := s.knownEach(s.sorted); !slices.Equal(got, want) {
			t.Fatalf("trial %d (%d persons, %d sorted): known = %v, want %v", trial, len(all), s.sorted, got, want)
		}
		// As an incremental run's state: the ghosts' IDs and emptied slots known.
		s.ghostIDs = all[:s.sorted]
		for pi := range s.sorted {
			if s.persons[pi].merged {
				s.emptied = append(s.emptied, int32(pi))
			}
		}
		if got := s.known(); !slices.Equal(got, want) {
			t.Fatalf("trial %d (%d persons, %d sorted, %d emptied): known = %v, want %v", trial, len(all), s.sorted, len(s.emptied), got, want)
		}
	}
}

// TestNameWorld: the fingerprint a later round's remembered decisions
// depend on is the same for the same persons in another order, with an
// emptied ghost slot beside the person its ID founded again, and differs
// when a name or where a merged ID leads changes.
func TestNameWorld(t *testing.T) {
	build := func(names map[uint64]string, merged map[uint64]uint64, order []uint64, empty []uint64) *state {
		s := &state{index: map[uint64]int32{}}
		for _, id := range empty { // emptied ghosts first, as resetGhosts leaves them
			s.persons = append(s.persons, person{id: id, merged: true})
		}
		for _, id := range order {
			s.index[id] = int32(len(s.persons))
			s.persons = append(s.persons, person{id: id, name: s.store([]byte(names[id])), merged: merged[id] != 0})
		}
		for id, to := range merged {
			s.index[id] = s.index[to]
		}
		return s
	}
	names := map[uint64]string{1: "张三", 2: "李四", 3: "王五", 4: "王五"}
	merged := map[uint64]uint64{4: 3}
	a := build(names, merged, []uint64{1, 2, 3, 4}, nil).nameWorld()
	if b := build(names, merged, []uint64{4, 2, 1, 3}, []uint64{2}).nameWorld(); a != b {
		t.Errorf("same persons in another order, with an emptied slot: %v, want %v", b, a)
	}
	renamed := map[uint64]string{1: "张三", 2: "李四华", 3: "王五", 4: "王五"}
	if b := build(renamed, merged, []uint64{1, 2, 3, 4}, nil).nameWorld(); a == b {
		t.Error("a renamed person leaves the fingerprint as it was")
	}
	if b := build(names, map[uint64]uint64{4: 2}, []uint64{1, 2, 3, 4}, nil).nameWorld(); a == b {
		t.Error("a merged ID leading elsewhere leaves the fingerprint as it was")
	}
	if b := build(names, merged, []uint64{1, 2, 3, 4}, []uint64{9}).nameWorld(); a != b {
		t.Error("an emptied slot whose ID founds no person counts")
	}
}
