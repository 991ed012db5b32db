package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/region"
	"github.com/canbao/canbao/internal/source"
)

// As of a date (issue 13): an entry is rebuilt from its current row and
// its events, field by field. A field's value on a date is the new value
// of the latest-recorded event in effect by then (effective on or before
// the date): a later record corrects an earlier one, as a death date
// corrected a month later does. Before any of its events took effect it
// held what the first-recorded event replaced; a field without events has
// always held its current value. A death date on or before the date means
// the person was dead then, whatever the status event's own date says
// (the status changes when the death is learnt, the date says when it
// happened). The entry existed from the date of the source that added it
// (a comparison's as-of date, the day an extract was taken); other first
// sources carry no date and count as always there.

// deathField is the event field of a death date (the dynamic changes
// record it; a registry without it simply has no such events).
const deathField = "death_date"

// ValuesAsOf rebuilds an entry's fields on day d from its current values
// and its events, given in the order they were recorded.
func ValuesAsOf(current map[string]string, events []Event, d time.Time) map[string]string {
	out := make(map[string]string, len(current))
	for k, v := range current {
		out[k] = v
	}
	type state struct {
		first, inEffect *Event
	}
	fields := map[string]*state{}
	for i := range events {
		e := &events[i]
		st := fields[e.Field]
		if st == nil {
			st = &state{first: e}
			fields[e.Field] = st
		}
		if !e.Effective.After(d) {
			st.inEffect = e // events come in recorded order: the last in effect wins
		}
	}
	for f, st := range fields {
		if st.inEffect != nil {
			out[f] = st.inEffect.NewValue
		} else {
			out[f] = st.first.OldValue
		}
	}
	if death := out[deathField]; death != "" && death <= d.Format("2006-01-02") {
		out[PopStatus.Column()] = source.PopDead
	}
	return out
}

// FieldAsOf is one field of an entry on a past day and today.
type FieldAsOf struct {
	Column, Label string
	Then, Now     string
}

// PersonAsOf is a registry entry as it stood on a day.
type PersonAsOf struct {
	IDNumber string
	Day      time.Time
	Existed  bool      // the registry had the person by then
	Since    time.Time // the day the entry was added, zero when its source carries none
	Fields   []FieldAsOf
	Later    []Event // the changes in effect only after the day, in recorded order
}

// PersonAsOf returns the entry of a citizen ID as it stood on day d for
// actor a, audited as a full-record read (a past state is personal data
// too). Outside a's region (today's) the entry does not exist.
func (s *Store) PersonAsOf(ctx context.Context, a actor.Actor, id string, d time.Time) (PersonAsOf, error) {
	if err := a.Check(actor.PersonRead); err != nil {
		return PersonAsOf{}, err
	}
	out := PersonAsOf{IDNumber: id, Day: d}
	var current map[string]any
	var since *time.Time
	const q = `
		SELECT to_jsonb(p), coalesce(c.as_of, b.extract_date)
		FROM person p
		LEFT JOIN comparison_run c ON p.first_kind = 'compare' AND c.id = p.first_source
		LEFT JOIN import_batch b ON p.first_kind = 'extract' AND b.id = p.first_source
		WHERE p.id_number = $1`
	err := s.db.QueryRow(ctx, q, id).Scan(&current, &since)
	code, _ := current[RegionCode.Column()].(string)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !region.Within(a.Region, code)) {
		return PersonAsOf{}, apperr.NotFoundf("登记库中没有该人员")
	}
	if err != nil {
		return PersonAsOf{}, fmt.Errorf("person as of: %w", err)
	}
	events, err := s.events(ctx, id)
	if err != nil {
		return PersonAsOf{}, err
	}
	now := map[string]string{}
	for k, v := range current {
		if v != nil {
			now[k] = fmt.Sprint(v)
		}
	}
	then := ValuesAsOf(now, events, d)
	out.Existed = since == nil || !since.After(d)
	if since != nil {
		out.Since = *since
	}
	cols := slices.Clone(columns[:])
	for _, e := range events {
		if !slices.Contains(cols, e.Field) {
			cols = append(cols, e.Field)
		}
		if e.Effective.After(d) {
			out.Later = append(out.Later, e)
		}
	}
	for _, c := range cols {
		out.Fields = append(out.Fields, FieldAsOf{Column: c, Label: FieldLabel(c), Then: then[c], Now: now[c]})
	}
	ae := audit.For(a, audit.RecordView, "person:"+id)
	ae.Detail = "截至 " + d.Format("2006-01-02") + " 的登记状态"
	if err := audit.Record(ctx, s.db, ae); err != nil {
		return PersonAsOf{}, err
	}
	return out, nil
}

// events are a person's events in recorded order.
func (s *Store) events(ctx context.Context, id string) ([]Event, error) {
	rows, err := s.db.Query(ctx, `
		SELECT e.id, e.field, coalesce(e.old_value, ''), coalesce(e.new_value, ''), e.effective, e.source_kind, e.source_id,
		       e.actor_id, coalesce(u.display_name, ''), e.recorded_at
		FROM person_event e LEFT JOIN app_user u ON u.id = e.actor_id
		WHERE e.id_number = $1 ORDER BY e.id`, id)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Event, error) {
		var e Event
		err := row.Scan(&e.ID, &e.Field, &e.OldValue, &e.NewValue, &e.Effective, &e.Source.Kind, &e.Source.ID,
			&e.ActorID, &e.ActorName, &e.RecordedAt)
		return e, err
	})
}

// asOfPersons are the CTEs ev, cand, eff, bef and per: per has a row
// for every person who may have been in region $1 on day $2 (those the
// registry had by then: since IS NULL OR since <= $2), with the name,
// region, 人口状态 and death date they had then. A person moved out of the
// region since still counts where they were: the region is read from the
// events, so every person with a region event is a candidate besides
// today's residents.
var asOfPersons = `
		ev AS (
			SELECT id, id_number, field, coalesce(old_value, '') AS old_value, coalesce(new_value, '') AS new_value, effective
			FROM person_event WHERE field IN ('name', 'region_code', 'pop_status', '` + deathField + `')),
		cand AS (
			SELECT id_number FROM person WHERE ` + asOfInScope + `
			UNION
			SELECT id_number FROM ev WHERE field = 'region_code' AND (` + asOfOldInScope + ` OR ` + asOfNewInScope + `)),
		eff AS (SELECT DISTINCT ON (id_number, field) id_number, field, new_value AS v FROM ev WHERE effective <= $2 ORDER BY id_number, field, id DESC),
		bef AS (SELECT DISTINCT ON (id_number, field) id_number, field, old_value AS v FROM ev ORDER BY id_number, field, id),
		per AS (
			SELECT p.id_number, coalesce(en.v, bn.v, p.name, '') AS name,
			       coalesce(er.v, br.v, p.region_code) AS region,
			       coalesce(ep.v, bp.v, p.pop_status, '') AS status,
			       coalesce(ed.v, bd.v, to_jsonb(p) ->> '` + deathField + `', '') AS death,
			       coalesce(c.as_of, b.extract_date) AS since
			FROM cand JOIN person p USING (id_number)
			LEFT JOIN eff en ON en.id_number = p.id_number AND en.field = 'name'
			LEFT JOIN bef bn ON bn.id_number = p.id_number AND bn.field = 'name'
			LEFT JOIN eff er ON er.id_number = p.id_number AND er.field = 'region_code'
			LEFT JOIN bef br ON br.id_number = p.id_number AND br.field = 'region_code'
			LEFT JOIN eff ep ON ep.id_number = p.id_number AND ep.field = 'pop_status'
			LEFT JOIN bef bp ON bp.id_number = p.id_number AND bp.field = 'pop_status'
			LEFT JOIN eff ed ON ed.id_number = p.id_number AND ed.field = '` + deathField + `'
			LEFT JOIN bef bd ON bd.id_number = p.id_number AND bd.field = '` + deathField + `'
			LEFT JOIN comparison_run c ON p.first_kind = 'compare' AND c.id = p.first_source
			LEFT JOIN import_batch b ON p.first_kind = 'extract' AND b.id = p.first_source)`

var (
	asOfInScope    = actor.InScope("region_code", "$1")
	asOfOldInScope = actor.InScope("old_value", "$1")
	asOfNewInScope = actor.InScope("new_value", "$1")
)

// PersonThen is a registry entry in the as-of list: who was in the
// region on the day, with the name, region and 人口状态 they had then.
type PersonThen struct {
	IDNumber, Name, RegionCode, Status string
}

// PersonsAsOfSpec is what the as-of person list accepts: q (the start of
// a name or a citizen ID) and status (人口状态 then; "none" for none recorded).
var PersonsAsOfSpec = list.Spec{Filters: []string{"region", "date", "q", "status"}}

// PersonsAsOf lists a page of the persons the registry had in code
// (inside the actor's region) on day d, as CountsAsOf counts them, by
// region and ID; q and status filter (see PersonsAsOfSpec). total is
// their number when the caller has it from CountsAsOf (no q), saving a
// pass over the region; -1 counts them. The list is masked by the caller
// and names no full record, so it is not audited.
func (s *Store) PersonsAsOf(ctx context.Context, a actor.Actor, code string, d time.Time, q list.Query, total int) (list.Page[PersonThen], error) {
	if err := a.CheckIn(actor.CompareRead, code, "区划 "+code); err != nil {
		return list.Page[PersonThen]{}, err
	}
	with := `
		WITH ` + asOfPersons + `,
		was AS (
			SELECT id_number, name, region, CASE WHEN death <> '' AND death <= $3 THEN $4 ELSE status END AS status
			FROM per WHERE ` + actor.InScope("region", "$1") + ` AND (since IS NULL OR since <= $2))`
	const where = ` FROM was
		WHERE ($5 = '' OR name LIKE $5 || '%' OR id_number LIKE upper($5) || '%')
		  AND ($6 = '' OR status = CASE WHEN $6 = 'none' THEN '' ELSE $6 END)`
	args := []any{code, d, d.Format("2006-01-02"), source.PopDead, strings.TrimSpace(q.Filter("q")), q.Filter("status")}
	if total < 0 {
		if err := s.db.QueryRow(ctx, with+` SELECT count(*)`+where, args...).Scan(&total); err != nil {
			return list.Page[PersonThen]{}, fmt.Errorf("registry as of: %w", err)
		}
	}
	rows, err := s.db.Query(ctx, with+` SELECT id_number, name, region, status`+where+` ORDER BY region, id_number LIMIT $7 OFFSET $8`,
		append(args, q.Limit(), q.Offset())...)
	if err != nil {
		return list.Page[PersonThen]{}, fmt.Errorf("registry as of: %w", err)
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[PersonThen])
	if err != nil {
		return list.Page[PersonThen]{}, fmt.Errorf("registry as of: %w", err)
	}
	return list.Of(items, total, q), nil
}

// RegionCount is the registry's persons of a region on a day, by 人口状态.
type RegionCount struct {
	Code, Name string
	Persons    int
	ByStatus   map[string]int // "" for none recorded
}

// CountsAsOf counts the registry as it stood on day d in code (inside the
// actor's region) and each region directly below it: the persons the
// registry had by then, by the region and 人口状态 they had then (the same
// rules as PersonAsOf, in one pass over the region's persons).
func (s *Store) CountsAsOf(ctx context.Context, a actor.Actor, code string, d time.Time) (RegionCount, []RegionCount, error) {
	if err := a.CheckIn(actor.CompareRead, code, "区划 "+code); err != nil {
		return RegionCount{}, nil, err
	}
	q := `WITH ` + asOfPersons + `
		SELECT CASE WHEN region = $1 OR length(region) <= length($1) THEN $1 ELSE left(region, $3) END AS code,
		       CASE WHEN death <> '' AND death <= $4 THEN $5 ELSE status END AS status, count(*)
		FROM per
		WHERE ` + actor.InScope("region", "$1") + ` AND (since IS NULL OR since <= $2)
		GROUP BY 1, 2`
	rows, err := s.db.Query(ctx, q, code, d, region.ChildLen(code), d.Format("2006-01-02"), source.PopDead)
	if err != nil {
		return RegionCount{}, nil, fmt.Errorf("registry as of: %w", err)
	}
	defer rows.Close()
	total := RegionCount{Code: code, ByStatus: map[string]int{}}
	byCode := map[string]*RegionCount{}
	var codes []string
	for rows.Next() {
		var c, status string
		var n int
		if err := rows.Scan(&c, &status, &n); err != nil {
			return RegionCount{}, nil, err
		}
		total.Persons += n
		total.ByStatus[status] += n
		if c == code {
			continue
		}
		rc := byCode[c]
		if rc == nil {
			rc = &RegionCount{Code: c, ByStatus: map[string]int{}}
			byCode[c] = rc
			codes = append(codes, c)
		}
		rc.Persons += n
		rc.ByStatus[status] += n
	}
	if err := rows.Err(); err != nil {
		return RegionCount{}, nil, fmt.Errorf("registry as of: %w", err)
	}
	slices.Sort(codes)
	children := make([]RegionCount, 0, len(codes))
	for _, c := range codes {
		children = append(children, *byCode[c])
	}
	return total, children, nil
}
