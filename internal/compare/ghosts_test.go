package compare

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestGhostsFoundWithoutIndex: the state finds every ghost by its ID
// (binary search, not the index) with the base's name, finds the persons
// a round adds through the index, and after resetGhosts finds exactly
// what a state built afresh for the touched persons finds: the ghosts
// touched since are gone (their IDs found again only once a record
// founds them), the round's persons and every change to a ghost's facts
// undone.
func TestGhostsFoundWithoutIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 100 {
		inc := &incremental{touched: map[uint64]bool{}}
		ids := map[uint64]bool{}
		for len(ids) < 1+rng.IntN(400) {
			ids[1000+rng.Uint64N(10000)] = true
		}
		for id := range ids {
			name := fmt.Sprintf("名%d", rng.IntN(50))
			inc.persons = append(inc.persons, basePerson{id: id, name: text{uint32(len(inc.arena)), uint32(len(name))}})
			inc.arena = append(inc.arena, name...)
		}
		slices.SortFunc(inc.persons, func(a, b basePerson) int { return int(a.id) - int(b.id) })
		touch := func(share int) {
			for _, p := range inc.persons {
				if rng.IntN(share) == 0 {
					inc.touch(p.id)
				}
			}
		}
		touch(10)
		s := newStateSized("440981", nil, nil, 0, 0)
		inc.addGhosts(s)
		checkGhosts(t, trial, "added", inc, s)

		// A round: records found new persons, a touched base person among
		// them, and link to ghosts.
		added := map[uint64]int32{}
		for range rng.IntN(30) {
			id := 20000 + rng.Uint64N(1000)
			if p := inc.persons[rng.IntN(len(inc.persons))]; inc.touched[p.id] && rng.IntN(2) == 0 {
				id = p.id
			}
			if _, ok := s.find(id); ok {
				continue
			}
			pi := int32(len(s.persons))
			s.persons = append(s.persons, person{id: id, name: s.store([]byte("新人")), death: noDate})
			s.index[id] = pi
			added[id] = pi
		}
		for id, pi := range added {
			if got, ok := s.find(id); !ok || got != pi {
				t.Fatalf("trial %d: an added person %d found at %d, %v; want %d", trial, id, got, ok, pi)
			}
		}
		for pi := range s.sorted {
			if s.persons[pi].ghost && rng.IntN(5) == 0 {
				s.persons[pi].links, s.persons[pi].mask = 3, bitInfoError
			}
		}

		// The next round touches more of them.
		touch(8)
		checkGhosts(t, trial, "reset", inc, inc.resetGhosts(s, newStateSized("440981", nil, nil, 0, 0)))
		touch(8)
		checkGhosts(t, trial, "reset twice", inc, inc.resetGhosts(s, newStateSized("440981", nil, nil, 0, 0)))
	}
}

// checkGhosts checks that s finds the untouched base persons as fresh
// ghosts named as in the base, and nothing else.
func checkGhosts(t *testing.T, trial int, when string, inc *incremental, s *state) {
	t.Helper()
	if len(s.index) != 0 {
		t.Fatalf("trial %d, %s: the index holds %d persons, want none", trial, when, len(s.index))
	}
	for i := range inc.persons {
		b := &inc.persons[i]
		pi, ok := s.find(b.id)
		if inc.touched[b.id] {
			if ok {
				t.Fatalf("trial %d, %s: touched person %d found at %d", trial, when, b.id, pi)
			}
			continue
		}
		if !ok {
			t.Fatalf("trial %d, %s: ghost %d not found", trial, when, b.id)
		}
		p := s.persons[pi]
		want := string(inc.arena[b.name.off : b.name.off+b.name.n])
		if p.id != b.id || !p.ghost || p.merged || p.links != 0 || p.mask != 0 || s.str(p.name) != want || inc.ghostOf[i] != pi || inc.baseOf[pi] != int32(i) {
			t.Fatalf("trial %d, %s: ghost %d is %+v named %q, want %q", trial, when, b.id, p, s.str(p.name), want)
		}
	}
	for _, id := range []uint64{0, 999, 20000, 21000, 1 << 40} {
		if pi, ok := s.find(id); ok {
			t.Fatalf("trial %d, %s: unknown ID %d found at %d", trial, when, id, pi)
		}
	}
	var live []uint64
	for i := range s.sorted {
		if !s.persons[i].merged {
			live = append(live, s.persons[i].id)
		}
	}
	if got := s.known(); !slices.Equal(got, knownIDs(live)) {
		t.Fatalf("trial %d, %s: known = %v, want the live ghosts %v", trial, when, got, live)
	}
}

// TestPersonsNamed: every person bearing a wanted name is found, in ID
// order, whatever the signature filter lets through; blank and one-byte
// names included.
func TestPersonsNamed(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	parts := []string{"", "a", "王", "李", "张", "伟", "芳", "娜", "秀", "英", "华", "x"}
	randomName := func() string {
		n := ""
		for range rng.IntN(4) {
			n += parts[rng.IntN(len(parts))]
		}
		return n
	}
	for trial := range 200 {
		s := newStateSized("440981", nil, nil, 0, 0)
		byName := map[string][]string{}
		for range rng.IntN(500) {
			id := rng.Uint64N(1 << 40)
			name := randomName()
			s.persons = append(s.persons, person{id: id, name: s.store([]byte(name))})
			byName[name] = append(byName[name], unpack(id))
		}
		want, expect := map[string][]string{}, map[string][]string{}
		for range 1 + rng.IntN(20) {
			name := randomName()
			want[name] = nil
			ids := slices.Clone(byName[name])
			slices.Sort(ids)
			expect[name] = ids
		}
		s.personsNamed(want)
		for name, ids := range expect {
			if !slices.Equal(want[name], ids) {
				t.Fatalf("trial %d: persons named %q = %v, want %v", trial, name, want[name], ids)
			}
		}
	}
}
