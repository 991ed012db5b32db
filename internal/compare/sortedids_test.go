package compare

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortedIDs: search finds every ID where a binary search over all of
// them does, and no other, for spread, clustered, tiny and one-ID sets,
// at their edges and between them.
func TestSortedIDs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for trial := range 300 {
		n := rng.IntN(3000)
		if trial < 3 {
			n = trial // none, one, two
		}
		set := map[uint64]bool{}
		for len(set) < n {
			var id uint64
			switch trial % 3 {
			case 0: // spread
				id = rng.Uint64N(1 << 62)
			case 1: // clustered: a few regions, close IDs
				id = uint64(rng.IntN(4))<<40 + rng.Uint64N(5000)
			default: // packed IDs of one county
				id = 440981_1950_0101_000*11 + rng.Uint64N(1<<36)
			}
			set[id] = true
		}
		ids := make([]uint64, 0, n)
		for id := range set {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		x := newSortedIDs(ids)
		probe := func(id uint64) {
			wi, wok := slices.BinarySearch(ids, id)
			gi, gok := x.search(id)
			if gok != wok || (wok && gi != wi) {
				t.Fatalf("trial %d (%d IDs): search(%d) = %d, %v; want %d, %v", trial, n, id, gi, gok, wi, wok)
			}
		}
		for _, id := range ids {
			probe(id)
			probe(id + 1)
			probe(id - 1)
		}
		for _, id := range []uint64{0, 1, 1<<64 - 1, 1 << 62} {
			probe(id)
		}
		for range 1000 {
			probe(rng.Uint64())
			if n > 0 {
				probe(ids[0] + rng.Uint64N(ids[n-1]-ids[0]+1))
			}
		}
	}
}
