package survey

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/list"
)

// TaskRow is a household found by the entry search.
type TaskRow struct {
	HouseholdID                                int64
	Code, RegionCode, Head, Household, Address string
	RoundTitle                                 string
	Members                                    int
	States                                     map[State]int
}

// TaskSpec is the entry search's list contract.
var TaskSpec = list.Spec{Size: 30, Filters: []string{"q"}}

// Tasks finds household tasks of the actor's region by what a clerk types:
// a task code (as printed, with its check character), a citizen ID, or a
// member's or head's name (a prefix will do); nothing lists every
// household, by code. Households of the newest rounds come first.
func (s *Forms) Tasks(ctx context.Context, a actor.Actor, lq list.Query) (list.Page[TaskRow], error) {
	if err := a.Check(actor.SurveyEnter); err != nil {
		return list.Page[TaskRow]{}, err
	}
	q := strings.TrimSpace(lq.Filter("q"))
	cond, arg := `$2::text = ''`, any(q)
	switch code, ok := NormalizeCode(q); {
	case q == "":
	case ok:
		cond, arg = `h.code = $2`, code
	// The households a name or ID finds are read from the indexes on them
	// first: a county's township has thousands of households to filter.
	case idcard.Parse(q).Valid():
		cond, arg = `h.id IN (SELECT x.household_id FROM survey_member x WHERE x.id_number = $2)`, idcard.Parse(q).Norm
	default:
		cond = `h.id IN (SELECT x.household_id FROM survey_member x WHERE x.name LIKE $2 || '%'
			UNION SELECT y.id FROM survey_household y WHERE y.head_name LIKE $2 || '%')`
		arg = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)
	}
	where := `FROM survey_household h
		WHERE ` + actor.InScope("h.region_code", "$1") + ` AND ` + inTeamView("h", "$3") + ` AND ` + cond
	// The page's households and how many there are in one query, planned
	// for what was typed; only the page's households have their members
	// and forms read.
	rows, err := s.db.Query(ctx, `SELECT h.id, h.code, h.region_code, h.head_name, h.household, h.address, r.title, p.members, p.states, k.total
		FROM (SELECT h.id, h.round_id, count(*) OVER () AS total `+where+` ORDER BY h.round_id DESC, h.code LIMIT $4 OFFSET $5) k
		JOIN survey_household h ON h.id = k.id AND h.round_id = k.round_id JOIN survey_round r ON r.id = h.round_id
		CROSS JOIN LATERAL (
			SELECT count(*) AS members, coalesce(array_agg(coalesce(f.state, 'pending')), '{}') AS states
			FROM survey_member m LEFT JOIN survey_form f ON f.member_id = m.id AND f.state <> 'superseded'
			WHERE m.household_id = h.id AND m.round_id = h.round_id) p
		ORDER BY h.round_id DESC, h.code`, customPlan, a.Region, arg, a.UserID, lq.Limit(), lq.Offset())
	if err != nil {
		return list.Page[TaskRow]{}, fmt.Errorf("tasks: %w", err)
	}
	var total int
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (TaskRow, error) {
		var t TaskRow
		var states []string
		err := row.Scan(&t.HouseholdID, &t.Code, &t.RegionCode, &t.Head, &t.Household, &t.Address, &t.RoundTitle, &t.Members, &states, &total)
		t.States = map[State]int{}
		for _, st := range states {
			t.States[State(st)]++
		}
		return t, err
	})
	if err != nil {
		return list.Page[TaskRow]{}, fmt.Errorf("tasks: %w", err)
	}
	if len(items) == 0 && lq.Offset() > 0 { // past the end: counted alone
		if err := s.db.QueryRow(ctx, `SELECT count(*) `+where, customPlan, a.Region, arg, a.UserID).Scan(&total); err != nil {
			return list.Page[TaskRow]{}, fmt.Errorf("tasks: %w", err)
		}
	}
	return list.Of(items, total, lq), nil
}

// StateOrder is the order states are listed in.
var StateOrder = []State{Pending, Draft, Submitted, Returned, Approved}

// PersonForm is a survey form of a person, for the person page.
type PersonForm struct {
	FormID     int64
	State      State
	SurveyedOn *time.Time
	RoundTitle string
}

// PersonForms lists the live and superseded forms of a citizen ID inside
// the actor's region, newest first.
func (s *Forms) PersonForms(ctx context.Context, a actor.Actor, id string) ([]PersonForm, error) {
	if err := a.Check(actor.PersonRead); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT f.id, f.state, f.surveyed_on, r.title
		FROM survey_member m JOIN survey_form f ON f.member_id = m.id JOIN survey_household h ON h.id = m.household_id
		JOIN survey_round r ON r.id = m.round_id
		WHERE m.id_number = $1 AND `+actor.InScope("h.region_code", "$2")+` AND `+inTeamView("h", "$3")+` ORDER BY f.id DESC LIMIT 20`,
		id, a.Region, a.UserID)
	if err != nil {
		return nil, fmt.Errorf("person forms: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PersonForm])
}
