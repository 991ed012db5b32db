package survey

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/region"
)

// Progress numbers count 000009's definitions over one round:
//
//   - persons (调查人数): members who are targets, or have a live form (a
//     non-target member the team filled a form for);
//   - visited (已入户): persons whose live form is submitted, approved or
//     returned; confirmed (已完成): approved; returned (已退回): returned;
//   - overdue (逾期): persons not yet confirmed after the round's deadline;
//   - households: households with at least one person; a household is
//     visited when any of its persons is (as the package doc says), and
//     confirmed when every one of them is.
//
// Each number is the length of the list ProgressList gives for the same
// round, group and metric: both are built from the predicates below.
const (
	ProgressPersons             = "persons"
	ProgressVisited             = "visited"
	ProgressConfirmed           = "confirmed"
	ProgressReturned            = "returned"
	ProgressOverdue             = "overdue"
	ProgressHouseholds          = "hh"
	ProgressHouseholdsVisited   = "hh_visited"
	ProgressHouseholdsConfirmed = "hh_confirmed"
)

// personPredicates are the person metrics over the progress base (m, h, r,
// f; $3 is today). A NULL (no form) is not true.
var personPredicates = map[string]string{
	ProgressPersons:   `true`,
	ProgressVisited:   `f.state IN ('submitted', 'approved', 'returned')`,
	ProgressConfirmed: `f.state = 'approved'`,
	ProgressReturned:  `f.state = 'returned'`,
	ProgressOverdue:   `r.deadline < $3 AND f.state IS DISTINCT FROM 'approved'`,
}

// householdPredicates are the household metrics over a household's
// progress persons p (persons; nv visited, nc confirmed): visited when any
// person is, confirmed when every one of them is.
var householdPredicates = map[string]string{
	ProgressHouseholds:          `true`,
	ProgressHouseholdsVisited:   `p.nv > 0`,
	ProgressHouseholdsConfirmed: `p.nc = p.persons`,
}

// ProgressMetricLabel is a metric's Chinese name.
func ProgressMetricLabel(m string) string {
	return map[string]string{
		ProgressPersons: "调查人数", ProgressVisited: "已入户人数", ProgressConfirmed: "已完成人数", ProgressReturned: "已退回", ProgressOverdue: "逾期未完成",
		ProgressHouseholds: "调查户数", ProgressHouseholdsVisited: "已入户户数", ProgressHouseholdsConfirmed: "已完成户数",
	}[m]
}

// Group is what a progress row counts: a region (a code inside the
// viewer's), a team (its id) or a clerk (the user who entered the forms;
// "0" for forms entered by the command line).
type Group struct {
	Kind string // "region", "team" or "clerk"
	Key  string
}

// condition is the group's SQL condition ($5) over the progress base:
// over its household h (a region, a team) or over the person's form f (a
// clerk).
func (g Group) condition() (onHousehold, onForm string, arg any, err error) {
	switch g.Kind {
	case "region":
		return actor.InScope("h.region_code", "$5::text"), "", g.Key, nil
	case "team":
		id, err := strconv.ParseInt(g.Key, 10, 64)
		if err != nil {
			return "", "", nil, apperr.NotFoundf("调查组不存在")
		}
		return `coalesce(h.team_id, 0) = $5::bigint`, "", id, nil
	case "clerk":
		id, err := strconv.ParseInt(g.Key, 10, 64)
		if err != nil {
			return "", "", nil, apperr.NotFoundf("录入人员不存在")
		}
		return "", `f.id IS NOT NULL AND coalesce(f.entered_by, 0) = $5::bigint`, id, nil
	}
	return "", "", nil, apperr.NotFoundf("分组不存在")
}

// keptCondition is the group's condition ($5) over the kept counts c.
func (g Group) keptCondition() string {
	switch g.Kind {
	case "region":
		return `c.clerk_id = -1 AND ` + inRegion("c.region_code", "$5::text")
	case "team":
		return `c.clerk_id = -1 AND c.team_id = $5::bigint`
	}
	return `c.clerk_id = $5::bigint`
}

// ProgressRow is one group's numbers.
type ProgressRow struct {
	Group                                          Group
	Label                                          string
	Households, HouseholdsVisited, HouseholdsDone  int
	Persons, Visited, Confirmed, Returned, Overdue int
}

// Number is the row's value of a metric.
func (r ProgressRow) Number(metric string) int {
	switch metric {
	case ProgressPersons:
		return r.Persons
	case ProgressVisited:
		return r.Visited
	case ProgressConfirmed:
		return r.Confirmed
	case ProgressReturned:
		return r.Returned
	case ProgressOverdue:
		return r.Overdue
	case ProgressHouseholds:
		return r.Households
	case ProgressHouseholdsVisited:
		return r.HouseholdsVisited
	case ProgressHouseholdsConfirmed:
		return r.HouseholdsDone
	}
	return 0
}

// add adds r's numbers to x's.
func (x *ProgressRow) add(r ProgressRow) {
	x.Households += r.Households
	x.HouseholdsVisited += r.HouseholdsVisited
	x.HouseholdsDone += r.HouseholdsDone
	x.Persons += r.Persons
	x.Visited += r.Visited
	x.Confirmed += r.Confirmed
	x.Returned += r.Returned
	x.Overdue += r.Overdue
}

// RoundRef is a round a viewer may read progress of.
type RoundRef struct {
	ID          int64
	Title       string
	RegionCode  string
	Deadline    *time.Time
	RunID       int64
	Created     time.Time
	CreatedName string
}

// roundVisibleSQL: a round of the viewer's region, of a region inside it,
// or of a region above it (a township reads its county's round).
const roundVisibleSQL = `(` + `r.region_code LIKE $1 || '%' OR $1 LIKE r.region_code || '%')`

// ProgressRounds lists the rounds the actor may read progress of, newest first.
func (s *Forms) ProgressRounds(ctx context.Context, a actor.Actor) ([]RoundRef, error) {
	if err := a.Check(actor.ReportRead); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT r.id, r.title, r.region_code, r.deadline, r.run_id, r.created_at, r.created_name
		FROM survey_round r WHERE `+roundVisibleSQL+` ORDER BY r.id DESC LIMIT 50`, a.Region)
	if err != nil {
		return nil, fmt.Errorf("rounds: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[RoundRef])
}

// progressRoundSQL reads round $2 if the actor's region $1 may read it.
const progressRoundSQL = `SELECT r.id, r.title, r.region_code, r.deadline, r.run_id, r.created_at, r.created_name
	FROM survey_round r WHERE r.id = $2 AND ` + roundVisibleSQL

// progressRound returns round id if the actor may read it.
func (s *Forms) progressRound(ctx context.Context, a actor.Actor, id int64) (RoundRef, error) {
	var r RoundRef
	err := s.db.QueryRow(ctx, progressRoundSQL, a.Region, id).Scan(&r.ID, &r.Title, &r.RegionCode, &r.Deadline,
		&r.RunID, &r.Created, &r.CreatedName)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, apperr.NotFoundf("调查批次不存在")
	}
	if err != nil {
		return r, fmt.Errorf("round %d: %w", id, err)
	}
	return r, nil
}

// Progress is a round's progress in a region: the region's own numbers,
// one row per child region and, from a township down, per team and per
// clerk.
type Progress struct {
	Round    RoundRef
	Region   string
	Total    ProgressRow
	Children []ProgressRow
	Teams    []ProgressRow
	Clerks   []ProgressRow
}

// scopeOf is the region progress is read in: the one asked for when the
// actor sees it, else the actor's own, and never above the round's region
// (a township clerk reads their township of a county's round).
func scopeOf(a actor.Actor, round RoundRef, code string) (string, error) {
	if code == "" {
		code = a.Region
		if len(round.RegionCode) > len(code) {
			code = round.RegionCode
		}
	}
	if !a.Sees(code) {
		return "", apperr.NotFoundf("区划 %s 不存在", code)
	}
	return code, nil
}

// Progress counts round id's progress in region code (the actor's region
// when empty).
func (s *Forms) Progress(ctx context.Context, a actor.Actor, roundID int64, code string) (Progress, error) {
	if err := a.Check(actor.ReportRead); err != nil {
		return Progress{}, err
	}
	round, err := s.progressRound(ctx, a, roundID)
	if err != nil {
		return Progress{}, err
	}
	if code, err = scopeOf(a, round, code); err != nil {
		return Progress{}, err
	}
	p := Progress{Round: round, Region: code, Total: ProgressRow{Group: Group{"region", code}, Label: code}}
	// Every household lies in exactly one child (its code's prefix), so
	// the region's numbers are the children's sums: one pass, not two. A
	// village is its own only line. Teams and clerks work in a township:
	// listed from the township down.
	below := region.ChildLen(code) > len(code)
	rows, err := s.db.Query(ctx, progressSQL, round.ID, code, max(region.ChildLen(code), len(code)), a.UserID,
		len(code) >= 9, s.Today())
	if err != nil {
		return p, fmt.Errorf("progress: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, name string
		var r ProgressRow
		if err := rows.Scan(&kind, &r.Group.Key, &name, &r.Households, &r.HouseholdsVisited, &r.HouseholdsDone, &r.Persons,
			&r.Visited, &r.Confirmed, &r.Returned, &r.Overdue); err != nil {
			return p, err
		}
		r.Group.Kind, r.Label = kind, name
		switch {
		case kind == "self":
			if name != "" {
				p.Total.Label = name
			}
		case kind == "region":
			p.Total.add(r)
			if below {
				if r.Label == "" {
					r.Label = r.Group.Key
				}
				p.Children = append(p.Children, r)
			}
		case kind == "team":
			if r.Label == "" {
				r.Label = "未分组"
			}
			p.Teams = append(p.Teams, r)
		case kind == "clerk":
			if r.Label == "" {
				r.Label = "命令行"
			}
			p.Clerks = append(p.Clerks, r)
		}
	}
	return p, rows.Err()
}

// progressSums are the kept counts' progress numbers over c, summed in
// ProgressRow's order, overdue last: every person not confirmed once round
// $1's deadline has passed on today (a parameter), read once.
func progressSums(today string) string {
	return `coalesce(sum(c.hh), 0) AS hh, coalesce(sum(c.hh_visited), 0) AS hv, coalesce(sum(c.hh_confirmed), 0) AS hc,
	coalesce(sum(c.p_persons), 0) AS pn, coalesce(sum(c.visited), 0) AS pv, coalesce(sum(c.confirmed), 0) AS pc,
	coalesce(sum(c.returned), 0) AS pr,
	CASE WHEN (SELECT r.deadline FROM survey_round r WHERE r.id = $1) < ` + today + ` THEN coalesce(sum(c.p_persons - c.confirmed), 0)
	ELSE 0 END AS po`
}

// progressSQL is a progress page in one round trip: the kept counts
// (survey_count) of round $1 inside region $2 in the team view of user
// $4, summed per region of the first $3 characters of a village's code
// and, when $5, per team and per clerk (the clerks' rows), each named;
// only keys with a person are listed. They are the progress base's
// numbers added up per household as countsOf does. A "self" row names the
// region. Names are looked up by key (region's in its own collation).
var progressSQL = `
	WITH c AS (
		SELECT c.region_code, c.team_id, c.clerk_id, c.hh, c.hh_visited, c.hh_confirmed, c.p_persons, c.visited, c.confirmed, c.returned
		FROM survey_count c
		WHERE c.round_id = $1 AND ` + inRegion("c.region_code", "$2::text") + ` AND ` + inTeamView("c", "$4::bigint") + `),
	x AS (
		SELECT 'region' AS kind, left(c.region_code, $3::int) AS key, NULL::bigint AS id, ` + progressSums("$6::date") + `
		FROM c WHERE c.clerk_id = -1 GROUP BY 2 HAVING sum(c.p_persons) > 0
		UNION ALL
		SELECT 'team', c.team_id::text, c.team_id, ` + progressSums("$6::date") + `
		FROM c WHERE $5::bool AND c.clerk_id = -1 GROUP BY 2, 3 HAVING sum(c.p_persons) > 0
		UNION ALL
		SELECT 'clerk', c.clerk_id::text, c.clerk_id, ` + progressSums("$6::date") + `
		FROM c WHERE $5::bool AND c.clerk_id >= 0 GROUP BY 2, 3 HAVING sum(c.p_persons) > 0)
	SELECT x.kind, x.key, coalesce(CASE x.kind
	         WHEN 'region' THEN (SELECT g.name FROM region g WHERE g.code = x.key COLLATE "default")
	         WHEN 'team' THEN (SELECT t.name FROM survey_team t WHERE t.id = x.id)
	         ELSE (SELECT u.display_name || '（' || u.username || '）' FROM app_user u WHERE u.id = x.id) END, ''),
	       x.hh, x.hv, x.hc, x.pn, x.pv, x.pc, x.pr, x.po
	FROM x
	UNION ALL
	SELECT 'self', code, name, 0, 0, 0, 0, 0, 0, 0, 0 FROM region WHERE code = $2::text
	ORDER BY 1, 2`

// keptSQL is the group's numbers from the kept counts (round $1, region
// $2, today $3, the team view of user $4, the group's key $5): each the
// length of the list behind it.
func keptSQL(g Group) string {
	return `
		SELECT ` + progressSums("$3::date") + `
		FROM survey_count c
		WHERE c.round_id = $1 AND ` + g.keptCondition() + ` AND ` + inRegion("c.region_code", "$2::text") + ` AND ` +
		inTeamView("c", "$4::bigint")
}

// ProgressItem is one line of a list behind a progress number: a person
// (MemberID set) or a household.
type ProgressItem struct {
	MemberID, HouseholdID, FormID int64
	Name, IDNumber                string
	HouseholdCode, RegionCode     string
	Head                          string
	State                         State
	Persons, Visited, Confirmed   int // a household's
}

// ProgressListSpec is the list contract of the lists behind the numbers.
var ProgressListSpec = list.Spec{Size: 50, Filters: []string{"round", "region", "kind", "key", "metric"}}

// ProgressList is the list behind one progress number: the persons (or
// households) of round id in region code and group g that meet metric,
// by village, household and member; after lq.After (the last row's key:
// region code, household id and, for persons, member id) when it is set.
func (s *Forms) ProgressList(ctx context.Context, a actor.Actor, roundID int64, code string, g Group, metric string, lq list.Query) (list.Page[ProgressItem], error) {
	var none list.Page[ProgressItem]
	if err := a.Check(actor.ReportRead); err != nil {
		return none, err
	}
	onHousehold, onForm, arg, err := g.condition()
	if err != nil {
		return none, err
	}
	_, person := personPredicates[metric]
	if _, hh := householdPredicates[metric]; !person && !hh {
		return none, apperr.NotFoundf("统计项不存在")
	}
	var round RoundRef
	if code == "" { // the default region is the round's: read it first
		if round, err = s.progressRound(ctx, a, roundID); err != nil {
			return none, err
		}
	}
	if code, err = scopeOf(a, round, code); err != nil {
		return none, err
	}
	where := progressWhere
	if onHousehold != "" {
		where += " AND " + onHousehold
	}
	args := []any{customPlan, roundID, code, s.Today(), a.UserID, arg}
	// The round (unless read above), the group's number and, for a list
	// read in its own order whatever its length, the page: one round
	// trip, the round checked once it is back (the rest is inside the
	// actor's region already).
	b := &pgx.Batch{}
	if round.ID == 0 {
		b.Queue(progressRoundSQL, a.Region, roundID).Query(func(rows pgx.Rows) error {
			rs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[RoundRef])
			if len(rs) == 1 {
				round = rs[0]
			}
			return err
		})
	}
	var kept ProgressRow
	b.Queue(keptSQL(g), roundID, code, s.Today(), a.UserID, arg).QueryRow(func(row pgx.Row) error {
		return row.Scan(&kept.Households, &kept.HouseholdsVisited, &kept.HouseholdsDone, &kept.Persons, &kept.Visited, &kept.Confirmed,
			&kept.Returned, &kept.Overdue)
	})
	var items []ProgressItem
	// A list whose query does not depend on its length (the visited
	// persons, every household list) comes with them.
	ordered := !person || metric == ProgressVisited
	if ordered {
		var q string
		var qargs []any
		if person {
			q, qargs = personList(metric, onForm, where, g.Kind, false, lq, args)
		} else {
			q, qargs = householdList(metric, onForm, where, g.Kind, lq, args)
		}
		queueCustom(b, q, qargs[1:]...).Query(func(rows pgx.Rows) error {
			var err error
			items, err = pgx.CollectRows(rows, pgx.RowToStructByPos[ProgressItem])
			return err
		})
	}
	if err := readBatch(ctx, s.db, b); err != nil {
		return none, fmt.Errorf("progress list: %w", err)
	}
	if round.ID == 0 {
		return none, apperr.NotFoundf("调查批次不存在")
	}
	total := kept.Number(metric)
	if total == 0 {
		return list.Of([]ProgressItem{}, total, lq), nil
	}
	if ordered {
		return list.Of(items, total, lq), nil
	}
	// Walked in order, the group's households yield a page of a list of
	// total rows after about Size*households/total of them; a list of
	// fewer rows than that is read from its forms and sorted instead (a
	// county's first few hundred visited persons among 100,000
	// households).
	few := total*total < lq.Size*max(kept.Households, 1)
	q, args := personList(metric, onForm, where, g.Kind, few, lq, args)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return none, fmt.Errorf("progress list: %w", err)
	}
	items, err = pgx.CollectRows(rows, pgx.RowToStructByPos[ProgressItem])
	return list.Of(items, total, lq), err
}

// progressWhere is the households of a round inside a region ($1 round,
// $2 region) in the team view of the user in $4 ($3 is today).
var progressWhere = `h.round_id = $1 AND ` + actor.InScope("h.region_code", "$2::text") + ` AND $3::date IS NOT NULL AND ` +
	inTeamView("h", "$4::bigint")

// personKey is the order of the person lists (formKey the same over a
// form f: its member is m.id); householdListKey of the household lists.
var (
	personKey        = []keyCol{{"h.region_code", "text", true}, {"h.id", "bigint", true}, {"m.id", "bigint", false}}
	formKey          = []keyCol{{"h.region_code", "text", true}, {"h.id", "bigint", true}, {"f.member_id", "bigint", false}}
	visitedKey       = []keyCol{{"f.region_code", "text", true}, {"f.household_id", "bigint", true}, {"f.member_id", "bigint", true}}
	householdFormKey = []keyCol{{"x.region_code", "text", true}, {"x.household_id", "bigint", true}}
	householdListKey = []keyCol{{"h.region_code", "text", true}, {"h.id", "bigint", true}}
)

// formsIn is the list's region ($2) and a region group's own ($5) over
// the region code forms keep (000024) under alias, which their index
// reads.
func formsIn(alias, kind string) string {
	in := actor.InScope(alias+".region_code", "$2::text")
	if kind == "region" {
		in += ` AND ` + actor.InScope(alias+".region_code", "$5::text")
	}
	return in
}

// personList is the query of a page of a person metric's list: the
// progress base walked by household. A metric only a form meets, or a
// clerk's forms, is read from each household's forms (an index probe a
// household), not from all its members; when few forms meet it, from
// those forms alone. The visited forms are read in list order from their
// own index, and so are the approved or returned ones unless they are
// few; kind is the group's.
func personList(metric, onForm, where, kind string, few bool, lq list.Query, args []any) (string, []any) {
	formOnly := metric == ProgressVisited || metric == ProgressConfirmed || metric == ProgressReturned
	if onForm != "" {
		where += " AND " + onForm
	}
	deadline := ""
	if metric == ProgressOverdue { // the round's deadline
		deadline = ` JOIN survey_round r ON r.id = h.round_id`
	}
	if formOnly && (metric == ProgressVisited || !few) {
		// survey_form_visited (000024) walked in order: a page reads its
		// rows (and those it skips) and their households, not every
		// visited form's household to sort them.
		page, args := pageSQL(lq, visitedKey, args[1:])
		return `SELECT m.id, k.household_id, k.id, m.name, m.id_number, k.code, k.region_code, k.head_name, k.state, 0, 0, 0
		FROM (SELECT f.id, f.member_id, f.state, f.household_id, h.code, f.region_code, h.head_name
		      FROM survey_form f JOIN survey_household h ON h.id = f.household_id AND h.round_id = f.round_id
		      WHERE f.round_id = $1 AND ` + personPredicates[ProgressVisited] + ` AND ` + personPredicates[metric] + ` AND ` + formsIn("f", kind) + `
		        AND ` + where + page + `) k
		JOIN survey_member m ON m.id = k.member_id AND m.round_id = $1
		ORDER BY k.region_code, k.household_id, m.id`, append([]any{customPlan}, args...)
	}
	if (formOnly || onForm != "") && few {
		// The forms are sorted with their households; a form's member is
		// its key's last part, so only the page's members are read.
		cond := []string{`f.round_id = $1`, `f.state <> 'superseded'`}
		if formOnly {
			cond = append(cond, personPredicates[metric])
		}
		if onForm != "" {
			cond = append(cond, onForm)
		}
		page, args := pageSQL(lq, formKey, args[1:])
		return `WITH f AS MATERIALIZED (SELECT f.* FROM survey_form f WHERE ` + strings.Join(cond, " AND ") + `)
		SELECT m.id, k.household_id, k.id, m.name, m.id_number, k.code, k.region_code, k.head_name, k.state, 0, 0, 0
		FROM (SELECT f.id, f.member_id, f.state, f.household_id, h.code, h.region_code, h.head_name
		      FROM f JOIN survey_household h ON h.id = f.household_id AND h.round_id = f.round_id` + deadline + `
		      WHERE ` + where + ` AND ` + personPredicates[metric] + page + `) k
		JOIN survey_member m ON m.id = k.member_id AND m.round_id = $1
		ORDER BY k.region_code, k.household_id, m.id`, append([]any{customPlan}, args...)
	}
	from := `survey_household h JOIN survey_member m ON m.household_id = h.id AND m.round_id = h.round_id
		LEFT JOIN survey_form f ON f.member_id = m.id AND f.state <> 'superseded'`
	if formOnly || onForm != "" {
		from = `survey_household h JOIN survey_form f ON f.household_id = h.id AND f.round_id = h.round_id AND f.state <> 'superseded'
		JOIN survey_member m ON m.id = f.member_id AND m.round_id = h.round_id`
	}
	page, args := pageSQL(lq, personKey, args[1:])
	return `SELECT m.id, h.id, coalesce(f.id, 0), m.name, m.id_number, h.code, h.region_code, h.head_name,
		coalesce(f.state, 'pending'), 0, 0, 0 FROM ` + from + deadline + ` WHERE ` + where + ` AND (m.target OR f.id IS NOT NULL) AND ` +
		personPredicates[metric] + page, append([]any{customPlan}, args...)
}

// householdList is the query of a page of a household metric's list: the
// households walked in order, each with its progress persons counted
// (of a clerk's forms only, for a clerk), each person's form looked up by
// its key (while the forms are few a plan would rather hash them all, for
// every household). A list of households with a form the metric needs
// starts from those forms.
func householdList(metric, onForm, where, kind string, lq list.Query, args []any) (string, []any) {
	personsOf := `(m.target OR f.id IS NOT NULL)`
	if onForm != "" {
		personsOf += " AND " + onForm
	}
	hint := map[string]string{ProgressHouseholdsVisited: `x.state IN ('submitted', 'approved', 'returned')`,
		ProgressHouseholdsConfirmed: `x.state = 'approved'`}[metric]
	if onForm != "" { // a clerk's: the forms they entered
		if hint != "" {
			hint += " AND "
		}
		hint += `x.state <> 'superseded' AND coalesce(x.entered_by, 0) = $5::bigint`
	}
	from, key := `survey_household h`, householdListKey
	if hint != "" {
		// The households with a form the metric needs (a clerk's: with
		// their forms) in list order, read by the forms' own key (000024;
		// the visited ones from their index): a page reads about as many
		// households as it shows, not the region's households each looked
		// up among the forms.
		from = `(SELECT DISTINCT x.region_code, x.household_id FROM survey_form x
			WHERE x.round_id = $1 AND ` + hint + ` AND ` + formsIn("x", kind) + `) x
			JOIN survey_household h ON h.id = x.household_id AND h.round_id = $1`
		key = householdFormKey
	}
	page, args := pageSQL(lq, key, args[1:])
	return `SELECT 0, h.id, 0, h.head_name, '', h.code, h.region_code, h.head_name, 'pending', p.persons, p.nv, p.nc
		FROM ` + from + `
		CROSS JOIN LATERAL (
			SELECT count(*) AS persons, count(*) FILTER (WHERE ` + personPredicates[ProgressVisited] + `) AS nv,
			       count(*) FILTER (WHERE ` + personPredicates[ProgressConfirmed] + `) AS nc
			FROM survey_member m LEFT JOIN LATERAL (
				SELECT f.id, f.state, f.entered_by FROM survey_form f WHERE f.member_id = m.id AND f.state <> 'superseded' LIMIT 1) f ON true
			WHERE m.household_id = h.id AND m.round_id = h.round_id AND ` + personsOf + `) p
		WHERE ` + where + ` AND p.persons > 0 AND ` + householdPredicates[metric] + page,
		append([]any{customPlan}, args...)
}
