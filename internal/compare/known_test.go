package compare

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestKnownMergesSortedGhosts: known gives every unmerged person's ID in
// order whether or not the first persons are in order already (an
// incremental run's ghosts, some of them emptied and merged between
// rounds), and whatever the others' IDs are.
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
		for _, id := range all {
			merged := rng.IntN(5) == 0
			s.persons = append(s.persons, person{id: id, merged: merged})
			if !merged {
				want = append(want, id)
			}
		}
		slices.Sort(want)
		if got := s.known(); !slices.Equal(got, want) {
			t.Fatalf("trial %d (%d persons, %d sorted): known = %v, want %v", trial, len(all), s.sorted, got, want)
		}
	}
}
