package compare

import (
	"context"
	"slices"

	"github.com/canbao/canbao/internal/source"
)

// outcome is a Result in six bytes, for a million persons.
type outcome struct {
	pension, medical uint8 // index into statuses
	flags            uint16
	universe, survey bool
}

// statuses are the values Classify gives 养老/医疗参保状态 (TestClassifyRules
// reads every case back through compact).
var statuses = []string{NotApplied, Insured, Interrupted, NotInsured}

func compact(r Result) outcome {
	return outcome{uint8(slices.Index(statuses, r.Pension)), uint8(slices.Index(statuses, r.Medical)),
		uint16(r.Flags), r.Universe, r.Survey}
}

func (o outcome) result() Result {
	return Result{Universe: o.universe, Pension: statuses[o.pension], Medical: statuses[o.medical], Flags: int(o.flags), Survey: o.survey}
}

// classify applies Classify to every person with a linked record, in ID
// order (the order run_person_row and the registry are written in). A person
// with an approved survey form is not surveyed again (see surveyed).
func (r *run) classify(ctx context.Context) error {
	s := r.state
	surveyed, err := r.surveyed(ctx)
	if err != nil {
		return err
	}
	type entry struct {
		id uint64
		pi int32
	}
	sorted := make([]entry, 0, len(s.persons))
	for i := range s.persons {
		if s.persons[i].links > 0 {
			sorted = append(sorted, entry{s.persons[i].id, int32(i)})
		}
	}
	slices.SortFunc(sorted, func(a, b entry) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	r.order = make([]int32, len(sorted))
	r.pos = make([]int32, len(s.persons))
	for i := range r.pos {
		r.pos[i] = -1 // no linked record: not in the run
	}
	r.results = make([]outcome, len(sorted))
	r.regions = make([]uint32, len(sorted))
	runRegion := s.dict.id([]byte(r.req.Region))
	for k, e := range sorted {
		p := &s.persons[e.pi]
		r.order[k], r.pos[e.pi] = e.pi, int32(k)
		res := Classify(p.facts(), r.req.AsOf)
		res.Survey = res.Survey && !surveyed[p.id] // an approved survey form settled it
		r.results[k] = compact(res)
		// The person's region: hukou, else residence, else a local
		// enrollment, else (not in the universe) the run's region.
		r.regions[k] = runRegion
		if p.homeRank != 0 {
			r.regions[k] = p.home
		}
		if k&0xFFFF == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

func schemeKeys(group string) []string {
	var out []string
	for _, s := range source.Schemes() {
		if s.Group == group {
			out = append(out, s.Key)
		}
	}
	return out
}
