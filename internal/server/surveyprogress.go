package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/sheet"
	"github.com/canbao/canbao/internal/survey"
	"github.com/canbao/canbao/web"
)

// Survey progress: households and persons visited, confirmed, returned and
// overdue per region, team and clerk; the list behind every number; the
// willing-to-enroll list; the exports.

// progressMetrics are the progress table's columns, in order.
var progressMetrics = []string{survey.ProgressHouseholds, survey.ProgressHouseholdsVisited, survey.ProgressHouseholdsConfirmed,
	survey.ProgressPersons, survey.ProgressVisited, survey.ProgressConfirmed, survey.ProgressReturned, survey.ProgressOverdue}

// progressRound is the round a progress page asks for, else the newest
// the viewer may read (0 when there is none).
func (s *Server) progressRound(r *http.Request) (int64, []survey.RoundRef, error) {
	rounds, err := s.forms.ProgressRounds(r.Context(), currentActor(r))
	if err != nil {
		return 0, nil, err
	}
	if id, err := strconv.ParseInt(r.URL.Query().Get("round"), 10, 64); err == nil {
		return id, rounds, nil
	}
	if len(rounds) == 0 {
		return 0, rounds, nil
	}
	return rounds[0].ID, rounds, nil
}

func progressListURL(round int64, code string, g survey.Group, metric string) string {
	return "/survey/progress/list?" + url.Values{"round": {strconv.FormatInt(round, 10)}, "region": {code}, "kind": {g.Kind},
		"key": {g.Key}, "metric": {metric}}.Encode()
}

func progressURL(round int64, code string) string {
	return "/survey/progress?" + url.Values{"round": {strconv.FormatInt(round, 10)}, "region": {code}}.Encode()
}

func rate(n, d int) string {
	if d == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", float64(n)*100/float64(d))
}

func (s *Server) handleFormProgress(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := currentActor(r)
	round, rounds, err := s.progressRound(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.FormProgressView{Page: s.page(r, "入户调查进度", "survey-entry")}
	if round == 0 {
		v.NoRound = true
		s.render(w, r, web.FormProgress(v))
		return
	}
	p, err := s.forms.Progress(ctx, a, round, r.URL.Query().Get("region"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	for _, rr := range rounds {
		v.Rounds = append(v.Rounds, web.Option{Value: strconv.FormatInt(rr.ID, 10), Label: rr.Title + "（" + rr.RegionCode + "）"})
	}
	v.Round, v.Region, v.RegionName = strconv.FormatInt(round, 10), p.Region, p.Total.Label
	v.Page.Title = "入户调查进度 · " + p.Total.Label
	if p.Round.Deadline != nil {
		v.Deadline = p.Round.Deadline.Format("2006-01-02")
	} else {
		v.Deadline = "未设"
	}
	if parent := parentCode(p.Region); parent != "" && a.Sees(parent) && len(parent) >= len(p.Round.RegionCode) {
		v.Up = progressURL(round, parent)
	}
	for _, m := range progressMetrics {
		v.Headers = append(v.Headers, survey.ProgressMetricLabel(m))
	}
	row := func(pr survey.ProgressRow, link string) web.FormProgressRow {
		code := p.Region
		if pr.Group.Kind == "region" {
			code = pr.Group.Key
		}
		out := web.FormProgressRow{Label: pr.Label, Link: link, VisitRate: rate(pr.HouseholdsVisited, pr.Households),
			CompletionRate: rate(pr.Confirmed, pr.Persons)}
		for _, m := range progressMetrics {
			out.Cells = append(out.Cells, web.FormProgressCell{N: pr.Number(m), Link: progressListURL(round, code, pr.Group, m),
				ID: "p-" + pr.Group.Kind + "-" + pr.Group.Key + "-" + m})
		}
		return out
	}
	v.Total = row(p.Total, "")
	children := web.FormProgressTable{Title: "下级区划", TestID: "progress-children"}
	for _, c := range p.Children {
		children.Rows = append(children.Rows, row(c, progressURL(round, c.Group.Key)))
	}
	teams := web.FormProgressTable{Title: "调查组", TestID: "progress-teams"}
	for _, t := range p.Teams {
		teams.Rows = append(teams.Rows, row(t, ""))
	}
	clerks := web.FormProgressTable{Title: "录入人员", TestID: "progress-clerks"}
	for _, c := range p.Clerks {
		clerks.Rows = append(clerks.Rows, row(c, ""))
	}
	v.Tables = []web.FormProgressTable{children, teams, clerks}
	q := url.Values{"round": {v.Round}, "region": {p.Region}}.Encode()
	v.WillingLink = "/survey/willing?" + q
	if a.May(actor.Export) {
		v.Exports = []web.Option{{Label: "导出已入库调查表", Value: "/survey/export/approved.xlsx?" + q},
			{Label: "导出参保意愿名单", Value: "/survey/export/willing.xlsx?" + q}, {Label: "导出未参保原因", Value: "/survey/export/reasons.xlsx?" + q}}
	}
	s.render(w, r, web.FormProgress(v))
}

func (s *Server) handleFormProgressList(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := currentActor(r)
	lq := list.Parse(r.URL.Query(), survey.ProgressListSpec)
	round, _ := strconv.ParseInt(lq.Filter("round"), 10, 64)
	g := survey.Group{Kind: lq.Filter("kind"), Key: lq.Filter("key")}
	metric := lq.Filter("metric")
	households := metric == survey.ProgressHouseholds || metric == survey.ProgressHouseholdsVisited || metric == survey.ProgressHouseholdsConfirmed
	key := 3 // a person's region code, household and member; a household's first two
	if households {
		key = 2
	}
	s.listAfter(r, &lq, key)
	page, err := s.forms.ProgressList(ctx, a, round, lq.Filter("region"), g, metric, lq)
	if err != nil {
		s.error(w, r, err)
		return
	}
	names, err := namesOf(ctx, s, page.Items, func(it survey.ProgressItem) string { return it.RegionCode })
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.FormProgressListView{Page: s.page(r, survey.ProgressMetricLabel(metric)+"名单", "survey-entry"), Households: households,
		Pager: web.PagerOf(lq, page.Total, "/survey/progress/list"), Back: progressURL(round, lq.Filter("region"))}
	if n := len(page.Items); n == lq.Size {
		last := page.Items[n-1]
		v.Pager.Cursor = s.listCursor(lq, []string{last.RegionCode, strconv.FormatInt(last.HouseholdID, 10),
			strconv.FormatInt(last.MemberID, 10)}[:key]...)
	}
	enter := a.May(actor.SurveyEnter)
	for _, it := range page.Items {
		row := web.FormListRow{Name: it.Name, IDMasked: maskID(it.IDNumber), Household: it.HouseholdCode, Region: nameOr(names, it.RegionCode),
			State: it.State.Label(), Persons: it.Persons, Visited: it.Visited, Confirmed: it.Confirmed}
		if enter {
			row.Link = householdURL(it.HouseholdID)
		}
		v.Rows = append(v.Rows, row)
	}
	s.render(w, r, web.FormProgressList(v))
}

var followOptions = []web.Option{{Value: "", Label: "全部"}, {Value: survey.FollowWaiting, Label: survey.FollowWaiting},
	{Value: survey.FollowEnrolled, Label: survey.FollowEnrolled}, {Value: survey.FollowNot, Label: survey.FollowNot}}

func (s *Server) handleFormWilling(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := currentActor(r)
	lq := list.Parse(r.URL.Query(), survey.WillingSpec)
	round, _ := strconv.ParseInt(lq.Filter("round"), 10, 64)
	page, err := s.forms.Willing(ctx, a, round, lq.Filter("region"), lq)
	if err != nil {
		s.error(w, r, err)
		return
	}
	names, err := namesOf(ctx, s, page.Items, func(it survey.WillingItem) string { return it.RegionCode })
	if err != nil {
		s.error(w, r, err)
		return
	}
	q := url.Values{"round": {lq.Filter("round")}, "region": {lq.Filter("region")}}
	v := web.FormWillingView{Page: s.page(r, "参保意愿名单（愿意参保）", "survey-entry"), Follow: lq.Filter("follow"), Follows: followOptions,
		Hidden: []web.Param{{Name: "round", Value: lq.Filter("round")}, {Name: "region", Value: lq.Filter("region")}},
		Pager:  web.PagerOf(lq, page.Total, "/survey/willing"), Back: "/survey/progress?" + q.Encode()}
	if a.May(actor.Export) {
		v.ExportLink = "/survey/export/willing.xlsx?" + q.Encode()
	}
	for _, it := range page.Items {
		row := web.FormWillingRow{Name: it.Name, IDMasked: maskID(it.IDNumber), Phone: maskPhone(it.Phone), Household: it.HouseholdCode,
			Region: nameOr(names, it.RegionCode), Reason: it.Reason, FollowUp: it.FollowUp}
		if it.SurveyedOn != nil {
			row.SurveyedOn = it.SurveyedOn.Format("2006-01-02")
		}
		v.Rows = append(v.Rows, row)
	}
	s.render(w, r, web.FormWilling(v))
}

// handleFormExport streams one of the survey's xlsx exports: "approved"
// forms, the "willing" list or the not-insured "reasons".
func (s *Server) handleFormExport(name string) http.HandlerFunc {
	titles := map[string]string{"approved": "已入库调查表", "willing": "参保意愿名单", "reasons": "未参保原因"}
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		round, _ := strconv.ParseInt(r.URL.Query().Get("round"), 10, 64)
		code := r.URL.Query().Get("region")
		a := currentActor(r)
		file := fmt.Sprintf("%s-%d-%s.xlsx", titles[name], round, code)
		s.serveSheet(w, r, file, func(sw sheet.Writer) error {
			var err error
			switch name {
			case "approved":
				_, err = s.forms.ExportApproved(ctx, a, round, code, sw)
			case "willing":
				_, err = s.forms.ExportWilling(ctx, a, round, code, sw)
			default:
				_, err = s.forms.ExportReasons(ctx, a, round, code, sw)
			}
			return err
		})
	}
}

// parentCode is the code one level above code ("" at the top).
func parentCode(code string) string {
	switch len(code) {
	case 12:
		return code[:9]
	case 9:
		return code[:6]
	case 6:
		return code[:4]
	case 4:
		return code[:2]
	}
	return ""
}
