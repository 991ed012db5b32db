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
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/registry"
)

// QueueItem is one line of the review queue.
type QueueItem struct {
	FormID, MemberID       int64
	State                  State
	Name, IDNumber         string
	HouseholdCode, Village string
	EnteredName            string
	SubmittedAt            *time.Time
	Found                  bool
	Outcome                string
}

// QueueSpec is the review queue's list contract: filters by state
// (submitted by default), region (a township or village inside the
// viewer's) and round.
var QueueSpec = list.Spec{Size: 50, Filters: []string{"state", "region", "round"}}

// queueKept is the number of live forms in a state, over survey_count c.
var queueKept = map[State]string{
	Submitted: `c.visited - c.confirmed - c.returned`,
	Approved:  `c.confirmed`,
	Returned:  `c.returned`,
}

// Queue returns a page of forms for review in the actor's region, oldest
// submission first (forms never submitted last): after lq.After (the
// last row's QueueKey) when it is set.
func (s *Forms) Queue(ctx context.Context, a actor.Actor, lq list.Query) (list.Page[QueueItem], error) {
	if err := a.Check(actor.SurveyApprove); err != nil {
		return list.Page[QueueItem]{}, err
	}
	state := State(lq.Filter("state"))
	if _, ok := stateLabels[state]; !ok || state == Pending {
		state = Submitted
	}
	scope := a.Region
	if r := lq.Filter("region"); r != "" && a.Sees(r) {
		scope = r
	}
	round, _ := strconv.ParseInt(lq.Filter("round"), 10, 64)
	where := `FROM survey_form f JOIN survey_member m ON m.id = f.member_id AND m.round_id = f.round_id
		JOIN survey_household h ON h.id = f.household_id AND h.round_id = f.round_id
		WHERE f.state = $1 AND ` + actor.InScope("h.region_code", "$2") + ` AND ($3 = 0 OR f.round_id = $3)`
	// A state the kept counts hold is counted there (every live form's
	// member is a progress person); drafts are counted from the forms.
	count := `SELECT count(*) ` + where
	if kept, ok := queueKept[state]; ok {
		count = `SELECT coalesce(sum(` + kept + `), 0) FROM survey_count c WHERE c.clerk_id = -1 AND $1::text <> '' AND ` +
			actor.InScope("c.region_code", "$2") + ` AND ($3 = 0 OR c.round_id = $3)`
	}
	var total int
	if err := s.db.QueryRow(ctx, count, customPlan, state, scope, round).Scan(&total); err != nil {
		return list.Page[QueueItem]{}, fmt.Errorf("review queue: %w", err)
	}
	// The forms are walked in the order of survey_form_state_submitted and
	// each joined to its member and household in turn, so a page stops
	// after its rows: planned as a join, a county's queue was ordered
	// after matching every household of the county.
	page := func(cond, order, limit string) string {
		return `SELECT f.id, m.id, f.state, m.name, m.id_number, h.code, h.region_code, f.entered_name, f.submitted_at, m.found, f.outcome
		FROM (SELECT f.* FROM survey_form f WHERE f.state = $1 AND ($3 = 0 OR f.round_id = $3)` + cond + ` ORDER BY ` + order + `) f
		CROSS JOIN LATERAL (SELECT h.code, h.region_code FROM survey_household h
			WHERE h.id = f.household_id AND h.round_id = f.round_id AND ` + actor.InScope("h.region_code", "$2") + `) h
		CROSS JOIN LATERAL (SELECT m.id, m.name, m.id_number, m.found FROM survey_member m WHERE m.id = f.member_id AND m.round_id = f.round_id) m
		ORDER BY ` + order + ` LIMIT ` + limit
	}
	// The forms submitted after the key, then those never submitted (after
	// its id when the key is one of them), the second only if the first
	// ends.
	args := []any{customPlan, state, scope, round, lq.Limit()}
	submitted, unsubmitted := ``, ``
	switch at, id, ok := queueAfter(lq); {
	case !ok:
		args = append(args, lq.Offset())
		return s.queuePage(ctx, page(``, `f.submitted_at NULLS LAST, f.id`, `$4 OFFSET $5`), args, total, lq)
	case at == nil:
		submitted, unsubmitted = ` AND false`, ` AND f.id > $5`
		args = append(args, id)
	default:
		submitted = ` AND (f.submitted_at, f.id) > ($5, $6)`
		args = append(args, *at, id)
	}
	q := `(` + page(` AND f.submitted_at IS NOT NULL`+submitted, `f.submitted_at, f.id`, `$4`) + `)
		UNION ALL (` + page(` AND f.submitted_at IS NULL`+unsubmitted, `f.id`, `$4`) + `) LIMIT $4`
	return s.queuePage(ctx, q, args, total, lq)
}

// queuePage reads a page of the review queue.
func (s *Forms) queuePage(ctx context.Context, q string, args []any, total int, lq list.Query) (list.Page[QueueItem], error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return list.Page[QueueItem]{}, fmt.Errorf("review queue: %w", err)
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[QueueItem])
	if err != nil {
		return list.Page[QueueItem]{}, fmt.Errorf("review queue: %w", err)
	}
	return list.Of(items, total, lq), nil
}

// QueueKey is a review queue row's key for the next page's cursor: when
// it was submitted (microseconds since 1970, "" never) and the form.
func QueueKey(it QueueItem) []string {
	at := ""
	if it.SubmittedAt != nil {
		at = strconv.FormatInt(it.SubmittedAt.UnixMicro(), 10)
	}
	return []string{at, strconv.FormatInt(it.FormID, 10)}
}

// queueAfter reads lq.After as a QueueKey: at is nil for a form never
// submitted.
func queueAfter(lq list.Query) (at *time.Time, id int64, ok bool) {
	if len(lq.After) != 2 {
		return nil, 0, false
	}
	id, err := strconv.ParseInt(lq.After[1], 10, 64)
	if err != nil {
		return nil, 0, false
	}
	if lq.After[0] == "" {
		return nil, id, true
	}
	us, err := strconv.ParseInt(lq.After[0], 10, 64)
	if err != nil {
		return nil, 0, false
	}
	t := time.UnixMicro(us)
	return &t, id, true
}

// Review is a form with what the registry says beside it.
type Review struct {
	Form      FormRecord
	Member    EntryMember
	Household EntryHousehold
	Person    *registry.Person // nil: the registry does not know the person (found at the door)
	Events    []FormEvent
	// Diffs are the registry fields the form would change on approval.
	Diffs []Diff
}

// Diff is one registry field the form disagrees with.
type Diff struct {
	Field, Registry, Form string
}

// Form returns form id in full with the registry's entry beside it, for a
// reviewer or a clerk of its region (a full record: the read is audited).
func (s *Forms) Form(ctx context.Context, a actor.Actor, formID int64) (Review, error) {
	if err := a.Check(actor.PersonRead); err != nil {
		return Review{}, err
	}
	var r Review
	f, err := scanForm(s.db.QueryRow(ctx, `SELECT `+formCols+` FROM survey_form f WHERE f.id = $1`, formID))
	if err != nil {
		return r, notFound(err)
	}
	if r.Household, err = s.household(ctx, s.db, f.HouseholdID); err != nil {
		return r, err
	}
	if err := inView(ctx, s.db, a, r.Household.RegionCode, f.HouseholdID, "调查表不存在"); err != nil {
		return Review{}, err
	}
	r.Form = f
	if r.Member, err = scanMember(s.db.QueryRow(ctx, `SELECT `+entryMemberCols+`
		FROM survey_member m LEFT JOIN survey_form f ON f.member_id = m.id AND f.state <> 'superseded' WHERE m.id = $1`, f.MemberID)); err != nil {
		return r, fmt.Errorf("member %d: %w", f.MemberID, err)
	}
	if r.Events, err = s.events(ctx, formID); err != nil {
		return r, err
	}
	p, err := registryPerson(ctx, s.db, r.Member.IDNumber)
	if err != nil {
		return r, err
	}
	r.Person = p
	entry := formEntry(r.Member, r.Household, f.Data, p != nil)
	r.Diffs = diffs(p, entry)
	ae := audit.For(a, audit.RecordView, "survey_form:"+strconv.FormatInt(formID, 10))
	ae.Result = "ok"
	if err := audit.Record(ctx, s.db, ae); err != nil {
		return Review{}, err
	}
	return r, nil
}

// registryPerson reads a registry entry, nil when there is none.
func registryPerson(ctx context.Context, db querier, id string) (*registry.Person, error) {
	const q = `SELECT name, coalesce(sex, ''), birth, coalesce(household, ''), coalesce(relation, ''), coalesce(hukou_region, ''),
		coalesce(pop_status, ''), identity_kind, region_code FROM person WHERE id_number = $1`
	p := registry.Person{IDNumber: id}
	err := db.QueryRow(ctx, q, id).Scan(&p.Name, &p.Sex, &p.Birth, &p.Household, &p.Relation, &p.HukouRegion, &p.PopStatus,
		&p.IdentityKind, &p.RegionCode)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", id, err)
	}
	return &p, nil
}

// Pop statuses an approved form sets (DOMAIN §4's 人口状态 values).
const (
	PopDied  = "死亡"
	PopMoved = "迁出"
)

// IdentitySurvey is the identity kind of a person the registry first
// learns of from a survey form.
const IdentitySurvey = "入户调查"

// formEntry is what an approved form tells the registry about its member:
// the corrected identity items, the household, and a move or death as the
// 人口状态. A person the registry lacks (found at the door) also gets what
// a new entry needs.
func formEntry(m EntryMember, h EntryHousehold, f Form, known bool) registry.Entry {
	v := map[registry.Field]string{}
	set := func(field registry.Field, s string) {
		if s != "" {
			v[field] = s
		}
	}
	set(registry.Name, f.Name)
	set(registry.Sex, f.Sex)
	set(registry.Birth, f.Birth)
	set(registry.Household, h.Household)
	set(registry.Relation, f.Relation)
	switch f.Outcome {
	case OutcomeDied:
		v[registry.PopStatus] = PopDied
	case OutcomeMoved:
		v[registry.PopStatus] = PopMoved
	}
	if !known {
		v[registry.IdentityKind] = IdentitySurvey
		v[registry.RegionCode] = h.RegionCode
		if h.Household != "" {
			v[registry.HukouRegion] = h.RegionCode
			if _, ok := v[registry.PopStatus]; !ok {
				v[registry.PopStatus] = "正常"
			}
		}
	}
	return registry.Entry{ID: m.IDNumber, Values: v}
}

// diffFields are the registry fields a reviewer compares, in order.
var diffFields = []registry.Field{registry.Name, registry.Sex, registry.Birth, registry.Household, registry.Relation, registry.PopStatus}

// diffs lists the fields where the form's entry disagrees with the
// registry's (every field given, for a person the registry lacks).
func diffs(p *registry.Person, e registry.Entry) []Diff {
	var out []Diff
	for _, f := range diffFields {
		nv, ok := e.Values[f]
		if !ok {
			continue
		}
		old := ""
		if p != nil {
			old = personValue(*p, f)
		}
		if old != nv {
			out = append(out, Diff{Field: f.Label(), Registry: old, Form: nv})
		}
	}
	return out
}

func personValue(p registry.Person, f registry.Field) string {
	switch f {
	case registry.Name:
		return p.Name
	case registry.Sex:
		return p.Sex
	case registry.Birth:
		if p.Birth == nil {
			return ""
		}
		return p.Birth.Format("2006-01-02")
	case registry.Household:
		return p.Household
	case registry.Relation:
		return p.Relation
	case registry.PopStatus:
		return p.PopStatus
	}
	return ""
}

// Approve is 登记入库: in one transaction the form becomes approved and
// the registry takes its items (registry.Apply, the form as the source,
// the survey date as the date they took effect); corrected counts the
// registry fields it changed. A person found at the door is added.
// version is the version the reviewer saw.
func (s *Forms) Approve(ctx context.Context, a actor.Actor, formID int64, version int) (FormRecord, error) {
	return s.review(ctx, a, formID, version, StepApprove, "")
}

// Return sends a submitted form back to its clerk with a reason they see.
func (s *Forms) Return(ctx context.Context, a actor.Actor, formID int64, version int, reason string) (FormRecord, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return FormRecord{}, &ValidationError{Fields: FieldErrors{"reason": "请填写退回原因，录入人员将据此修改"}}
	}
	return s.review(ctx, a, formID, version, StepReturn, reason)
}

func (s *Forms) review(ctx context.Context, a actor.Actor, formID int64, version int, step Step, reason string) (FormRecord, error) {
	if err := a.Check(actor.SurveyApprove); err != nil {
		return FormRecord{}, err
	}
	var out FormRecord
	err := pgx.BeginFunc(ctx, s.db, countingForm(ctx, formID, func(tx pgx.Tx) error {
		f, region, err := lockForm(ctx, tx, formID)
		if err != nil || !a.Sees(region) {
			return notFound(err)
		}
		if f.Version != version {
			return apperr.Conflictf("该调查表在您打开后已被修改（现为第 %d 版），请重新打开后再审核", f.Version)
		}
		to, err := Next(f.State, step)
		if err != nil {
			return err
		}
		corrected := 0
		if step == StepApprove {
			if corrected, err = s.applyToRegistry(ctx, tx, a, f); err != nil {
				return err
			}
		}
		const q = `UPDATE survey_form SET state = $2, version = version + 1, reviewed_by = $3, reviewed_name = $4, reviewed_at = now(),
			return_reason = $5, corrected = $6, updated_at = now() WHERE id = $1`
		if _, err := tx.Exec(ctx, q, formID, to, nullID(a.UserID), a.Username, reason, corrected); err != nil {
			return fmt.Errorf("review form %d: %w", formID, err)
		}
		action := AuditFormApprove
		if step == StepReturn {
			action = AuditFormReturn
		}
		if err := s.record(ctx, tx, a, formID, f.State, to, reason, action); err != nil {
			return err
		}
		out, err = scanForm(tx.QueryRow(ctx, `SELECT `+formCols+` FROM survey_form f WHERE f.id = $1`, formID))
		return err
	}))
	return out, err
}

// applyToRegistry hands an approved form's items to the registry and
// returns how many registry fields changed.
func (s *Forms) applyToRegistry(ctx context.Context, tx pgx.Tx, a actor.Actor, f FormRecord) (int, error) {
	h, err := s.household(ctx, tx, f.HouseholdID)
	if err != nil {
		return 0, err
	}
	m, err := scanMember(tx.QueryRow(ctx, `SELECT `+entryMemberCols+`
		FROM survey_member m LEFT JOIN survey_form f ON f.member_id = m.id AND f.state <> 'superseded' WHERE m.id = $1`, f.MemberID))
	if err != nil {
		return 0, fmt.Errorf("member %d: %w", f.MemberID, err)
	}
	p, err := registryPerson(ctx, tx, m.IDNumber)
	if err != nil {
		return 0, err
	}
	effective, err := time.Parse("2006-01-02", f.Data.SurveyedOn)
	if err != nil {
		return 0, apperr.Invalidf("调查表缺少有效的调查日期，无法入库")
	}
	res, err := registry.Apply(ctx, tx, registry.ChangeSet{
		Source:    registry.Source{Kind: registry.Survey, ID: f.ID},
		Actor:     a.UserID,
		Effective: effective,
		Persons:   registry.NewEntries(formEntry(m, h, f.Data, p != nil)),
	})
	if err != nil {
		return 0, err
	}
	return res.Events, nil
}
