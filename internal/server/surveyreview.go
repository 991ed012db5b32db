package server

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/survey"
	"github.com/canbao/canbao/web"
)

// Review of survey forms by county reviewers: the queue, a form with the
// registry beside it, approve (登记入库) or return.

var queueStates = []web.Option{{Value: "submitted", Label: "已提交待审核"}, {Value: "returned", Label: "已退回"},
	{Value: "approved", Label: "已入库"}, {Value: "draft", Label: "调查中"}}

func (s *Server) handleFormQueue(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lq := list.Parse(r.URL.Query(), survey.QueueSpec)
	s.listAfter(r, &lq, 2)
	page, err := s.forms.Queue(ctx, currentActor(r), lq)
	if err != nil {
		s.error(w, r, err)
		return
	}
	names, err := namesOf(ctx, s, page.Items, func(it survey.QueueItem) string { return it.Village })
	if err != nil {
		s.error(w, r, err)
		return
	}
	state := lq.Filter("state")
	if state == "" {
		state = "submitted"
	}
	v := web.FormQueueView{Page: s.page(r, "审核调查表", "survey-entry"), State: state, Region: lq.Filter("region"), States: queueStates,
		Pager: web.PagerOf(lq, page.Total, "/survey/review")}
	if n := len(page.Items); n == lq.Size {
		v.Pager.Cursor = s.listCursor(lq, survey.QueueKey(page.Items[n-1])...)
	}
	for _, it := range page.Items {
		row := web.FormQueueRow{Link: formURL(it.FormID), Name: it.Name, IDMasked: maskID(it.IDNumber), Household: it.HouseholdCode,
			Region: nameOr(names, it.Village), Entered: it.EnteredName, State: it.State.Label(), Outcome: survey.OutcomeLabel(it.Outcome), Found: it.Found}
		if it.SubmittedAt != nil {
			row.Submitted = it.SubmittedAt.In(cst).Format("2006-01-02 15:04")
		}
		v.Rows = append(v.Rows, row)
	}
	s.render(w, r, web.FormQueue(v))
}

func (s *Server) handleFormView(w http.ResponseWriter, r *http.Request) {
	s.renderReview(w, r, http.StatusOK, "")
}

func (s *Server) renderReview(w http.ResponseWriter, r *http.Request, status int, returnErr string) {
	ctx := r.Context()
	a := currentActor(r)
	id, ok := idParam(r, "id")
	if !ok {
		s.renderStatus(w, r, http.StatusNotFound, "调查表不存在")
		return
	}
	rv, err := s.forms.Form(ctx, a, id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	names, err := s.regionNames(ctx, []string{rv.Household.RegionCode})
	if err != nil {
		s.error(w, r, err)
		return
	}
	f := rv.Form
	v := web.FormReviewView{Page: s.page(r, "调查表 · "+f.Data.Name, "survey-entry"), FormID: f.ID, State: string(f.State),
		StateLabel: f.State.Label(), HouseholdCode: rv.Household.Code, Region: regionLabel(names, rv.Household.RegionCode),
		Entered: f.EnteredName, Reviewed: f.ReviewedName, Corrected: f.Corrected, InRegistry: rv.Person != nil, Version: f.Version,
		CanReview: f.State == survey.Submitted && a.May(actor.SurveyApprove), ReturnReason: f.ReturnReason, ReturnError: returnErr,
		ApproveAction: formURL(f.ID) + "/approve", ReturnAction: formURL(f.ID) + "/return", Events: eventLines(rv.Events)}
	if rv.Person != nil {
		v.PersonLink = s.personLink(r, rv.Person.IDNumber)
	}
	if a.May(actor.SurveyEnter) {
		v.EntryLink = memberURL(f.MemberID)
	}
	differs := map[string]survey.Diff{}
	for _, d := range rv.Diffs {
		differs[d.Field] = d
	}
	items := formItems(f.Data)
	shown := map[string]bool{}
	for _, row := range reviewRows(rv) {
		if d, ok := differs[row.Label]; ok {
			row.Registry, row.Form, row.Differs = d.Registry, d.Form, true
		}
		shown[row.Label] = true
		v.Rows = append(v.Rows, row)
	}
	for _, it := range items {
		if !shown[it.Label] {
			v.Items = append(v.Items, it)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	s.render(w, r, web.FormReview(v))
}

// reviewRows are the registry's fields beside the form's, by the labels
// the registry uses (survey.Diff names its field so).
func reviewRows(rv survey.Review) []web.FormCompareRow {
	f := rv.Form.Data
	reg := func(get func() string) string {
		if rv.Person == nil {
			return ""
		}
		return get()
	}
	birth := reg(func() string {
		if rv.Person.Birth == nil {
			return ""
		}
		return rv.Person.Birth.Format("2006-01-02")
	})
	pop := ""
	switch f.Outcome {
	case survey.OutcomeDied:
		pop = survey.PopDied
	case survey.OutcomeMoved:
		pop = survey.PopMoved
	}
	return []web.FormCompareRow{
		{Label: "公民身份号码", Registry: reg(func() string { return rv.Person.IDNumber }), Form: f.IDNumber},
		{Label: "姓名", Registry: reg(func() string { return rv.Person.Name }), Form: f.Name},
		{Label: "性别", Registry: reg(func() string { return rv.Person.Sex }), Form: f.Sex},
		{Label: "出生日期", Registry: birth, Form: f.Birth},
		{Label: "户号", Registry: reg(func() string { return rv.Person.Household }), Form: rv.Household.Household},
		{Label: "与户主关系", Registry: reg(func() string { return rv.Person.Relation }), Form: f.Relation},
		{Label: "人口状态", Registry: reg(func() string { return rv.Person.PopStatus }), Form: pop},
	}
}

func (s *Server) handleFormApprove(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r, "id")
	if !ok {
		s.renderStatus(w, r, http.StatusNotFound, "调查表不存在")
		return
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	f, err := s.forms.Approve(r.Context(), currentActor(r), id, version)
	if err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, "/survey/review?flash="+url.QueryEscape(f.Data.Name+" 的调查表已审核通过并登记入库（更正 "+strconv.Itoa(f.Corrected)+" 项）"))
}

func (s *Server) handleFormReturn(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r, "id")
	if !ok {
		s.renderStatus(w, r, http.StatusNotFound, "调查表不存在")
		return
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	f, err := s.forms.Return(r.Context(), currentActor(r), id, version, r.PostFormValue("reason"))
	var ve *survey.ValidationError
	if errors.As(err, &ve) {
		s.renderReview(w, r, http.StatusBadRequest, ve.Fields["reason"])
		return
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, "/survey/review?flash="+url.QueryEscape(f.Data.Name+" 的调查表已退回录入人员修改"))
}

// personSurveyForms links a person's page to their survey forms, the
// approved (已入库) one first.
func (s *Server) personSurveyForms(r *http.Request, id string) ([]web.Option, error) {
	forms, err := s.forms.PersonForms(r.Context(), currentActor(r), id)
	if err != nil {
		return nil, err
	}
	var out []web.Option
	for _, f := range forms {
		label := f.RoundTitle + " · " + f.State.Label()
		if f.SurveyedOn != nil {
			label += " · 调查日期 " + f.SurveyedOn.Format("2006-01-02")
		}
		out = append(out, web.Option{Label: label, Value: formURL(f.FormID)})
	}
	return out, nil
}
