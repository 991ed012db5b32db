package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/survey"
	"github.com/canbao/canbao/web"
)

// teamFormRows is how many member rows the team form offers.
const teamFormRows = 4

func teamMembersText(t survey.Team) string {
	parts := make([]string, len(t.Members))
	for i, m := range t.Members {
		parts[i] = m.Name + " " + maskPhone(m.Phone)
		if acc, ok := t.Account(m.Name); ok {
			parts[i] += "（账号 " + acc.Username
			if acc.TeamOnly {
				parts[i] += "，只看本组任务"
			}
			parts[i] += "）"
		}
	}
	return strings.Join(parts, "；")
}

// teamForm reads the team form's fields.
func teamForm(r *http.Request) survey.TeamForm {
	f := survey.TeamForm{Township: strings.TrimSpace(r.PostFormValue("township")), Name: r.PostFormValue("name"),
		Active: r.PostFormValue("active") == "1"}
	names, phones := r.PostForm["member_name"], r.PostForm["member_phone"]
	for i := range min(len(names), len(phones), survey.MaxTeamMembers+teamFormRows) {
		f.Members = append(f.Members, survey.TeamMember{Name: names[i], Phone: phones[i]})
	}
	return f
}

func teamFormView(f survey.TeamForm, action string, existing bool) web.TeamFormView {
	v := web.TeamFormView{Action: action, Township: f.Township, Name: f.Name, Active: f.Active, Existing: existing}
	for _, m := range f.Members {
		v.Members = append(v.Members, web.TeamMemberField{Name: m.Name, Phone: m.Phone})
	}
	for len(v.Members) < teamFormRows {
		v.Members = append(v.Members, web.TeamMemberField{})
	}
	return v
}

func (s *Server) handleTeams(w http.ResponseWriter, r *http.Request) {
	s.renderTeams(w, r, teamFormView(survey.TeamForm{}, "/survey/teams", false), http.StatusOK)
}

func (s *Server) renderTeams(w http.ResponseWriter, r *http.Request, form web.TeamFormView, status int) {
	ctx, a := r.Context(), currentActor(r)
	code := strings.TrimSpace(r.URL.Query().Get("region"))
	if code == "" {
		code = a.Region
	}
	teams, err := s.survey.Teams(ctx, a, code)
	if err != nil {
		s.error(w, r, err)
		return
	}
	canEdit, err := s.mayManageTeams(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.SurveyTeamsView{Page: s.page(r, "调查组", "survey"), CanEdit: canEdit, Form: form}
	for _, t := range teams {
		row := web.TeamRow{ID: t.ID, Township: t.RegionName, Name: t.Name, Members: teamMembersText(t), Active: t.Active}
		if v.CanEdit {
			row.Edit = "/survey/teams/" + strconv.FormatInt(t.ID, 10)
		}
		v.Teams = append(v.Teams, row)
	}
	if v.CanEdit {
		if v.Form.Townships, err = s.townships(r, a); err != nil {
			s.error(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	s.render(w, r, web.SurveyTeams(v))
}

// townships are the townships a team may be made for: the actor's own,
// or those below their county or city.
func (s *Server) townships(r *http.Request, a actor.Actor) ([]web.Option, error) {
	ctx := r.Context()
	if len(a.Region) == 9 {
		reg, err := s.regions.Get(ctx, a, a.Region)
		return []web.Option{{Value: reg.Code, Label: reg.Name}}, err
	}
	var out []web.Option
	counties := []string{a.Region}
	if len(a.Region) < 6 {
		kids, err := s.regions.Children(ctx, a.Region)
		if err != nil {
			return nil, err
		}
		counties = counties[:0]
		for _, k := range kids {
			counties = append(counties, k.Code)
		}
	}
	for _, c := range counties {
		kids, err := s.regions.Children(ctx, c)
		if err != nil {
			return nil, err
		}
		for _, k := range kids {
			if len(k.Code) == 9 {
				out = append(out, web.Option{Value: k.Code, Label: k.Name})
			}
		}
	}
	return out, nil
}

func (s *Server) handleTeamCreate(w http.ResponseWriter, r *http.Request) {
	f := teamForm(r)
	_, err := s.survey.SaveTeam(r.Context(), currentActor(r), 0, f)
	if err != nil {
		if k := apperr.KindOf(err); k == apperr.Invalid || k == apperr.Conflict {
			v := teamFormView(f, "/survey/teams", false)
			v.Error = apperr.Message(err)
			s.renderTeams(w, r, v, http.StatusBadRequest)
			return
		}
		s.error(w, r, err)
		return
	}
	redirect(w, r, "/survey/teams?flash="+url.QueryEscape("调查组已保存"))
}

func (s *Server) teamOf(r *http.Request) (survey.Team, error) {
	id, _ := strconv.ParseInt(chi.URLParam(r, "team"), 10, 64)
	return s.survey.GetTeam(r.Context(), currentActor(r), id)
}

// mayManageTeams says whether the viewer may add, change and assign
// teams: a clerk who may assign, unless limited to their own team.
func (s *Server) mayManageTeams(r *http.Request) (bool, error) {
	a := currentActor(r)
	if !a.May(actor.SurveyAssign) {
		return false, nil
	}
	only, err := s.survey.Limited(r.Context(), a)
	return !only, err
}

func (s *Server) handleTeamEdit(w http.ResponseWriter, r *http.Request) {
	if err := s.survey.CheckManager(r.Context(), currentActor(r)); err != nil {
		s.error(w, r, err)
		return
	}
	t, err := s.teamOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	f := survey.TeamForm{Township: t.RegionCode, Name: t.Name, Members: t.Members, Active: t.Active}
	v := web.TeamEditView{Page: s.page(r, "调查组 · "+t.RegionName+" "+t.Name, "survey"),
		Form: teamFormView(f, "/survey/teams/"+strconv.FormatInt(t.ID, 10), true)}
	if v.Accounts, err = s.teamAccountsView(r, t); err != nil {
		s.error(w, r, err)
		return
	}
	s.render(w, r, web.TeamEdit(v))
}

func (s *Server) handleTeamSave(w http.ResponseWriter, r *http.Request) {
	t, err := s.teamOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	f := teamForm(r)
	if _, err := s.survey.SaveTeam(r.Context(), currentActor(r), t.ID, f); err != nil {
		if k := apperr.KindOf(err); k == apperr.Invalid || k == apperr.Conflict {
			v := web.TeamEditView{Page: s.page(r, "调查组 · "+t.RegionName+" "+t.Name, "survey"),
				Form: teamFormView(f, "/survey/teams/"+strconv.FormatInt(t.ID, 10), true)}
			v.Form.Error = apperr.Message(err)
			if v.Accounts, err = s.teamAccountsView(r, t); err != nil {
				s.error(w, r, err)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusBadRequest)
			s.render(w, r, web.TeamEdit(v))
			return
		}
		s.error(w, r, err)
		return
	}
	redirect(w, r, "/survey/teams?flash="+url.QueryEscape("调查组已保存"))
}

func (s *Server) handleRoundTeams(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), currentActor(r)
	rd, reg, err := s.roundOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	loads, err := s.survey.Loads(ctx, a, rd, reg.Code)
	if err != nil {
		s.error(w, r, err)
		return
	}
	crumbs, err := s.roundCrumbs(ctx, a, rd, reg.Code, func(c string) string { return roundURL(rd.ID, "teams", inRegion(c)) })
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.RoundTeamsView{Page: s.page(r, "调查组分派 · "+reg.Name, "survey"), Round: roundRow(rd), Crumbs: crumbs, Region: reg.Code}
	canAssign, err := s.mayManageTeams(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	canPrint := a.May(actor.SurveyAssign)
	var codes []string
	for _, l := range loads {
		codes = append(codes, l.Villages...)
	}
	names, err := s.regionNames(ctx, codes)
	if err != nil {
		s.error(w, r, err)
		return
	}
	villageNames := func(codes []string) string {
		out := make([]string, len(codes))
		for i, c := range codes {
			out[i] = c
			if n := names[c]; n != "" {
				out[i] = n
			}
		}
		return strings.Join(out, "、")
	}
	teamNames := map[int64]string{}
	for _, l := range loads {
		row := web.LoadRow{TeamID: l.ID, Township: l.RegionName, Team: l.Name, Households: l.Households, Persons: l.Persons,
			Targets: l.Targets, HouseholdsVisited: l.HouseholdsVisited, PersonsVisited: l.PersonsVisited, Villages: villageNames(l.Villages)}
		team := "-1"
		if l.ID != 0 {
			team = strconv.FormatInt(l.ID, 10)
			teamNames[l.ID] = l.Name
			if canPrint {
				row.Print = roundURL(rd.ID, "print", url.Values{"team": {team}})
			}
			if l.Active && len(reg.Code) >= 9 {
				v.Teams = append(v.Teams, web.Option{Value: team, Label: l.Name})
			}
		}
		row.List = roundURL(rd.ID, "households", url.Values{"region": {reg.Code}, "team": {team}})
		v.Loads = append(v.Loads, row)
	}
	if len(reg.Code) >= 9 {
		archives, err := s.survey.Archives(ctx, a, rd, reg.Code)
		if err != nil {
			s.error(w, r, err)
			return
		}
		whole := map[string]string{}
		for _, l := range loads {
			for _, vc := range l.Villages {
				whole[vc] = l.Name
			}
		}
		for _, x := range archives {
			v.Villages = append(v.Villages, web.VillageOption{Code: x.VillageCode, Name: x.VillageName, Households: x.Households,
				Unassigned: x.Unassigned, Team: whole[x.VillageCode]})
		}
		if canAssign {
			v.AssignAction, v.RebalanceAction = roundURL(rd.ID, "assign-village", nil), roundURL(rd.ID, "rebalance", nil)
		}
	}
	s.render(w, r, web.RoundTeams(v))
}

func (s *Server) handleRoundAssign(w http.ResponseWriter, r *http.Request) {
	rd, reg, err := s.roundOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var ids []int64
	for _, v := range r.PostForm["household"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	team, _ := strconv.ParseInt(r.PostFormValue("team"), 10, 64)
	if err := s.survey.AssignHouseholds(r.Context(), currentActor(r), rd, reg.Code, ids, team); err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, roundURL(rd.ID, "households", url.Values{"region": {reg.Code}, "flash": {fmt.Sprintf("已分派 %d 户", len(ids))}}))
}

func (s *Server) handleRoundAssignVillage(w http.ResponseWriter, r *http.Request) {
	rd, reg, err := s.roundOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	village := strings.TrimSpace(r.PostFormValue("village"))
	team, _ := strconv.ParseInt(r.PostFormValue("team"), 10, 64)
	if !strings.HasPrefix(village, reg.Code) {
		s.error(w, r, apperr.NotFoundf("区划 %s 不存在", village))
		return
	}
	if err := s.survey.AssignVillage(r.Context(), currentActor(r), rd, village, team); err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, roundURL(rd.ID, "teams", url.Values{"region": {reg.Code}, "flash": {"已整村分派"}}))
}

func (s *Server) handleRoundRebalance(w http.ResponseWriter, r *http.Request) {
	rd, reg, err := s.roundOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	village := strings.TrimSpace(r.PostFormValue("village"))
	var teams []int64
	for _, v := range r.PostForm["team"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			teams = append(teams, id)
		}
	}
	if !strings.HasPrefix(village, reg.Code) {
		s.error(w, r, apperr.NotFoundf("区划 %s 不存在", village))
		return
	}
	if err := s.survey.Rebalance(r.Context(), currentActor(r), rd, village, teams); err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, roundURL(rd.ID, "teams", url.Values{"region": {reg.Code}, "flash": {"已均衡分派"}}))
}

func (s *Server) handleRoundArchive(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), currentActor(r)
	rd, reg, err := s.roundOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	rows, err := s.survey.Archives(ctx, a, rd, reg.Code)
	if err != nil {
		s.error(w, r, err)
		return
	}
	crumbs, err := s.roundCrumbs(ctx, a, rd, reg.Code, func(c string) string { return roundURL(rd.ID, "archive", inRegion(c)) })
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.SurveyArchiveView{Page: s.page(r, "归档 · "+reg.Name, "survey"), Round: roundRow(rd), Crumbs: crumbs, Region: reg.Code}
	canAssign := a.May(actor.SurveyAssign) // printing; archiving is management
	if manage, err := s.mayManageTeams(r); err != nil {
		s.error(w, r, err)
		return
	} else if manage {
		v.Action = roundURL(rd.ID, "archive", nil)
	}
	for _, x := range rows {
		row := web.ArchiveRow{Code: x.VillageCode, Name: x.VillageName, Households: x.Households, Persons: x.Persons,
			Boxes: x.Boxes, Note: x.Note, By: x.ArchivedName}
		if x.ArchivedAt != nil {
			row.At = x.ArchivedAt.In(cst).Format("2006-01-02 15:04")
		}
		if canAssign && len(x.VillageCode) == 12 {
			row.Print = roundURL(rd.ID, "print", url.Values{"village": {x.VillageCode}})
		}
		v.Rows = append(v.Rows, row)
	}
	s.render(w, r, web.SurveyArchive(v))
}

func (s *Server) handleRoundArchiveSave(w http.ResponseWriter, r *http.Request) {
	rd, reg, err := s.roundOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	village := strings.TrimSpace(r.PostFormValue("village"))
	boxes, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("boxes")))
	if err != nil {
		s.error(w, r, apperr.Invalidf("箱数应为整数"))
		return
	}
	if !strings.HasPrefix(village, reg.Code) {
		s.error(w, r, apperr.NotFoundf("区划 %s 不存在", village))
		return
	}
	if err := s.survey.SetArchive(r.Context(), currentActor(r), rd, village, boxes, r.PostFormValue("note")); err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, roundURL(rd.ID, "archive", url.Values{"region": {reg.Code}, "flash": {"归档已登记"}}))
}

// teamAccountsView is the account form of each member of team t.
func (s *Server) teamAccountsView(r *http.Request, t survey.Team) (web.TeamAccountsView, error) {
	v := web.TeamAccountsView{Action: "/survey/teams/" + strconv.FormatInt(t.ID, 10) + "/accounts"}
	users, err := s.survey.BindCandidates(r.Context(), currentActor(r), t.ID)
	if err != nil {
		return v, err
	}
	for _, u := range users {
		v.Users = append(v.Users, web.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.DisplayName + "（" + u.Username + "）"})
	}
	for i, m := range t.Members {
		row := web.TeamAccountRow{Member: m.Name, Index: i}
		if acc, ok := t.Account(m.Name); ok {
			row.UserID, row.Username, row.TeamOnly = acc.UserID, acc.Username, acc.TeamOnly
		}
		v.Rows = append(v.Rows, row)
	}
	return v, nil
}

// handleTeamAccount binds one member of a team to an account (or unbinds
// them) and switches 只看本组任务.
func (s *Server) handleTeamAccount(w http.ResponseWriter, r *http.Request) {
	t, err := s.teamOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	user, _ := strconv.ParseInt(r.PostFormValue("user"), 10, 64)
	b := survey.Binding{Member: r.PostFormValue("member"), UserID: user, TeamOnly: r.PostFormValue("team_only") == "1"}
	if err := s.survey.Bind(r.Context(), currentActor(r), t.ID, b); err != nil {
		if k := apperr.KindOf(err); k == apperr.Invalid || k == apperr.Conflict {
			f := survey.TeamForm{Township: t.RegionCode, Name: t.Name, Members: t.Members, Active: t.Active}
			v := web.TeamEditView{Page: s.page(r, "调查组 · "+t.RegionName+" "+t.Name, "survey"),
				Form: teamFormView(f, "/survey/teams/"+strconv.FormatInt(t.ID, 10), true)}
			if v.Accounts, err = s.teamAccountsView(r, t); err != nil {
				s.error(w, r, err)
				return
			}
			v.Accounts.Error = apperr.Message(err)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusBadRequest)
			s.render(w, r, web.TeamEdit(v))
			return
		}
		s.error(w, r, err)
		return
	}
	redirect(w, r, "/survey/teams/"+strconv.FormatInt(t.ID, 10)+"?flash="+url.QueryEscape("组员账号已保存"))
}
