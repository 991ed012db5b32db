package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/survey"
	"github.com/canbao/canbao/web"
)

// handleRoundPrint renders the 汇总表 and one 全民参保登记表 per target of
// a village (?village=) or a team (?team=), for the browser to print on A4.
// The forms carry whole ID numbers: the domain audits the print.
func (s *Server) handleRoundPrint(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), currentActor(r)
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	rd, err := s.survey.GetRound(ctx, a, id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	f := survey.PrintFilter{Village: strings.TrimSpace(r.URL.Query().Get("village"))}
	f.Team, _ = strconv.ParseInt(r.URL.Query().Get("team"), 10, 64)
	if f.Team == 0 && f.Village == "" {
		s.error(w, r, apperr.Invalidf("请选择要打印的村（居）或调查组"))
		return
	}
	set, err := s.survey.Print(ctx, a, rd, f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	back := roundURL(rd.ID, "teams", nil)
	if f.Village != "" {
		back = roundURL(rd.ID, "", url.Values{"region": {f.Village}})
	}
	s.render(w, r, web.SurveyPrint(printView(set, back)))
}

// printView lays a print set out: the summary in pages of
// web.SummaryRowsPerPage members, then a form per target.
func printView(set survey.PrintSet, back string) web.PrintView {
	v := web.PrintView{Title: set.Title, Round: fmt.Sprintf("调查批次 #%d %s", set.Round.ID, set.Round.Title),
		Date: survey.PrintDate(time.Now()), Back: back}
	var rows []web.PrintSummaryRow
	for _, h := range set.Households {
		hh := h.Household
		if hh == "" {
			hh = "（无户号）"
		}
		for _, m := range h.Members {
			rows = append(rows, web.PrintSummaryRow{Code: h.Code, Household: hh, Village: h.VillageName, Head: h.HeadName,
				Name: m.Name, MaskedID: maskID(m.IDNumber), Relation: m.Relation, Target: m.Target,
				Pension: m.Pension, Medical: m.Medical, Flags: m.Flags, Team: h.TeamName})
			if !m.Target {
				continue
			}
			form := web.PrintFormView{Code: h.Code, Village: h.VillageName, Household: hh, Team: h.TeamName, Name: m.Name,
				IDNumber: m.IDNumber, Sex: m.Sex, Ethnic: m.Ethnic, Birth: m.Birth, HukouAddress: m.HukouAddress,
				ResAddress: m.ResAddress, Head: h.HeadName, Relation: m.Relation, Employer: m.Employer,
				Pension: m.Pension, Medical: m.Medical, Flags: m.Flags}
			if form.HukouAddress == "" {
				form.HukouAddress = m.HukouRegionName
			}
			for _, sc := range m.Schemes {
				form.Schemes = append(form.Schemes, web.PrintSchemeLine{Name: sc.Name, Insured: sc.Insured, Where: sc.Where})
			}
			v.Forms = append(v.Forms, form)
		}
	}
	for len(rows) > 0 {
		n := min(len(rows), web.SummaryRowsPerPage)
		v.Summary = append(v.Summary, rows[:n])
		rows = rows[n:]
	}
	return v
}
