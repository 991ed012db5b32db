package compare

import (
	"context"
	"time"

	"github.com/canbao/canbao/internal/batchdiff"
	"github.com/canbao/canbao/internal/registry"
)

// updateRegistry hands the run's persons to the registry as one change
// set: the run is the source, its starter the actor, its as-of date the
// date the changes took effect.
func (r *run) updateRegistry(ctx context.Context) error {
	cs := registry.ChangeSet{
		Source:    registry.Source{Kind: registry.Comparison, ID: r.id},
		Actor:     r.by.UserID,
		Effective: r.req.AsOf,
		Region:    r.req.Region,
		Persons:   runPersons{r},
	}
	if r.inc != nil {
		// Only the touched persons: looked up by ID, not the region read whole.
		cs.Region, cs.Persons = "", newTouchedPersons(r)
	}
	return r.withCachedPlans(ctx, func() error {
		_, err := registry.Apply(ctx, r.tx, cs)
		return err
	})
}

// runPersons shows the run's persons, in ID order, to the registry
// straight from the run's memory.
type runPersons struct{ r *run }

// Len implements registry.Persons.
func (p runPersons) Len() int { return len(p.r.order) }

// ID implements registry.Persons.
func (p runPersons) ID(buf []byte, k int) []byte {
	return batchdiff.AppendID(buf, p.r.state.persons[p.r.order[k]].id)
}

// Find implements registry.Persons.
func (p runPersons) Find(id []byte) (int, bool) {
	key, ok := batchdiff.Pack(id)
	if !ok {
		return 0, false
	}
	pi, ok := p.r.state.find(key)
	if !ok || p.r.pos[pi] < 0 {
		return 0, false
	}
	return int(p.r.pos[pi]), true
}

// Asserted implements registry.Dated: the k-th person's facts are as
// new as the extract their identity comes from.
func (p runPersons) Asserted(k int) time.Time {
	s := p.r.state
	return s.batches[s.persons[p.r.order[k]].batch].Imported
}

// Value implements registry.Persons: a run sets every field, from the
// person's identity record and the region the run placed them in.
func (p runPersons) Value(buf []byte, k int, f registry.Field) ([]byte, bool) {
	s := p.r.state
	ps := &s.persons[p.r.order[k]]
	switch f {
	case registry.Name:
		return append(buf, s.bytes(ps.name)...), true
	case registry.Sex:
		return append(buf, s.dict.vals[ps.sex]...), true
	case registry.Birth:
		if ps.birth == noDate {
			return buf, true
		}
		return registry.AppendDate(buf, ps.birth), true
	case registry.Household:
		return append(buf, s.bytes(ps.household)...), true
	case registry.Relation:
		return append(buf, s.dict.vals[ps.relation]...), true
	case registry.HukouRegion:
		return append(buf, s.dict.vals[ps.hukou]...), true
	case registry.PopStatus:
		return append(buf, s.dict.vals[ps.pop]...), true
	case registry.IdentityKind:
		return append(buf, s.batches[ps.batch].Kind...), true
	case registry.RegionCode:
		return append(buf, s.dict.vals[p.r.regions[k]]...), true
	}
	return buf, false
}
