package survey_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/survey"
)

func TestNext(t *testing.T) {
	t.Parallel()
	cases := []struct {
		from survey.State
		step survey.Step
		to   survey.State
		ok   bool
	}{
		{survey.Pending, survey.StepSave, survey.Draft, true},
		{survey.Pending, survey.StepSubmit, survey.Submitted, true},
		{survey.Draft, survey.StepSave, survey.Draft, true},
		{survey.Draft, survey.StepSubmit, survey.Submitted, true},
		{survey.Returned, survey.StepSave, survey.Draft, true},
		{survey.Returned, survey.StepSubmit, survey.Submitted, true},
		{survey.Submitted, survey.StepApprove, survey.Approved, true},
		{survey.Submitted, survey.StepReturn, survey.Returned, true},
		{survey.Approved, survey.StepRevise, survey.Superseded, true},
		{survey.Submitted, survey.StepSave, "", false},
		{survey.Submitted, survey.StepSubmit, "", false},
		{survey.Approved, survey.StepSave, "", false},
		{survey.Approved, survey.StepReturn, "", false},
		{survey.Draft, survey.StepApprove, "", false},
		{survey.Returned, survey.StepApprove, "", false},
		{survey.Pending, survey.StepApprove, "", false},
		{survey.Draft, survey.StepRevise, "", false},
		{survey.Superseded, survey.StepSave, "", false},
		{survey.Superseded, survey.StepApprove, "", false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s_%s", c.from, c.step), func(t *testing.T) {
			got, err := survey.Next(c.from, c.step)
			if c.ok && (err != nil || got != c.to) {
				t.Errorf("Next(%s, %s) = %s, %v; want %s", c.from, c.step, got, err, c.to)
			}
			if !c.ok && (err == nil || apperr.KindOf(err) != apperr.Conflict || apperr.Message(err) == "") {
				t.Errorf("Next(%s, %s) = %s, %v; want a conflict", c.from, c.step, got, err)
			}
		})
	}
}

// validID makes a valid ID from its first 17 characters.
func validID(first17 string) string { return first17 + string(idcard.CheckChar(first17)) }

var today = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// complete is a form that passes a submission's checks.
func complete(name, id string) survey.Form {
	b, _ := idcard.Birth(id)
	sex := "女"
	if idcard.Male(id) {
		sex = "男"
	}
	return survey.Form{Name: name, IDNumber: id, Sex: sex, Birth: b.Format("2006-01-02"), Method: "入户", Surveyor: "李四",
		SurveyedOn: "2026-11-10", Outcome: survey.OutcomePresent, Willing: survey.Willing, Reason: "个人未参保", Phone: "13800138000"}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	id := validID("44098119800101123")
	bad := id[:17] + string("0123456789X"[(indexOf(id[17])+1)%11])
	cases := []struct {
		name   string
		edit   func(*survey.Form)
		submit bool
		field  string // "" for no error
	}{
		{"Complete", func(*survey.Form) {}, true, ""},
		{"ErrBadCheck", func(f *survey.Form) { f.IDNumber = bad }, false, "id_number"},
		{"ErrBadDate", func(f *survey.Form) { f.SurveyedOn = "2026-02-30" }, false, "surveyed_on"},
		{"ErrFutureDate", func(f *survey.Form) { f.SurveyedOn = "2027-01-01" }, false, "surveyed_on"},
		{"ErrBirthDisagrees", func(f *survey.Form) { f.Birth = "1980-01-02" }, false, "birth"},
		{"ErrSexDisagrees", func(f *survey.Form) { f.Sex = map[string]string{"男": "女", "女": "男"}[f.Sex] }, false, "sex"},
		{"ErrEnum", func(f *survey.Form) { f.Employment = "打工" }, false, "employment"},
		{"ErrPhone", func(f *survey.Form) { f.Phone = "12345" }, false, "phone"},
		{"DraftMayLackRequired", func(f *survey.Form) { f.Surveyor = "" }, false, ""},
		{"ErrRequiredOnSubmit", func(f *survey.Form) { f.Surveyor = "" }, true, "surveyor"},
		{"ErrReasonOnSubmit", func(f *survey.Form) { f.Reason = "" }, true, "reason"},
		{"InsuredNeedsNoReason", func(f *survey.Form) {
			f.Reason = ""
			f.Schemes = map[string]survey.SchemeAnswer{"居民医疗": {Insured: "是", Place: "高州市"}}
		}, true, ""},
		{"ErrDiedWithoutDate", func(f *survey.Form) { f.Outcome = survey.OutcomeDied }, true, "outcome_date"},
		{"ErrOutcomeAfterSurvey", func(f *survey.Form) { f.Outcome, f.OutcomeDate = survey.OutcomeMoved, "2026-11-15" }, false, "outcome_date"},
		{"ErrOtherReasonNeedsText", func(f *survey.Form) { f.Reason = "其他" }, true, "reason_text"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := complete("张三", id)
			c.edit(&f)
			errs := f.Validate(c.submit, today)
			if c.field == "" && len(errs) > 0 {
				t.Errorf("errors %v, want none", errs)
			}
			if c.field != "" && errs[c.field] == "" {
				t.Errorf("errors %v, want one on %s", errs, c.field)
			}
		})
	}
}

func indexOf(c byte) int {
	for i := range "0123456789X" {
		if "0123456789X"[i] == c {
			return i
		}
	}
	return 0
}

// world is a round with one household of three listed members in a
// village of 镇江镇, and their registry entries.
type world struct {
	db                     *pgxpool.Pool
	forms                  *survey.Forms
	round, household       int64
	members                []int64
	ids                    []string
	clerk, reviewer, other actor.Actor
}

const village = "440981107204"

func newWorld(t *testing.T) *world {
	t.Helper()
	db, _ := pgtest.New(t)
	fixture.Regions(t, db, "4409")
	ctx := context.Background()
	w := &world{db: db, forms: survey.NewForms(db)}
	w.forms.Today = func() time.Time { return today }
	w.clerk = actor.Actor{Username: "clerk", Role: actor.Township, Region: "440981107", IP: "test"}
	w.other = actor.Actor{Username: "other", Role: actor.Township, Region: "440981108", IP: "test"}
	w.reviewer = actor.Actor{Username: "reviewer", Role: actor.County, Region: fixture.County, IP: "test"}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var run int64
	if err := db.QueryRow(ctx, `INSERT INTO comparison_run (region_code, as_of, status) VALUES ($1, '2026-06-30', 'done') RETURNING id`,
		fixture.County).Scan(&run); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `INSERT INTO survey_round (region_code, title, run_id, deadline, households, persons, targets)
		VALUES ($1, '测试批次', $2, '2026-12-31', 1, 3, 2) RETURNING id`, fixture.County, run).Scan(&w.round); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `INSERT INTO survey_household (round_id, code, household, region_code, address, head_name, targets, added_run)
		VALUES ($1, 'T0001', 'H001', $2, '镇江村一组', '王大', 2, $3) RETURNING id`, w.round, village, run).Scan(&w.household); err != nil {
		t.Fatal(err)
	}
	people := []struct{ first17, name, relation string }{
		{"44098119700101101", "王大", "户主"}, {"44098119750202102", "李芳", "配偶"}, {"44098120000303103", "王小明", "子"},
	}
	for i, p := range people {
		id := validID(p.first17)
		b, _ := idcard.Birth(id)
		sex := map[bool]string{true: "男", false: "女"}[idcard.Male(id)]
		exec(`INSERT INTO person (id_number, name, sex, birth, household, relation, hukou_region, pop_status, identity_kind, region_code,
			first_source, last_source, first_kind, last_kind) VALUES ($1, $2, $3, $4, 'H001', $5, $6, '正常', '户籍人口', $6, $7, $7, 'compare', 'compare')`,
			id, p.name, sex, b, p.relation, village, run)
		var m int64
		if err := db.QueryRow(ctx, `INSERT INTO survey_member (household_id, round_id, id_number, name, relation, target, pension, medical, added_run)
			VALUES ($1, $2, $3, $4, $5, $6, '应参未参', '已参保', $7) RETURNING id`, w.household, w.round, id, p.name, p.relation, i > 0, run).Scan(&m); err != nil {
			t.Fatal(err)
		}
		w.members = append(w.members, m)
		w.ids = append(w.ids, id)
	}
	mustRecount(t, db, w.round)
	return w
}

func TestFormLifecycle(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	m := w.members[1]

	t.Run("HouseholdListsEveryMember", func(t *testing.T) {
		h, err := w.forms.Household(ctx, w.clerk, w.household)
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Members) != 3 || h.Members[0].State != survey.Pending {
			t.Fatalf("members %+v", h.Members)
		}
		if _, err := w.forms.Household(ctx, w.other, w.household); apperr.KindOf(err) != apperr.NotFound {
			t.Errorf("another township's clerk: %v, want not found", err)
		}
	})
	t.Run("PrefilledFromRegistry", func(t *testing.T) {
		e, err := w.forms.Entry(ctx, w.clerk, m)
		if err != nil {
			t.Fatal(err)
		}
		if e.Live != nil || e.Prefill.Name != "李芳" || e.Prefill.Sex != "女" || e.Prefill.Birth != "1975-02-02" || e.Prefill.HeadName != "王大" {
			t.Errorf("prefill %+v", e.Prefill)
		}
	})

	draft := complete("李芳", w.ids[1])
	draft.Surveyor = ""
	draft.SurveyedOn = "2026-13-01"
	saved, err := w.forms.Save(ctx, w.clerk, m, survey.Save{Version: 0, Data: draft})
	if err != nil {
		t.Fatal(err)
	}
	if saved.Form.State != survey.Draft || saved.Form.Version != 1 || saved.Warnings["surveyed_on"] == "" {
		t.Fatalf("draft saved as %+v, warnings %v", saved.Form, saved.Warnings)
	}
	if saved.Form.Data.SurveyedOn != "2026-13-01" {
		t.Errorf("a draft kept %q, want what was typed", saved.Form.Data.SurveyedOn)
	}
	// A submission with a bad date is refused and writes nothing.
	_, err = w.forms.Save(ctx, w.clerk, m, survey.Save{Version: 1, Data: draft, Submit: true, Key: "k1"})
	var ve *survey.ValidationError
	if !errors.As(err, &ve) || ve.Fields["surveyor"] == "" {
		t.Fatalf("submission of an incomplete form: %v", err)
	}
	// A save from the page as it was before the draft: a conflict with the stored version.
	_, err = w.forms.Save(ctx, w.clerk, m, survey.Save{Version: 0, Data: complete("李芳", w.ids[1])})
	var ce *survey.ConflictError
	if !errors.As(err, &ce) || ce.Current.Version != 1 || ce.Current.Data.SurveyedOn != "2026-13-01" {
		t.Fatalf("stale save: %v", err)
	}
	form := complete("李芳芳", w.ids[1]) // the name corrected at the door
	sub, err := w.forms.Save(ctx, w.clerk, m, survey.Save{Version: 1, Data: form, Submit: true, Key: "k2"})
	if err != nil || sub.Form.State != survey.Submitted || sub.Form.Version != 2 || sub.Form.Data.Name != "李芳芳" {
		t.Fatalf("submit: %+v, %v", sub.Form, err)
	}
	again, err := w.forms.Save(ctx, w.clerk, m, survey.Save{Version: 1, Data: form, Submit: true, Key: "k2"})
	if err != nil || !again.Repeated || again.Form.ID != sub.Form.ID || again.Form.Version != 2 || again.Form.Data.Name != "李芳芳" {
		t.Fatalf("retried submission: %+v, %v", again, err)
	}
	if _, err := w.forms.Approve(ctx, w.clerk, sub.Form.ID, 2); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("a township clerk approved: %v", err)
	}
	ret, err := w.forms.Return(ctx, w.reviewer, sub.Form.ID, 2, "联系电话请核实")
	if err != nil || ret.State != survey.Returned || ret.ReturnReason != "联系电话请核实" {
		t.Fatalf("return: %+v, %v", ret, err)
	}
	h, _ := w.forms.Household(ctx, w.clerk, w.household)
	if h.Members[1].State != survey.Returned || h.Members[1].ReturnReason != "联系电话请核实" {
		t.Errorf("the clerk sees %+v", h.Members[1])
	}
	form.Phone = "13900139000"
	sub, err = w.forms.Save(ctx, w.clerk, m, survey.Save{Version: ret.Version, Data: form, Submit: true, Key: "k3"})
	if err != nil || sub.Form.State != survey.Submitted {
		t.Fatalf("resubmit: %+v, %v", sub.Form, err)
	}
	if _, err := w.forms.Approve(ctx, w.reviewer, sub.Form.ID, sub.Form.Version-1); apperr.KindOf(err) != apperr.Conflict {
		t.Errorf("approval of a version the reviewer did not see: %v", err)
	}
	rev, err := w.forms.Form(ctx, w.reviewer, sub.Form.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rev.Diffs) != 1 || rev.Diffs[0].Registry != "李芳" || rev.Diffs[0].Form != "李芳芳" {
		t.Errorf("differences %+v", rev.Diffs)
	}
	ok, err := w.forms.Approve(ctx, w.reviewer, sub.Form.ID, sub.Form.Version)
	if err != nil || ok.State != survey.Approved || ok.Corrected != 1 {
		t.Fatalf("approve: %+v, %v", ok, err)
	}
	var name, kind string
	var srcID int64
	if err := w.db.QueryRow(ctx, `SELECT p.name, e.source_kind, e.source_id FROM person p JOIN person_event e ON e.id_number = p.id_number
		WHERE p.id_number = $1 AND e.field = 'name'`, w.ids[1]).Scan(&name, &kind, &srcID); err != nil {
		t.Fatal(err)
	}
	if name != "李芳芳" || kind != "survey" || srcID != ok.ID {
		t.Errorf("registry: %s from %s %d", name, kind, srcID)
	}
	if _, err := w.forms.Save(ctx, w.clerk, m, survey.Save{Version: ok.Version, Data: form}); apperr.KindOf(err) != apperr.Conflict {
		t.Errorf("an approved form was edited: %v", err)
	}
	// Superseding: a new draft, the approved one kept.
	nf, err := w.forms.Revise(ctx, w.clerk, ok.ID)
	if err != nil || nf.State != survey.Draft || nf.Supersedes == nil || *nf.Supersedes != ok.ID || nf.Data.Name != "李芳芳" {
		t.Fatalf("revise: %+v, %v", nf, err)
	}
	var states []string
	rows, _ := w.db.Query(ctx, `SELECT state FROM survey_form WHERE member_id = $1 ORDER BY id`, m)
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		states = append(states, s)
	}
	if fmt.Sprint(states) != "[superseded draft]" {
		t.Errorf("forms of the member: %v", states)
	}
	var events int
	_ = w.db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action LIKE 'survey.form.%'`).Scan(&events)
	if events != 7 { // draft, submit, return, resubmit, approve, supersede, new draft
		t.Errorf("%d audit lines, want 7", events)
	}
}

func TestApproveDeathAndFoundMember(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	died := complete("王小明", w.ids[2])
	died.Outcome, died.OutcomeDate, died.Willing, died.Reason = survey.OutcomeDied, "2026-09-01", "", ""
	sub, err := w.forms.Save(ctx, w.clerk, w.members[2], survey.Save{Data: died, Submit: true, Key: "d"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.forms.Approve(ctx, w.reviewer, sub.Form.ID, sub.Form.Version); err != nil {
		t.Fatal(err)
	}
	var pop, effective string
	if err := w.db.QueryRow(ctx, `SELECT p.pop_status, e.effective::text FROM person p JOIN person_event e ON e.id_number = p.id_number AND e.field = 'pop_status'
		WHERE p.id_number = $1`, w.ids[2]).Scan(&pop, &effective); err != nil {
		t.Fatal(err)
	}
	if pop != survey.PopDied || effective != "2026-11-10" {
		t.Errorf("died: pop_status %s effective %s", pop, effective)
	}

	newID := validID("44098120100404104")
	if _, err := w.forms.AddFound(ctx, w.clerk, w.household, "王小红", w.ids[0], "女"); err == nil {
		t.Error("a listed person was added again")
	}
	if _, err := w.forms.AddFound(ctx, w.other, w.household, "王小红", newID, "女"); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("another township's clerk added a member: %v", err)
	}
	found, err := w.forms.AddFound(ctx, w.clerk, w.household, "王小红", newID, "女")
	if err != nil {
		t.Fatal(err)
	}
	f := complete("王小红", newID)
	f.Relation = "女"
	sub, err = w.forms.Save(ctx, w.clerk, found.ID, survey.Save{Data: f, Submit: true, Key: "f"})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := w.forms.Form(ctx, w.reviewer, sub.Form.ID)
	if err != nil || rev.Person != nil || len(rev.Diffs) < 5 {
		t.Fatalf("review of a found member: %+v, %v", rev.Diffs, err)
	}
	if _, err := w.forms.Approve(ctx, w.reviewer, sub.Form.ID, sub.Form.Version); err != nil {
		t.Fatal(err)
	}
	var name, kind, region, first string
	if err := w.db.QueryRow(ctx, `SELECT name, identity_kind, region_code, first_kind FROM person WHERE id_number = $1`, newID).
		Scan(&name, &kind, &region, &first); err != nil {
		t.Fatal(err)
	}
	if name != "王小红" || kind != survey.IdentitySurvey || region != village || first != "survey" {
		t.Errorf("new person: %s %s %s %s", name, kind, region, first)
	}
}

// TestConcurrentSaveAndSubmit: clerks saving one form from the same
// version at once get one success and conflicts; a submission retried in
// parallel with one key submits once.
func TestConcurrentSaveAndSubmit(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := complete("李芳", w.ids[1])
			f.Note = fmt.Sprint("录入员", i)
			_, results[i] = w.forms.Save(ctx, w.clerk, w.members[1], survey.Save{Version: 0, Data: f})
		}()
	}
	wg.Wait()
	wins, conflicts := 0, 0
	for _, err := range results {
		var ce *survey.ConflictError
		switch {
		case err == nil:
			wins++
		case errors.As(err, &ce), apperr.KindOf(err) == apperr.Conflict:
			conflicts++
		default:
			t.Errorf("save: %v", err)
		}
	}
	if wins != 1 || conflicts != n-1 {
		t.Errorf("%d saves won, %d conflicts; want 1 and %d", wins, conflicts, n-1)
	}

	ids := make([]int64, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := w.forms.Save(ctx, w.clerk, w.members[1], survey.Save{Version: 1, Data: complete("李芳", w.ids[1]), Submit: true, Key: "same"})
			if err != nil {
				t.Errorf("submission %d: %v", i, err)
			}
			ids[i] = s.Form.ID
		}()
	}
	wg.Wait()
	var submits, forms int
	_ = w.db.QueryRow(ctx, `SELECT count(*) FROM survey_form_event WHERE to_state = 'submitted'`).Scan(&submits)
	_ = w.db.QueryRow(ctx, `SELECT count(*) FROM survey_form WHERE member_id = $1`, w.members[1]).Scan(&forms)
	if submits != 1 || forms != 1 {
		t.Errorf("%d submissions, %d forms; want 1 and 1", submits, forms)
	}
	for _, id := range ids {
		if id != ids[0] || id == 0 {
			t.Errorf("submissions answered forms %v", ids)
			break
		}
	}
}

func TestDemoForms(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	if err := w.forms.DemoForms(ctx, fixture.County, "440981107"); err != nil {
		t.Fatal(err)
	}
	var approved, all int
	if err := w.db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'approved'), count(*) FROM survey_form`).Scan(&approved, &all); err != nil {
		t.Fatal(err)
	}
	if approved != 2 || all != 2 { // the one household is the first: approved, both targets
		t.Errorf("%d approved of %d forms, want 2 of 2", approved, all)
	}
	if err := w.forms.DemoForms(ctx, fixture.County, "440981107"); err != nil {
		t.Fatal(err)
	}
	if err := w.db.QueryRow(ctx, `SELECT count(*) FROM survey_form`).Scan(&all); err != nil || all != 2 {
		t.Errorf("a second demo run made %d forms (%v)", all, err)
	}
}
