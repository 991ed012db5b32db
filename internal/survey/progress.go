package survey

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
// aggregate (columns visited: any person is; confirmed: every person is).
var householdPredicates = map[string]string{
	ProgressHouseholds:          `true`,
	ProgressHouseholdsVisited:   `visited`,
	ProgressHouseholdsConfirmed: `confirmed`,
}

// ProgressMetricLabel is a metric's Chinese name.
func ProgressMetricLabel(m string) string {
	return map[string]string{
		ProgressPersons: "调查人数", ProgressVisited: "已入户人数", ProgressConfirmed: "已完成人数", ProgressReturned: "已退回", ProgressOverdue: "逾期未完成",
		ProgressHouseholds: "调查户数", ProgressHouseholdsVisited: "已入户户数", ProgressHouseholdsConfirmed: "已完成户数",
	}[m]
}

// progressBase is every person of a round inside a region ($1 round, $2
// region) in the team view of the user in $4; a group's condition is
// added to it.
var progressBase = `
	FROM survey_member m JOIN survey_household h ON h.id = m.household_id JOIN survey_round r ON r.id = h.round_id
	LEFT JOIN survey_form f ON f.member_id = m.id AND f.state <> 'superseded'
	WHERE h.round_id = $1 AND ` + actor.InScope("h.region_code", "$2::text") + ` AND (m.target OR f.id IS NOT NULL) AND $3::date IS NOT NULL
	AND ` + inTeamView("h", "$4::bigint")

// Group is what a progress row counts: a region (a code inside the
// viewer's), a team (its id) or a clerk (the user who entered the forms;
// "0" for forms entered by the command line).
type Group struct {
	Kind string // "region", "team" or "clerk"
	Key  string
}

// condition is the group's SQL condition ($5) over the progress base.
func (g Group) condition() (string, any, error) {
	switch g.Kind {
	case "region":
		return actor.InScope("h.region_code", "$5::text"), g.Key, nil
	case "team":
		id, err := strconv.ParseInt(g.Key, 10, 64)
		if err != nil {
			return "", nil, apperr.NotFoundf("调查组不存在")
		}
		return `coalesce(h.team_id, 0) = $5::bigint`, id, nil
	case "clerk":
		id, err := strconv.ParseInt(g.Key, 10, 64)
		if err != nil {
			return "", nil, apperr.NotFoundf("录入人员不存在")
		}
		return `f.id IS NOT NULL AND coalesce(f.entered_by, 0) = $5::bigint`, id, nil
	}
	return "", nil, apperr.NotFoundf("分组不存在")
}

// keptCondition is the group's condition ($5) over the kept counts c.
func (g Group) keptCondition() string {
	switch g.Kind {
	case "region":
		return `c.clerk_id = -1 AND ` + actor.InScope("c.region_code", "$5::text")
	case "team":
		return `c.clerk_id = -1 AND c.team_id = $5::bigint`
	}
	return `c.clerk_id = $5::bigint`
}

// total is the group's number of metric, from the kept counts: the
// length of the list behind it.
func (s *Forms) total(ctx context.Context, a actor.Actor, round RoundRef, code string, g Group, arg any, metric string) (int, error) {
	rows, err := s.countWhere(ctx, a, round.ID, code, s.Today(), `''`, g.keptCondition(), arg)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	return rows[0].Number(metric), nil
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

// progressRound returns round id if the actor may read it.
func (s *Forms) progressRound(ctx context.Context, a actor.Actor, id int64) (RoundRef, error) {
	var r RoundRef
	err := s.db.QueryRow(ctx, `SELECT r.id, r.title, r.region_code, r.deadline, r.run_id, r.created_at, r.created_name
		FROM survey_round r WHERE r.id = $2 AND `+roundVisibleSQL, a.Region, id).Scan(&r.ID, &r.Title, &r.RegionCode, &r.Deadline,
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
	p := Progress{Round: round, Region: code, Total: ProgressRow{Group: Group{"region", code}}}
	today := s.Today()
	// Every household lies in exactly one child (its code's prefix), so
	// the region's numbers are the children's sums: one pass, not two.
	if n := region.ChildLen(code); n > len(code) {
		if p.Children, err = s.count(ctx, a, round.ID, code, today, `left(c.region_code, `+strconv.Itoa(n)+`)`, ""); err != nil {
			return p, err
		}
		for i := range p.Children {
			p.Children[i].Group.Kind = "region"
			p.Total.add(p.Children[i])
		}
	} else {
		totals, err := s.count(ctx, a, round.ID, code, today, `$2::text`, "")
		if err != nil {
			return p, err
		}
		for _, t := range totals {
			p.Total.add(t)
		}
	}
	// Teams and clerks work in a township: listed from the township down.
	if len(code) < 9 {
		return p, s.label(ctx, &p)
	}
	if p.Teams, err = s.count(ctx, a, round.ID, code, today, `c.team_id::text`, ""); err != nil {
		return p, err
	}
	for i := range p.Teams {
		p.Teams[i].Group.Kind = "team"
	}
	if p.Clerks, err = s.count(ctx, a, round.ID, code, today, `c.clerk_id::text`, "clerk"); err != nil {
		return p, err
	}
	for i := range p.Clerks {
		p.Clerks[i].Group.Kind = "clerk"
	}
	return p, s.label(ctx, &p)
}

// count sums the kept counts (survey_count) per key, an SQL expression
// over them: the households' rows, or the clerks' rows when by is
// "clerk". They are progressBase's numbers added up per household as
// countsOf does; overdue is every person not confirmed once the deadline
// ($3) has passed. Only keys with a person are listed, as when they were
// counted from the base.
func (s *Forms) count(ctx context.Context, a actor.Actor, round int64, code string, today time.Time, key, by string) ([]ProgressRow, error) {
	rows := `c.clerk_id = -1`
	if by == "clerk" {
		rows = `c.clerk_id >= 0`
	}
	return s.countWhere(ctx, a, round, code, today, key, rows)
}

// countWhere sums the kept counts meeting cond (over c; $5 is arg when
// given) per key.
func (s *Forms) countWhere(ctx context.Context, a actor.Actor, round int64, code string, today time.Time, key, rows string, arg ...any) ([]ProgressRow, error) {
	q := `
		SELECT ` + key + `, sum(c.hh), sum(c.hh_visited), sum(c.hh_confirmed), sum(c.p_persons), sum(c.visited), sum(c.confirmed),
		       sum(c.returned), CASE WHEN r.deadline < $3 THEN sum(c.p_persons - c.confirmed) ELSE 0 END
		FROM survey_count c JOIN survey_round r ON r.id = c.round_id
		WHERE c.round_id = $1 AND ` + rows + ` AND ` + actor.InScope("c.region_code", "$2::text") + ` AND ` + inTeamView("c", "$4::bigint") + `
		GROUP BY 1, r.deadline HAVING sum(c.p_persons) > 0 ORDER BY 1`
	res, err := s.db.Query(ctx, q, append([]any{round, code, today, a.UserID}, arg...)...)
	if err != nil {
		return nil, fmt.Errorf("progress: %w", err)
	}
	return pgx.CollectRows(res, func(row pgx.CollectableRow) (ProgressRow, error) {
		var r ProgressRow
		err := row.Scan(&r.Group.Key, &r.Households, &r.HouseholdsVisited, &r.HouseholdsDone, &r.Persons, &r.Visited, &r.Confirmed,
			&r.Returned, &r.Overdue)
		return r, err
	})
}

// label names the rows: regions, teams and clerks.
func (s *Forms) label(ctx context.Context, p *Progress) error {
	codes := []string{p.Region}
	for _, c := range p.Children {
		codes = append(codes, c.Group.Key)
	}
	names := map[string]string{}
	rows, err := s.db.Query(ctx, `SELECT code, name FROM region WHERE code = ANY($1)`, codes)
	if err != nil {
		return fmt.Errorf("region names: %w", err)
	}
	for rows.Next() {
		var c, n string
		if err := rows.Scan(&c, &n); err != nil {
			return err
		}
		names[c] = n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	regionName := func(c string) string {
		if n, ok := names[c]; ok {
			return n
		}
		return c
	}
	p.Total.Label = regionName(p.Region)
	for i := range p.Children {
		p.Children[i].Label = regionName(p.Children[i].Group.Key)
	}
	if len(p.Teams) == 0 && len(p.Clerks) == 0 {
		return nil
	}
	// Teams and clerks named in one round trip, not one a row.
	var teams, clerks []int64
	for _, t := range p.Teams {
		id, _ := strconv.ParseInt(t.Group.Key, 10, 64)
		teams = append(teams, id)
	}
	for _, c := range p.Clerks {
		id, _ := strconv.ParseInt(c.Group.Key, 10, 64)
		clerks = append(clerks, id)
	}
	const q = `SELECT 'team', id::text, name FROM survey_team WHERE id = ANY($1)
		UNION ALL SELECT 'clerk', id::text, display_name || '（' || username || '）' FROM app_user WHERE id = ANY($2)`
	rows, err = s.db.Query(ctx, q, teams, clerks)
	if err != nil {
		return fmt.Errorf("progress labels: %w", err)
	}
	labels := map[[2]string]string{}
	for rows.Next() {
		var kind, id, name string
		if err := rows.Scan(&kind, &id, &name); err != nil {
			return err
		}
		labels[[2]string{kind, id}] = name
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range p.Teams {
		p.Teams[i].Label = "未分组"
		if l, ok := labels[[2]string{"team", p.Teams[i].Group.Key}]; ok {
			p.Teams[i].Label = l
		}
	}
	for i := range p.Clerks {
		p.Clerks[i].Label = "命令行"
		if l, ok := labels[[2]string{"clerk", p.Clerks[i].Group.Key}]; ok {
			p.Clerks[i].Label = l
		}
	}
	return nil
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
// households) of round id in region code and group g that meet metric.
func (s *Forms) ProgressList(ctx context.Context, a actor.Actor, roundID int64, code string, g Group, metric string, lq list.Query) (list.Page[ProgressItem], error) {
	var none list.Page[ProgressItem]
	if err := a.Check(actor.ReportRead); err != nil {
		return none, err
	}
	round, err := s.progressRound(ctx, a, roundID)
	if err != nil {
		return none, err
	}
	if code, err = scopeOf(a, round, code); err != nil {
		return none, err
	}
	cond, arg, err := g.condition()
	if err != nil {
		return none, err
	}
	where := progressBase + " AND " + cond
	args := []any{round.ID, code, s.Today(), a.UserID, arg}
	_, person := personPredicates[metric]
	if _, hh := householdPredicates[metric]; !person && !hh {
		return none, apperr.NotFoundf("统计项不存在")
	}
	total, err := s.total(ctx, a, round, code, g, arg, metric)
	if err != nil {
		return none, err
	}
	if pred, ok := personPredicates[metric]; ok {
		rows, err := s.db.Query(ctx, `SELECT m.id, h.id, coalesce(f.id, 0), m.name, m.id_number, h.code, h.region_code, h.head_name,
			coalesce(f.state, 'pending'), 0, 0, 0 `+where+` AND `+pred+` ORDER BY h.region_code, h.code, m.id LIMIT $6 OFFSET $7`,
			append(args, lq.Limit(), lq.Offset())...)
		if err != nil {
			return none, fmt.Errorf("progress list: %w", err)
		}
		items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ProgressItem])
		return list.Of(items, total, lq), err
	}
	pred := householdPredicates[metric]
	hh := `WITH hh AS (SELECT h.id, h.code, h.region_code, h.head_name, count(*) AS persons,
			count(*) FILTER (WHERE ` + personPredicates[ProgressVisited] + `) AS nv,
			count(*) FILTER (WHERE ` + personPredicates[ProgressConfirmed] + `) AS nc,
			bool_or(coalesce(` + personPredicates[ProgressVisited] + `, false)) AS visited,
			bool_and(coalesce(` + personPredicates[ProgressConfirmed] + `, false)) AS confirmed
		` + where + ` GROUP BY h.id, h.code, h.region_code, h.head_name)`
	rows, err := s.db.Query(ctx, hh+` SELECT 0, id, 0, head_name, '', code, region_code, head_name, 'pending', persons, nv, nc
		FROM hh WHERE `+pred+` ORDER BY region_code, code LIMIT $6 OFFSET $7`, append(args, lq.Limit(), lq.Offset())...)
	if err != nil {
		return none, fmt.Errorf("progress list: %w", err)
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ProgressItem])
	return list.Of(items, total, lq), err
}
