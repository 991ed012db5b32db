package server

import (
	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
)

// visibleCandidates are the indexes of the review candidates inside the
// actor's region: a township clerk reviewing a record of their township
// does not see persons of other townships. The indexes are kept, since a
// decision names its candidate by index.
func visibleCandidates(a actor.Actor, list []compare.Candidate) []int {
	var out []int
	for i, c := range list {
		if a.Sees(c.RegionCode) {
			out = append(out, i)
		}
	}
	return out
}
