package survey

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/sheet"
)

// Household is a household to visit, as listed.
type Household struct {
	ID                 int64
	Code               string
	Household          string // 户号; "" for a household of one
	RegionCode         string
	RegionName         string
	Address, HeadName  string
	Targets, Persons   int
	TeamID             int64 // 0: not assigned
	TeamName           string
	AddedRun           int64
	Visited, Confirmed int // members whose live form is visited, approved (000009)
}

// HouseholdFilter selects households of a round.
type HouseholdFilter struct {
	Region string
	// Team: 0 any, -1 none assigned, else that team.
	Team int64
	// Assigned keeps only households assigned to a team.
	Assigned bool
	// Query is a task code, a member's name or the start of a member's ID.
	Query string
}

// HouseholdSpec is how household lists page: the filters their links keep.
var HouseholdSpec = list.Spec{Size: 50, Filters: []string{"region", "team", "assigned", "q"}}

// householdCols are a listed household's columns over h, with t its team
// and v its forms' numbers (householdForms). The village is named by
// region's key: compared in survey_household's "C", the code could not
// use it and every row read the whole region table.
const householdCols = `h.id, h.code, h.household, h.region_code,
	coalesce((SELECT g.name FROM region g WHERE g.code = h.region_code COLLATE "default"), ''),
	h.address, h.head_name, h.targets, h.persons, coalesce(h.team_id, 0), coalesce(t.name, ''), h.added_run, v.visited, v.confirmed`

// householdForms counts a household's live forms visited and approved, in
// one pass over its forms.
const householdForms = `CROSS JOIN LATERAL (
	SELECT count(*) FILTER (WHERE f.state IN ('submitted', 'approved', 'returned')) AS visited,
	       count(*) FILTER (WHERE f.state = 'approved') AS confirmed
	FROM survey_form f WHERE f.household_id = h.id) v`

// householdKey is the order of household lists: by village, then as
// published. A "next" link carries the last row's key, so a deep page is
// read from the index where the one before it ended.
var householdKey = []keyCol{{"h.region_code", "text", true}, {"h.id", "bigint", true}}

// householdWhere is the predicate of f over survey_household h for the
// actor (their team view), with its arguments after $1 (the round).
func householdWhere(a actor.Actor, f HouseholdFilter) (string, []any) {
	where := []string{"h.round_id = $1", actor.InScope("h.region_code", "$2"), inTeamView("h", "$3")}
	args := []any{f.Region, a.UserID}
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args)+1)))
	}
	switch {
	case f.Team > 0:
		add("h.team_id = $?", f.Team)
	case f.Team < 0:
		where = append(where, "h.team_id IS NULL")
	case f.Assigned:
		where = append(where, "h.team_id IS NOT NULL")
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		if code, ok := NormalizeCode(q); ok {
			add("h.code = $?", code)
		} else if q[0] >= '0' && q[0] <= '9' {
			add("h.id IN (SELECT household_id FROM survey_member WHERE round_id = $1 AND id_number LIKE $? || '%')", strings.ToUpper(q))
		} else {
			add("EXISTS (SELECT 1 FROM survey_member m WHERE m.household_id = h.id AND m.name = $?)", q)
		}
	}
	return strings.Join(where, " AND "), args
}

// householdCount counts the households of f: from the kept counts (over
// survey_count c, with householdWhere's arguments) unless a query
// narrows them.
func householdCount(f HouseholdFilter, where string) string {
	if strings.TrimSpace(f.Query) != "" {
		return `SELECT count(*) FROM survey_household h WHERE ` + where
	}
	cond := []string{"c.round_id = $1", "c.clerk_id = -1", inRegion("c.region_code", "$2"), inTeamView("c", "$3")}
	n := "c.households"
	switch {
	case f.Team > 0:
		cond = append(cond, "c.team_id = $4")
	case f.Team < 0:
		cond = append(cond, "c.team_id = 0")
	case f.Assigned:
		n = "c.assigned"
	}
	return `SELECT coalesce(sum(` + n + `), 0) FROM survey_count c WHERE ` + strings.Join(cond, " AND ")
}

// Households lists a page of the round's households in f.Region (inside
// the actor's region and the round's), by village and id: after lq.After
// (the last region code and id of the page before) when it is set. The
// count and the page go to the server in one round trip.
func (s *Store) Households(ctx context.Context, a actor.Actor, r Round, f HouseholdFilter, lq list.Query) (list.Page[Household], error) {
	if err := s.Scope(a, r, f.Region); err != nil {
		return list.Page[Household]{}, err
	}
	var p TaskPage
	b := &pgx.Batch{}
	queueHouseholds(b, a, r, f, lq, &p)
	if err := readBatch(ctx, s.db, b); err != nil {
		return list.Page[Household]{}, fmt.Errorf("households: %w", err)
	}
	return list.Of(p.Items, p.Total, lq), nil
}

// TaskPage is a page of a round's task list with what the page shows
// beside it.
type TaskPage struct {
	list.Page[Household]
	Members map[int64][]Member // the households' members, by household
	Teams   []TeamChoice       // the active teams of the list's township, when the list lies inside one the actor sees
	Limited bool               // the actor is limited to their team's households (and so manages no team)
}

// TeamChoice is a team as a list's filter offers it.
type TeamChoice struct {
	ID   int64
	Name string
}

// TaskList is Households for the task list page: the page's households
// with their members, the township's teams and the actor's team limit,
// all in one round trip. A clerk on a busy server waited for each of the
// six queries the page used to make in turn.
func (s *Store) TaskList(ctx context.Context, a actor.Actor, r Round, f HouseholdFilter, lq list.Query) (TaskPage, error) {
	if err := s.Scope(a, r, f.Region); err != nil {
		return TaskPage{}, err
	}
	p := TaskPage{Members: map[int64][]Member{}}
	// The teams and the limit first: the list's queries are planned for
	// their arguments, and so is what follows them.
	b := &pgx.Batch{}
	if len(f.Region) >= 9 && a.Sees(f.Region[:9]) {
		b.Queue(`SELECT t.id, t.name FROM survey_team t WHERE `+actor.InScope("t.region_code", "$1")+` AND t.active
			ORDER BY t.region_code, t.name`, f.Region[:9]).Query(func(rows pgx.Rows) error {
			var err error
			p.Teams, err = pgx.CollectRows(rows, pgx.RowToStructByPos[TeamChoice])
			return err
		})
	}
	if a.UserID != 0 {
		b.Queue(limitedSQL, a.UserID).QueryRow(func(row pgx.Row) error { return row.Scan(&p.Limited) })
	}
	queueHouseholds(b, a, r, f, lq, &p)
	if err := readBatch(ctx, s.db, b); err != nil {
		return TaskPage{}, fmt.Errorf("task list: %w", err)
	}
	p.Query = lq
	return p, nil
}

// queueHouseholds queues the count of f's households and the page of them
// lq asks for (with each household's members when p.Members is set) onto
// b, which fills p. Queries queued after them are planned for their
// arguments (queueCustom).
func queueHouseholds(b *pgx.Batch, a actor.Actor, r Round, f HouseholdFilter, lq list.Query, p *TaskPage) {
	where, args := householdWhere(a, f)
	args = append([]any{r.ID}, args...)
	// The kept counts are few rows, summed by a cached statement; a count
	// of a search (an ID's start, a name) is planned for what was typed.
	count := b.Queue
	if strings.TrimSpace(f.Query) != "" {
		count = func(sql string, args ...any) *pgx.QueuedQuery { return queueCustom(b, sql, args...) }
	}
	count(householdCount(f, where), args...).QueryRow(func(row pgx.Row) error { return row.Scan(&p.Total) })
	// The page's households are found first, then only they are joined
	// to their team and forms: a plan that sorts the region's households
	// (or skips rows to a page) does not count every one's forms.
	page, args := pageSQL(lq, householdKey, args)
	q := `SELECT ` + householdCols + ` FROM (SELECT h.* FROM survey_household h WHERE ` + where + page + `) h
		LEFT JOIN survey_team t ON t.id = h.team_id ` + householdForms
	if p.Members == nil {
		queueCustom(b, q+` ORDER BY h.region_code, h.id`, args...).Query(func(rows pgx.Rows) error {
			var err error
			p.Items, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Household])
			return err
		})
		return
	}
	// With their members: a row per member (a household without any
	// still has its row, with no member).
	q = `SELECT h.*, ` + householdMemberCols + ` FROM (` + q + `) h
		LEFT JOIN survey_member m ON m.household_id = h.id AND m.round_id = $1
		ORDER BY h.region_code, h.id, m.relation <> '户主', m.id`
	p.Items = []Household{}
	queueCustom(b, q, args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var h Household
			var m Member
			var id *int64
			if err := rows.Scan(&h.ID, &h.Code, &h.Household, &h.RegionCode, &h.RegionName, &h.Address, &h.HeadName, &h.Targets,
				&h.Persons, &h.TeamID, &h.TeamName, &h.AddedRun, &h.Visited, &h.Confirmed,
				&id, &m.IDNumber, &m.Name, &m.Relation, &m.Target, &m.Pension, &m.Medical, &m.Flags, &m.AddedRun, &m.DroppedRun,
				&m.Found, &m.State); err != nil {
				return err
			}
			if n := len(p.Items); n == 0 || p.Items[n-1].ID != h.ID {
				p.Items = append(p.Items, h)
			}
			if id != nil {
				m.ID, m.HouseholdID, m.Code, m.RegionCode = *id, h.ID, h.Code, h.RegionCode
				p.Members[h.ID] = append(p.Members[h.ID], m)
			}
		}
		return rows.Err()
	})
}

// householdMemberCols are a household's member's columns over m, as
// memberCols without the household's own (NULL for no member).
const householdMemberCols = `m.id, coalesce(m.id_number, ''), coalesce(m.name, ''), coalesce(m.relation, ''), coalesce(m.target, false),
	coalesce(m.pension, ''), coalesce(m.medical, ''), coalesce(m.flags, 0), coalesce(m.added_run, 0), coalesce(m.dropped_run, 0),
	coalesce(m.found, false), coalesce((SELECT f.state FROM survey_form f WHERE f.member_id = m.id AND f.state <> 'superseded'), '')`

// readBatch sends b's queries in one round trip, in a read-only
// transaction. After an error the server skips the rest, COMMIT too, and
// the pool drops the connection left in the failed transaction.
func readBatch(ctx context.Context, db *pgxpool.Pool, b *pgx.Batch) error {
	all := &pgx.Batch{}
	all.Queue(`begin read only`)
	all.QueuedQueries = append(all.QueuedQueries, b.QueuedQueries...)
	all.Queue(`commit`)
	return db.SendBatch(ctx, all).Close()
}

// queueCustom queues a list query that must be planned for the arguments
// it runs with (see customPlan), for readBatch: a batch runs cached
// statements, whose generic plan may read a whole county to list a
// village. Queries queued after it are planned so too.
func queueCustom(b *pgx.Batch, sql string, args ...any) *pgx.QueuedQuery {
	b.Queue(`set local plan_cache_mode = force_custom_plan`)
	return b.Queue(sql, args...)
}

// FindTask returns the household of a task code in a round visible to the
// actor; a code outside the actor's region does not exist for them.
func (s *Store) FindTask(ctx context.Context, a actor.Actor, code string) (Round, Household, error) {
	c, ok := NormalizeCode(code)
	if !ok {
		return Round{}, Household{}, apperr.Invalidf("任务码 %s 不正确，请核对（7 位，不含 0、1、I、L、O）", strings.TrimSpace(code))
	}
	var round int64
	var place string
	err := s.db.QueryRow(ctx, `SELECT round_id, region_code FROM survey_household WHERE code = $1`, c).Scan(&round, &place)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !a.Sees(place)) {
		return Round{}, Household{}, apperr.NotFoundf("任务码 %s 不存在", c)
	}
	if err != nil {
		return Round{}, Household{}, fmt.Errorf("find task %s: %w", c, err)
	}
	r, err := s.GetRound(ctx, a, round)
	if err != nil {
		return r, Household{}, err
	}
	p, err := s.Households(ctx, a, r, HouseholdFilter{Region: place, Query: c}, list.Query{Page: 1, Size: 1})
	if err != nil || len(p.Items) == 0 {
		return r, Household{}, errors.Join(err, apperr.NotFoundf("任务码 %s 不存在", c))
	}
	return r, p.Items[0], nil
}

// Member is one person listed for a household.
type Member struct {
	ID               int64
	HouseholdID      int64
	Code             string // the household's task code
	RegionCode       string // the household's village
	IDNumber, Name   string
	Relation         string
	Target           bool
	Pension, Medical string
	Flags            int
	AddedRun         int64
	DroppedRun       int64 // 0: not dropped
	Found            bool
	State            string // the live form's state; "" 待调查
}

// FlagNames names the member's flags (问题标记), joined by 、.
func (m Member) FlagNames() string { return compare.FlagNames(m.Flags) }

const memberCols = `m.id, m.household_id, h.code, h.region_code, m.id_number, m.name, m.relation, m.target, m.pension, m.medical, m.flags,
	m.added_run, coalesce(m.dropped_run, 0), m.found,
	coalesce((SELECT f.state FROM survey_form f WHERE f.member_id = m.id AND f.state <> 'superseded'), '')`

// MemberSpec is how member lists page.
var MemberSpec = list.Spec{Size: 50, Filters: []string{"region", "targets", "q"}}

// memberKey is the order of member lists: by village, household and
// member, the households walked by their index.
var memberKey = []keyCol{{"h.region_code", "text", true}, {"h.id", "bigint", true}, {"m.id", "bigint", false}}

// Members lists a page of the members of the round's households in region
// (all of them, or the targets only), by village, household and member:
// after lq.After (the last row's region code, household and member) when
// it is set. The total is the kept counts' persons or targets.
func (s *Store) Members(ctx context.Context, a actor.Actor, r Round, region string, targetsOnly bool, lq list.Query) (list.Page[Member], error) {
	if err := s.Scope(a, r, region); err != nil {
		return list.Page[Member]{}, err
	}
	n := "c.persons"
	if targetsOnly {
		n = "c.targets"
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT coalesce(sum(`+n+`), 0) FROM survey_count c WHERE c.round_id = $1 AND c.clerk_id = -1 AND `+
		inRegion("c.region_code", "$2")+` AND `+inTeamView("c", "$3"), r.ID, region, a.UserID).Scan(&total); err != nil {
		return list.Page[Member]{}, fmt.Errorf("members: %w", err)
	}
	where := `h.round_id = $1 AND ` + actor.InScope("h.region_code", "$2") + ` AND ($3 = false OR m.target) AND ` + inTeamView("h", "$4")
	page, args := pageSQL(lq, memberKey, []any{r.ID, region, targetsOnly, a.UserID})
	rows, err := s.db.Query(ctx, `SELECT `+memberCols+` FROM survey_household h JOIN survey_member m ON m.household_id = h.id AND m.round_id = h.round_id
		WHERE `+where+page, append([]any{customPlan}, args...)...)
	if err != nil {
		return list.Page[Member]{}, fmt.Errorf("members: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Member])
	return list.Of(out, total, lq), err
}

// TaskHeader is the header of the task list export.
var TaskHeader = []string{"任务码", "区划代码", "村（居）", "户号", "户主", "调查组", "姓名", "公民身份号码", "与户主关系", "调查对象",
	"养老参保状态", "医疗参保状态", "问题标记"}

// ExportTasks writes the task list of a village (or any region inside the
// round): one row per member with the whole ID, as the paper lists need,
// and audits the download.
func (s *Store) ExportTasks(ctx context.Context, a actor.Actor, r Round, region string, w sheet.Writer) (int, error) {
	if err := a.Check(actor.Export); err != nil {
		return 0, err
	}
	if err := s.Scope(a, r, region); err != nil {
		return 0, err
	}
	rows, err := s.db.Query(ctx, `
		SELECT h.code, h.region_code, coalesce(g.name, ''), h.household, h.head_name, coalesce(t.name, ''),
		       m.name, m.id_number, m.relation, m.target, m.pension, m.medical, m.flags
		FROM survey_household h
		JOIN survey_member m ON m.household_id = h.id
		LEFT JOIN region g ON g.code = h.region_code LEFT JOIN survey_team t ON t.id = h.team_id
		WHERE h.round_id = $1 AND `+actor.InScope("h.region_code", "$2")+` AND `+inTeamView("h", "$3")+`
		ORDER BY h.region_code, h.id, m.relation <> '户主', m.id`, r.ID, region, a.UserID)
	if err != nil {
		return 0, fmt.Errorf("export tasks: %w", err)
	}
	defer rows.Close()
	if err := w.Write(TaskHeader); err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		var code, place, placeName, hh, head, team, name, id, rel, pension, medical string
		var target bool
		var flags int
		if err := rows.Scan(&code, &place, &placeName, &hh, &head, &team, &name, &id, &rel, &target, &pension, &medical, &flags); err != nil {
			return n, err
		}
		yes := "否"
		if target {
			yes = "是"
		}
		row := []string{code, place, sheet.Escape(placeName), sheet.Escape(hh), sheet.Escape(head), sheet.Escape(team), sheet.Escape(name),
			sheet.Escape(id), sheet.Escape(rel), yes, pension, medical, compare.FlagNames(flags)}
		if err := w.Write(row); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	e := audit.For(a, AuditExport, "round:"+strconv.FormatInt(r.ID, 10))
	e.Detail = fmt.Sprintf("任务清单 %s %d 行", region, n)
	return n, audit.Record(ctx, s.db, e)
}
