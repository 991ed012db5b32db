package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/source"
	"github.com/canbao/canbao/internal/survey"
	"github.com/canbao/canbao/web"
)

// Survey form entry (录入) by township clerks: find a task, open its
// household, type in each member's 全民参保登记表.

func householdURL(id int64) string { return "/survey/entry/households/" + strconv.FormatInt(id, 10) }
func memberURL(id int64) string    { return "/survey/entry/members/" + strconv.FormatInt(id, 10) }
func formURL(id int64) string      { return "/survey/forms/" + strconv.FormatInt(id, 10) }

// idParam reads a numeric URL parameter; anything else is a missing page.
func idParam(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, name), 10, 64)
	return id, err == nil && id > 0
}

// submitKey is a fresh idempotency key for one rendering of a form.
func submitKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported platforms
	return hex.EncodeToString(b)
}

func (s *Server) handleFormTasks(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := currentActor(r)
	lq := list.Parse(r.URL.Query(), survey.TaskSpec)
	page, err := s.forms.Tasks(ctx, a, lq)
	if err != nil {
		s.error(w, r, err)
		return
	}
	q := lq.Filter("q")
	// A task code typed back from paper (or its QR code) opens the household.
	if _, isCode := survey.NormalizeCode(q); isCode && page.Total == 1 {
		http.Redirect(w, r, householdURL(page.Items[0].HouseholdID), http.StatusSeeOther)
		return
	}
	names, err := namesOf(ctx, s, page.Items, func(it survey.TaskRow) string { return it.RegionCode })
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.FormTasksView{Page: s.page(r, "调查录入", "survey-entry"), Query: q, Pager: web.PagerOf(lq, page.Total, "/survey/entry")}
	if a.May(actor.SurveyApprove) {
		v.ReviewLink = "/survey/review"
	}
	if q != "" && page.Total == 0 {
		v.Message = "没有找到“" + q + "”对应的调查任务（可输入任务编码、姓名或身份证号）"
	}
	for _, t := range page.Items {
		var parts []string
		for _, st := range survey.StateOrder {
			if n := t.States[st]; n > 0 {
				parts = append(parts, st.Label()+" "+strconv.Itoa(n))
			}
		}
		v.Rows = append(v.Rows, web.FormTaskRow{Link: householdURL(t.HouseholdID), Code: t.Code, Region: nameOr(names, t.RegionCode),
			Head: t.Head, Household: t.Household, Address: t.Address, Round: t.RoundTitle, Members: t.Members, States: strings.Join(parts, " · ")})
	}
	s.render(w, r, web.FormTasks(v))
}

func (s *Server) handleFormHousehold(w http.ResponseWriter, r *http.Request) {
	s.renderHousehold(w, r, http.StatusOK, web.FormFoundInput{})
}

func (s *Server) renderHousehold(w http.ResponseWriter, r *http.Request, status int, add web.FormFoundInput) {
	ctx := r.Context()
	id, ok := idParam(r, "id")
	if !ok {
		s.renderStatus(w, r, http.StatusNotFound, "调查户不存在")
		return
	}
	h, err := s.forms.Household(ctx, currentActor(r), id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	names, err := s.regionNames(ctx, []string{h.RegionCode})
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.FormHouseholdView{Page: s.page(r, "调查户 "+h.Code, "survey-entry"), Code: h.Code, Region: regionLabel(names, h.RegionCode),
		Address: h.Address, Head: h.Head, Household: h.Household, Team: h.TeamName, Round: h.RoundTitle, AddAction: householdURL(h.ID) + "/members",
		Add: add}
	if h.Deadline != nil {
		v.Deadline = h.Deadline.Format("2006-01-02")
	}
	for _, m := range h.Members {
		row := web.FormMemberRow{ID: m.ID, Name: m.Name, IDMasked: maskID(m.IDNumber), Relation: m.Relation, Target: m.Target, Found: m.Found,
			State: string(m.State), StateLabel: m.State.Label(), EntryLink: memberURL(m.ID)}
		if m.State == survey.Returned {
			row.ReturnNote = m.ReturnReason
		}
		if m.Outcome != "" && m.Outcome != survey.OutcomePresent {
			row.StateLabel += "（" + survey.OutcomeLabel(m.Outcome) + "）"
		}
		if !m.Found {
			listed := []string{}
			if m.Pension != "" {
				listed = append(listed, "养老 "+m.Pension, "医疗 "+m.Medical)
			}
			if f := compare.FlagNames(m.Flags); f != "" {
				listed = append(listed, f)
			}
			row.Listed = strings.Join(listed, " · ")
		}
		v.Members = append(v.Members, row)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	s.render(w, r, web.FormHousehold(v))
}

func (s *Server) handleFormFound(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r, "id")
	if !ok {
		s.renderStatus(w, r, http.StatusNotFound, "调查户不存在")
		return
	}
	in := web.FormFoundInput{Name: strings.TrimSpace(r.PostFormValue("name")), IDNumber: strings.TrimSpace(r.PostFormValue("id_number")),
		Relation: strings.TrimSpace(r.PostFormValue("relation"))}
	f := survey.FormFromValues(url.Values{"id_number": {in.IDNumber}}) // normalizes the ID as the form does
	m, err := s.forms.AddFound(r.Context(), currentActor(r), id, in.Name, f.IDNumber, in.Relation)
	var ve *survey.ValidationError
	if errors.As(err, &ve) {
		in.Errors = ve.Fields
		s.renderHousehold(w, r, http.StatusBadRequest, in)
		return
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, memberURL(m.ID)+"?flash="+url.QueryEscape("已添加 "+m.Name+"，请填写其调查表"))
}

// entryInput is what the form page shows: the stored or pre-filled form,
// or what the clerk just typed, with the problems found.
type entryInput struct {
	data     survey.Form
	errs     survey.FieldErrors
	version  int
	summary  string
	conflict *survey.ConflictError
}

func (s *Server) handleFormEntry(w http.ResponseWriter, r *http.Request) {
	s.renderEntry(w, r, http.StatusOK, nil)
}

func (s *Server) renderEntry(w http.ResponseWriter, r *http.Request, status int, in *entryInput) {
	id, ok := idParam(r, "id")
	if !ok {
		s.renderStatus(w, r, http.StatusNotFound, "调查对象不存在")
		return
	}
	e, err := s.forms.Entry(r.Context(), currentActor(r), id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	state := survey.Pending
	if e.Live != nil {
		state = e.Live.State
	}
	if in == nil {
		in = &entryInput{data: e.Prefill}
		if e.Live != nil {
			in.data, in.version = e.Live.Data, e.Live.Version
			if state == survey.Draft || state == survey.Returned {
				in.errs = in.data.Validate(false, s.forms.Today())
			}
		}
	}
	editable := state == survey.Pending || state == survey.Draft || state == survey.Returned
	v := web.FormEntryView{Page: s.page(r, "全民参保登记表 · "+e.Member.Name, "survey-entry"), HouseholdLink: householdURL(e.Household.ID),
		HouseholdCode: e.Household.Code, MemberName: e.Member.Name, Found: e.Member.Found, State: string(state), StateLabel: state.Label(),
		Editable: editable, Action: memberURL(id), Version: in.version, Key: submitKey(), ErrorSummary: in.summary}
	if e.Live != nil {
		v.ViewLink = formURL(e.Live.ID)
		if state == survey.Returned {
			v.ReturnReason = e.Live.ReturnReason
		}
		if state == survey.Approved {
			v.ReviseAction = "/survey/entry/forms/" + strconv.FormatInt(e.Live.ID, 10) + "/revise"
		}
	}
	v.Sections, v.Schemes = formSections(in.data, in.errs, !e.Member.Found)
	if c := in.conflict; c != nil {
		v.Conflict = c.Error()
		v.ConflictRows = conflictRows(c.Current.Data, in.data)
		v.Version = c.Current.Version // saving again, having seen both, keeps the clerk's version
	}
	v.Events = eventLines(e.Events)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	s.render(w, r, web.FormEntry(v))
}

func eventLines(events []survey.FormEvent) []web.FormEventLine {
	var out []web.FormEventLine
	for _, ev := range events {
		out = append(out, web.FormEventLine{At: ev.At.In(cst).Format("2006-01-02 15:04"), Actor: ev.ActorName, From: ev.From.Label(),
			To: ev.To.Label(), Note: ev.Note})
	}
	return out
}

func (s *Server) handleFormSave(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r, "id")
	if !ok {
		s.renderStatus(w, r, http.StatusNotFound, "调查对象不存在")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.renderStatus(w, r, http.StatusBadRequest, "表单无法读取，请重试")
		return
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	in := survey.Save{Version: version, Data: survey.FormFromValues(r.PostForm), Submit: r.PostFormValue("do") == "submit",
		Key: r.PostFormValue("key")}
	saved, err := s.forms.Save(r.Context(), currentActor(r), id, in)
	var ve *survey.ValidationError
	var ce *survey.ConflictError
	switch {
	case errors.As(err, &ve):
		s.renderEntry(w, r, http.StatusBadRequest, &entryInput{data: in.Data, errs: ve.Fields, version: version,
			summary: "提交未成功：有 " + strconv.Itoa(len(ve.Fields)) + " 项需要修改（见标红处），已填写的内容都在。"})
		return
	case errors.As(err, &ce):
		s.renderEntry(w, r, http.StatusConflict, &entryInput{data: in.Data, version: version, conflict: ce})
		return
	case err != nil:
		s.error(w, r, err)
		return
	}
	h := householdURL(saved.Form.HouseholdID)
	switch {
	case in.Submit:
		redirect(w, r, h+"?flash="+url.QueryEscape(saved.Form.Data.Name+" 的调查表已提交审核"))
	case len(saved.Warnings) > 0:
		redirect(w, r, memberURL(id)+"?flash="+url.QueryEscape("草稿已保存（第 "+strconv.Itoa(saved.Form.Version)+" 版）；标红的项目提交前需修改"))
	default:
		redirect(w, r, memberURL(id)+"?flash="+url.QueryEscape("草稿已保存（第 "+strconv.Itoa(saved.Form.Version)+" 版）"))
	}
}

func (s *Server) handleFormRevise(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r, "id")
	if !ok {
		s.renderStatus(w, r, http.StatusNotFound, "调查表不存在")
		return
	}
	f, err := s.forms.Revise(r.Context(), currentActor(r), id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, memberURL(f.MemberID)+"?flash="+url.QueryEscape("已新建调查表，原已入库的调查表保留"))
}

// formSections lays out the 全民参保登记表 (DOMAIN §6) with values and
// errors; a listed member's ID is fixed (it is the registry's key).
func formSections(f survey.Form, errs survey.FieldErrors, idFixed bool) ([]web.FormSection, []web.FormSchemeLine) {
	fld := func(name, label, value, kind string, required bool, opts ...string) web.FormField {
		ff := web.FormField{Name: name, Label: label, Value: value, Kind: kind, Required: required, Error: errs[name], Options: opts}
		switch kind {
		case "date":
			ff.Check = "date"
		case "tel":
			ff.Check = "phone"
		}
		return ff
	}
	id := fld("id_number", "公民身份号码", f.IDNumber, "text", true)
	id.Check, id.ReadOnly = "id", idFixed
	outcomes := []string{}
	for _, o := range survey.Outcomes {
		outcomes = append(outcomes, o.Label)
	}
	outcome := fld("outcome", "人员状况", survey.OutcomeLabel(f.Outcome), "select", true, outcomes...)
	secs := []web.FormSection{
		{Title: "基本信息", Fields: []web.FormField{
			fld("name", "姓名", f.Name, "text", true), id,
			fld("sex", "性别", f.Sex, "select", true, survey.Sexes...), fld("ethnic", "民族", f.Ethnic, "text", false),
			fld("birth", "出生日期", f.Birth, "date", true), fld("phone", "联系电话", f.Phone, "tel", false),
			fld("hukou_address", "户籍地址", f.HukouAddress, "text", false), fld("home_address", "常住地址", f.HomeAddress, "text", false),
			fld("hukou_type", "户口性质", f.HukouType, "select", false, survey.HukouTypes...),
			fld("head_name", "户主姓名", f.HeadName, "text", false), fld("relation", "与户主关系", f.Relation, "text", false),
		}},
		{Title: "人员状况", Fields: []web.FormField{outcome, fld("outcome_date", "迁出或死亡日期", f.OutcomeDate, "date", false)}},
		{Title: "就业情况", Fields: []web.FormField{
			fld("employment", "就业状态", f.Employment, "select", false, survey.Employments...), fld("employer", "就业单位", f.Employer, "text", false),
		}},
		{Title: "参保情况", Fields: []web.FormField{
			fld("reason", "未参保原因", f.Reason, "select", false, survey.Reasons...), fld("reason_text", "原因说明（其他）", f.ReasonText, "text", false),
			fld("willing", "参保意愿", f.Willing, "select", false, survey.Willings...),
		}},
		{Title: "调查信息", Fields: []web.FormField{
			fld("method", "核查方式", f.Method, "select", true, survey.Methods...), fld("surveyor", "调查员", f.Surveyor, "text", true),
			fld("surveyed_on", "调查日期", f.SurveyedOn, "date", true), fld("note", "备注", f.Note, "textarea", false),
		}},
	}
	var schemes []web.FormSchemeLine
	for _, sc := range source.Schemes() {
		a := f.Schemes[sc.Key]
		schemes = append(schemes, web.FormSchemeLine{Code: sc.Code, Label: sc.Key, Insured: a.Insured, Place: a.Place,
			InsuredError: errs["ins_"+sc.Code], PlaceError: errs["place_"+sc.Code]})
	}
	return secs, schemes
}

// conflictRows lays both versions of a form side by side, item by item.
func conflictRows(theirs, yours survey.Form) []web.FormConflictRow {
	var rows []web.FormConflictRow
	t, y := formItems(theirs), formItems(yours)
	for i := range t {
		rows = append(rows, web.FormConflictRow{Label: t[i].Label, Theirs: t[i].Value, Yours: y[i].Value, Differs: t[i].Value != y[i].Value})
	}
	return rows
}

// formItems lists every item of a form with its Chinese label, in form
// order (the review page and the conflict table show them so).
func formItems(f survey.Form) []web.Option {
	items := []web.Option{
		{Label: "姓名", Value: f.Name}, {Label: "公民身份号码", Value: f.IDNumber}, {Label: "性别", Value: f.Sex}, {Label: "民族", Value: f.Ethnic},
		{Label: "出生日期", Value: f.Birth}, {Label: "户籍地址", Value: f.HukouAddress}, {Label: "常住地址", Value: f.HomeAddress},
		{Label: "联系电话", Value: f.Phone}, {Label: "户口性质", Value: f.HukouType}, {Label: "户主姓名", Value: f.HeadName},
		{Label: "与户主关系", Value: f.Relation}, {Label: "人员状况", Value: survey.OutcomeLabel(f.Outcome)}, {Label: "迁出或死亡日期", Value: f.OutcomeDate},
		{Label: "就业状态", Value: f.Employment}, {Label: "就业单位", Value: f.Employer},
	}
	for _, sc := range source.Schemes() {
		a := f.Schemes[sc.Key]
		v := a.Insured
		if a.Place != "" {
			v += "（" + a.Place + "）"
		}
		items = append(items, web.Option{Label: sc.Key, Value: v})
	}
	return append(items, web.Option{Label: "未参保原因", Value: f.Reason}, web.Option{Label: "原因说明", Value: f.ReasonText},
		web.Option{Label: "参保意愿", Value: f.Willing}, web.Option{Label: "核查方式", Value: f.Method}, web.Option{Label: "调查员", Value: f.Surveyor},
		web.Option{Label: "调查日期", Value: f.SurveyedOn}, web.Option{Label: "备注", Value: f.Note})
}
