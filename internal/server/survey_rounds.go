package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/region"
	"github.com/canbao/canbao/internal/sheet"
	"github.com/canbao/canbao/internal/survey"
	"github.com/canbao/canbao/web"
)

// routesSurveyRounds are the survey's rounds, task lists, teams, printing
// and archive (forms, review and progress are routed elsewhere).
func (s *Server) routesSurveyRounds(r chi.Router) {
	read := r.With(s.allow(actor.CompareRead))
	publish := r.With(s.allow(actor.SurveyPublish))
	assign := r.With(s.allow(actor.SurveyAssign))
	read.Get("/survey", s.handleSurvey)
	publish.Post("/survey", s.handleSurveyPublish)
	const round = "/survey/rounds/{id:[0-9]+}"
	read.Get(round, s.handleRound)
	publish.Post(round+"/topup", s.handleRoundTopUp)
	read.Get(round+"/households", s.handleRoundHouseholds)
	read.Get(round+"/members", s.handleRoundMembers)
	r.With(s.allow(actor.Export)).Get(round+"/tasks.xlsx", s.handleRoundExport)
	read.Get(round+"/teams", s.handleRoundTeams)
	assign.Post(round+"/assign", s.handleRoundAssign)
	assign.Post(round+"/assign-village", s.handleRoundAssignVillage)
	assign.Post(round+"/rebalance", s.handleRoundRebalance)
	assign.Get(round+"/print", s.handleRoundPrint)
	read.Get(round+"/archive", s.handleRoundArchive)
	assign.Post(round+"/archive", s.handleRoundArchiveSave)
	read.Get("/survey/teams", s.handleTeams)
	assign.Post("/survey/teams", s.handleTeamCreate)
	assign.Get("/survey/teams/{team:[0-9]+}", s.handleTeamEdit)
	assign.Post("/survey/teams/{team:[0-9]+}", s.handleTeamSave)
}

func roundURL(id int64, sub string, q url.Values) string {
	u := "/survey/rounds/" + strconv.FormatInt(id, 10)
	if sub != "" {
		u += "/" + sub
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

func inRegion(code string) url.Values { return url.Values{"region": {code}} }

func roundRow(r survey.Round) web.RoundRow {
	row := web.RoundRow{ID: r.ID, Link: roundURL(r.ID, "", nil), Title: r.Title, Region: r.RegionName, RegionCode: r.RegionCode,
		RunID: r.RunID, Households: r.Households, Persons: r.Persons, Target: r.Target, By: r.CreatedName,
		At: r.CreatedAt.In(cst).Format("2006-01-02 15:04"), Updated: r.UpdatedAt.In(cst).Format("2006-01-02 15:04"), Deadline: "未定"}
	if r.Deadline != nil {
		row.Deadline = r.Deadline.Format("2006-01-02")
	}
	return row
}

func (s *Server) handleSurvey(w http.ResponseWriter, r *http.Request) {
	s.renderSurvey(w, r, web.PublishForm{Title: time.Now().In(cst).Format("2006") + " 年全民参保入户调查"})
}

func (s *Server) renderSurvey(w http.ResponseWriter, r *http.Request, form web.PublishForm) {
	ctx, a := r.Context(), currentActor(r)
	rounds, err := s.survey.Rounds(ctx, a, list.Parse(r.URL.Query(), list.Spec{}))
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.SurveyRoundsView{Page: s.page(r, "入户调查", "survey"), Pager: web.PagerOf(rounds.Query, rounds.Total, "/survey"),
		CanPublish: a.May(actor.SurveyPublish), Form: form, TeamsLink: "/survey/teams"}
	for _, rd := range rounds.Items {
		v.Rounds = append(v.Rounds, roundRow(rd))
	}
	if v.CanPublish {
		me, _ := currentUser(r)
		if v.Regions, err = s.regionChoices(ctx, me.RegionCode, me.RegionName); err != nil {
			s.error(w, r, err)
			return
		}
		if v.Runs, err = s.runChoices(ctx, a, 0); err != nil {
			s.error(w, r, err)
			return
		}
	}
	if form.Error != "" {
		w.WriteHeader(http.StatusBadRequest)
	}
	s.render(w, r, web.SurveyRounds(v))
}

// runChoices are the finished comparison runs the actor sees, newest
// first, later than after.
func (s *Server) runChoices(ctx context.Context, a actor.Actor, after int64) ([]web.Option, error) {
	runs, err := s.compare.Runs(ctx, a, list.Query{Page: 1, Size: 50})
	if err != nil {
		return nil, err
	}
	var out []web.Option
	for _, c := range runs.Items {
		if c.Status == "done" && c.ID > after {
			out = append(out, web.Option{Value: strconv.FormatInt(c.ID, 10),
				Label: fmt.Sprintf("#%d %s，基准日 %s，%d 人", c.ID, c.RegionName, c.AsOf.Format("2006-01-02"), c.Persons)})
		}
	}
	return out, nil
}

// handleSurveyPublish publishes a round as a job; the browser follows its
// progress and lands on the round.
func (s *Server) handleSurveyPublish(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), currentActor(r)
	form := web.PublishForm{Region: strings.TrimSpace(r.PostFormValue("region")), RunID: strings.TrimSpace(r.PostFormValue("run")),
		Title: strings.TrimSpace(r.PostFormValue("title")), Deadline: strings.TrimSpace(r.PostFormValue("deadline"))}
	reg, err := s.regions.Get(ctx, a, form.Region)
	if err != nil {
		if apperr.KindOf(err) != apperr.NotFound {
			s.error(w, r, err)
			return
		}
		form.Error = "只能在本人管辖区划内发布调查，请选择区划"
		s.renderSurvey(w, r, form)
		return
	}
	req := survey.PublishRequest{Region: reg.Code, Title: form.Title}
	req.RunID, _ = strconv.ParseInt(form.RunID, 10, 64)
	switch {
	case form.Title == "":
		form.Error = "请填写调查批次名称"
	case len([]rune(form.Title)) > 100:
		form.Error = "调查批次名称不能超过 100 个字"
	case req.RunID == 0:
		form.Error = "请选择依据的比对批次"
	}
	if form.Error == "" {
		req.Deadline, form.Error = parseDeadline(form.Deadline)
	}
	if form.Error == "" {
		if run, err := s.compare.GetRun(ctx, a, req.RunID); err != nil || run.Status != "done" || !region.Within(run.RegionCode, reg.Code) {
			form.Error = "所选比对批次不存在、未成功完成或不包含该区划"
		}
	}
	if form.Error != "" {
		s.renderSurvey(w, r, form)
		return
	}
	id, err := s.jobs.Submit(ctx, s.survey.Job(a, req, reg.Name+" "+form.Title, nil))
	if err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, jobURL(id))
}

// parseDeadline reads an optional date.
func parseDeadline(s string) (*time.Time, string) {
	if s == "" {
		return nil, ""
	}
	d, err := time.Parse("2006-01-02", s)
	if err != nil || d.Year() < 2000 || d.Year() > 2100 {
		return nil, "完成期限应为日期（如 2026-09-30）"
	}
	return &d, ""
}

// roundOf loads the round named in the URL and the region the page shows:
// the region parameter, inside the viewer's region and the round's; by
// default the viewer's region when the round covers it, else the round's.
func (s *Server) roundOf(r *http.Request) (survey.Round, region.Region, error) {
	ctx, a := r.Context(), currentActor(r)
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	rd, err := s.survey.GetRound(ctx, a, id)
	if err != nil {
		return rd, region.Region{}, err
	}
	code := strings.TrimSpace(r.FormValue("region"))
	if code == "" {
		code = a.Region
		if !region.Within(rd.RegionCode, code) {
			code = rd.RegionCode
		}
	}
	if err := s.survey.Scope(a, rd, code); err != nil {
		return rd, region.Region{}, err
	}
	reg, err := s.region(ctx, a, code)
	return rd, reg, err
}

// roundCrumbs is the region path of a round page, each region the viewer
// may open linking to link(code).
func (s *Server) roundCrumbs(ctx context.Context, a actor.Actor, rd survey.Round, code string, link func(string) string) ([]web.Crumb, error) {
	path, err := s.regionPath(ctx, code)
	if err != nil {
		return nil, err
	}
	out := []web.Crumb{{Name: "入户调查", Link: "/survey"}}
	for _, p := range path {
		if !region.Within(rd.RegionCode, p.Code) {
			continue // above the round's region
		}
		c := web.Crumb{Name: p.Name}
		if a.Sees(p.Code) {
			c.Link = link(p.Code)
		}
		out = append(out, c)
	}
	return out, nil
}

func (s *Server) handleRound(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), currentActor(r)
	rd, reg, err := s.roundOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	total, lines, err := s.survey.Counts(ctx, a, rd, reg.Code)
	if err != nil {
		s.error(w, r, err)
		return
	}
	kids, err := s.regionChildren(ctx, reg.Code)
	if err != nil {
		s.error(w, r, err)
		return
	}
	names := map[string]string{}
	below := make([]region.Region, len(kids))
	for i, k := range kids {
		below[i], names[k.Code] = k.Region, k.Name
	}
	for i := range lines {
		lines[i].Name = names[lines[i].Code]
		if lines[i].Name == "" {
			lines[i].Name = lines[i].Code
		}
	}
	crumbs, err := s.roundCrumbs(ctx, a, rd, reg.Code, func(c string) string { return roundURL(rd.ID, "", inRegion(c)) })
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.SurveyRoundView{Page: s.page(r, fmt.Sprintf("调查批次 #%d · %s", rd.ID, reg.Name), "survey"), Round: roundRow(rd),
		RegionName: reg.Name, Crumbs: crumbs}
	for _, m := range survey.Metrics {
		v.Columns = append(v.Columns, web.Column{Key: m, Label: survey.MetricLabel(m), Title: survey.MetricLabel(m)})
		v.Cards = append(v.Cards, web.Card{Label: survey.MetricLabel(m), Cell: roundCell(rd.ID, reg.Code, m, total[m])})
	}
	for _, l := range region.Split(reg, below, lines, total).Lines {
		line := web.SummaryLine{Name: l.Name, Code: l.Code, Rest: l.Rest}
		if l.Rest {
			line.Code = "rest"
		} else {
			line.Link = roundURL(rd.ID, "", inRegion(l.Code))
		}
		for _, m := range survey.Metrics {
			c := web.Cell{N: l.Counts[m]}
			if !l.Rest {
				c = roundCell(rd.ID, l.Code, m, l.Counts[m])
			}
			line.Cells = append(line.Cells, c)
		}
		v.Lines = append(v.Lines, line)
	}
	v.Total = web.SummaryLine{Name: "合计", Code: reg.Code, Total: true}
	for _, m := range survey.Metrics {
		v.Total.Cells = append(v.Total.Cells, roundCell(rd.ID, reg.Code, m, total[m]))
	}
	in := inRegion(reg.Code)
	v.Links = []web.Option{{Label: "households", Value: roundURL(rd.ID, "households", in)},
		{Label: "members", Value: roundURL(rd.ID, "members", url.Values{"region": {reg.Code}, "targets": {"1"}})},
		{Label: "teams", Value: roundURL(rd.ID, "teams", in)}}
	if len(reg.Code) == 12 && a.May(actor.SurveyAssign) {
		v.Links = append(v.Links, web.Option{Label: "print", Value: roundURL(rd.ID, "print", url.Values{"village": {reg.Code}})})
	}
	v.Links = append(v.Links, web.Option{Label: "archive", Value: roundURL(rd.ID, "archive", in)})
	if a.May(actor.Export) {
		v.Links = append(v.Links, web.Option{Label: "export", Value: roundURL(rd.ID, "tasks.xlsx", in)})
	}
	if a.May(actor.SurveyPublish) && a.Sees(rd.RegionCode) {
		if v.TopUp, err = s.runChoices(ctx, a, rd.RunID); err != nil {
			s.error(w, r, err)
			return
		}
	}
	s.render(w, r, web.SurveyRound(v))
}

// roundCell is a round number linking to the list it counts.
func roundCell(round int64, code, metric string, n int) web.Cell {
	q := inRegion(code)
	sub := "households"
	switch metric {
	case survey.MetricPersons:
		sub = "members"
	case survey.MetricTargets:
		sub = "members"
		q.Set("targets", "1")
	case survey.MetricAssigned:
		q.Set("assigned", "1")
	}
	return web.Cell{N: n, Link: roundURL(round, sub, q), ID: "n-" + code + "-" + metric}
}

func (s *Server) handleRoundTopUp(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), currentActor(r)
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	rd, err := s.survey.GetRound(ctx, a, id)
	if err == nil && !a.Sees(rd.RegionCode) {
		err = apperr.NotFoundf("调查批次 #%d 不存在", id)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	run, _ := strconv.ParseInt(r.PostFormValue("run"), 10, 64)
	if run <= rd.RunID {
		s.error(w, r, apperr.Invalidf("请选择比本批次所用比对（#%d）更新的比对批次", rd.RunID))
		return
	}
	req := survey.PublishRequest{Round: rd.ID, Region: rd.RegionCode, RunID: run}
	jid, err := s.jobs.Submit(ctx, s.survey.Job(a, req, fmt.Sprintf("%s 补充（比对批次 #%d）", rd.Title, run), nil))
	if err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, jobURL(jid))
}

func (s *Server) handleRoundHouseholds(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), currentActor(r)
	rd, reg, err := s.roundOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	lq := list.Parse(r.URL.Query(), survey.HouseholdSpec)
	s.listAfter(r, &lq, 2)
	f := survey.HouseholdFilter{Region: reg.Code, Query: lq.Filter("q"), Assigned: lq.Filter("assigned") == "1"}
	f.Team, _ = strconv.ParseInt(lq.Filter("team"), 10, 64)
	page, err := s.survey.TaskList(ctx, a, rd, f, lq)
	if err != nil {
		s.error(w, r, err)
		return
	}
	crumbs, err := s.roundCrumbs(ctx, a, rd, reg.Code, func(c string) string { return roundURL(rd.ID, "households", inRegion(c)) })
	if err != nil {
		s.error(w, r, err)
		return
	}
	path := roundURL(rd.ID, "households", nil)
	v := web.SurveyHouseholdsView{Page: s.page(r, fmt.Sprintf("调查户清单 · %s", reg.Name), "survey"), Round: roundRow(rd), Crumbs: crumbs,
		Action: path, Query: lq.Filter("q"), Team: lq.Filter("team"), Region: reg.Code, Pager: web.PagerOf(lq, page.Total, path)}
	if n := len(page.Items); n == lq.Size {
		v.Pager.Cursor = s.listCursor(lq, page.Items[n-1].RegionCode, strconv.FormatInt(page.Items[n-1].ID, 10))
	}
	if a.May(actor.Export) {
		v.Export = roundURL(rd.ID, "tasks.xlsx", inRegion(reg.Code))
	}
	for _, t := range page.Teams {
		v.Teams = append(v.Teams, web.Option{Value: strconv.FormatInt(t.ID, 10), Label: t.Name})
	}
	// The teams' manager (mayManageTeams) assigns from the list.
	if len(reg.Code) >= 9 && a.May(actor.SurveyAssign) && !page.Limited {
		v.AssignAction = roundURL(rd.ID, "assign", nil)
	}
	for _, h := range page.Items {
		row := web.HouseholdRow{ID: h.ID, Code: h.Code, Household: h.Household, Village: h.RegionName, Head: h.HeadName,
			Persons: h.Persons, Targets: h.Targets, Team: h.TeamName, Visited: h.Visited, Confirmed: h.Confirmed}
		if row.Household == "" {
			row.Household = "（无户号）"
		}
		for _, m := range page.Members[h.ID] {
			row.Members = append(row.Members, memberLine(m))
		}
		v.Households = append(v.Households, row)
	}
	s.render(w, r, web.SurveyHouseholds(v))
}

// stateLabels name a live form's state (000009).
var stateLabels = map[string]string{"": "待调查", "draft": "调查中", "submitted": "已提交", "approved": "已入库", "returned": "已退回"}

func memberLine(m survey.Member) web.MemberLine {
	return web.MemberLine{Code: m.Code, Name: m.Name, MaskedID: maskID(m.IDNumber), Relation: m.Relation, Target: m.Target,
		Dropped: m.DroppedRun != 0, Found: m.Found, Pension: m.Pension, Medical: m.Medical, Flags: m.FlagNames(), State: stateLabels[m.State]}
}

func (s *Server) handleRoundMembers(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), currentActor(r)
	rd, reg, err := s.roundOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	lq := list.Parse(r.URL.Query(), survey.MemberSpec)
	s.listAfter(r, &lq, 3)
	targets := lq.Filter("targets") == "1"
	page, err := s.survey.Members(ctx, a, rd, reg.Code, targets, lq)
	if err != nil {
		s.error(w, r, err)
		return
	}
	sub := url.Values{}
	if targets {
		sub.Set("targets", "1")
	}
	crumbs, err := s.roundCrumbs(ctx, a, rd, reg.Code, func(c string) string {
		q := inRegion(c)
		for k, vs := range sub {
			q[k] = vs
		}
		return roundURL(rd.ID, "members", q)
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	title := "户内人员"
	if targets {
		title = "调查对象"
	}
	path := roundURL(rd.ID, "members", nil)
	v := web.SurveyMembersView{Page: s.page(r, title+" · "+reg.Name, "survey"), Crumbs: crumbs, Pager: web.PagerOf(lq, page.Total, path)}
	if n := len(page.Items); n == lq.Size {
		last := page.Items[n-1]
		v.Pager.Cursor = s.listCursor(lq, last.RegionCode, strconv.FormatInt(last.HouseholdID, 10), strconv.FormatInt(last.ID, 10))
	}
	for _, m := range page.Items {
		v.Members = append(v.Members, memberLine(m))
	}
	s.render(w, r, web.SurveyMembers(v))
}

func (s *Server) handleRoundExport(w http.ResponseWriter, r *http.Request) {
	rd, reg, err := s.roundOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	name := fmt.Sprintf("任务清单_%d_%s.xlsx", rd.ID, reg.Code)
	s.serveSheet(w, r, name, func(sw sheet.Writer) error {
		_, err := s.survey.ExportTasks(r.Context(), currentActor(r), rd, reg.Code, sw)
		return err
	})
}
