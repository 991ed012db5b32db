package survey

import (
	"context"
	"fmt"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/region"
)

// The numbers of a round per region; each is the length of a list:
// MetricHouseholds and MetricAssigned of Households, MetricPersons and
// MetricTargets of Members.
const (
	MetricHouseholds = "households" // households listed
	MetricPersons    = "persons"    // members listed
	MetricTargets    = "targets"    // members who are targets
	MetricAssigned   = "assigned"   // households assigned to a team
)

// Metrics lists the round metrics in display order.
var Metrics = []string{MetricHouseholds, MetricPersons, MetricTargets, MetricAssigned}

// MetricLabel is a metric's Chinese name.
func MetricLabel(m string) string {
	switch m {
	case MetricHouseholds:
		return "调查户数"
	case MetricPersons:
		return "户内人数"
	case MetricTargets:
		return "调查对象"
	case MetricAssigned:
		return "已分派户数"
	}
	return m
}

// Scope checks that the actor may read the round's part in code: code lies
// inside the actor's region and inside the round's.
func (s *Store) Scope(a actor.Actor, r Round, code string) error {
	if err := a.CheckIn(surveyRead, code, "区划 "+code); err != nil {
		return err
	}
	if !region.Within(r.RegionCode, code) {
		return apperr.NotFoundf("区划 %s 不在调查批次 #%d 的范围内", code, r.ID)
	}
	return nil
}

// Counts returns the round's numbers in code and in each region directly
// below it that has households (the caller adds the empty ones).
func (s *Store) Counts(ctx context.Context, a actor.Actor, r Round, code string) (region.Counts, []region.Line, error) {
	if err := s.Scope(a, r, code); err != nil {
		return nil, nil, err
	}
	// The kept counts (survey_count) per village and team, so the team
	// view applies to them as to the households.
	q := `
		SELECT left(c.region_code, $3), sum(c.households), sum(c.persons), sum(c.targets), sum(c.assigned)
		FROM survey_count c
		WHERE c.round_id = $1 AND c.clerk_id = -1 AND ` + inRegion("c.region_code", "$2") + ` AND ` + inTeamView("c", "$4") + `
		GROUP BY 1 HAVING sum(c.households) > 0 ORDER BY 1`
	rows, err := s.db.Query(ctx, q, r.ID, code, region.ChildLen(code), a.UserID)
	if err != nil {
		return nil, nil, fmt.Errorf("round %d counts: %w", r.ID, err)
	}
	defer rows.Close()
	total := region.Counts{}
	for _, m := range Metrics {
		total[m] = 0
	}
	var lines []region.Line
	for rows.Next() {
		var c string
		var h, p, t, as int
		if err := rows.Scan(&c, &h, &p, &t, &as); err != nil {
			return nil, nil, err
		}
		l := region.Line{Code: c, Counts: region.Counts{MetricHouseholds: h, MetricPersons: p, MetricTargets: t, MetricAssigned: as}}
		for k, n := range l.Counts {
			total[k] += n
		}
		if c != code { // households placed in code itself (no deeper region known) show in the rest line
			lines = append(lines, l)
		}
	}
	return total, lines, rows.Err()
}
