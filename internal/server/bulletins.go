package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/report"
	"github.com/canbao/canbao/web"
)

func (s *Server) handleBulletins(w http.ResponseWriter, r *http.Request) {
	s.renderBulletins(w, r, "")
}

func (s *Server) renderBulletins(w http.ResponseWriter, r *http.Request, msg string) {
	a := currentActor(r)
	list, err := s.reports().Bulletins(r.Context(), a)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.BulletinsView{Page: s.page(r, "工作通报", "reports"), CanEdit: a.May(actor.ReportEdit), Error: msg}
	for _, b := range list {
		row := web.BulletinRow{ID: strconv.FormatInt(b.ID, 10), Number: strconv.Itoa(b.Number), Region: b.RegionName,
			Title: b.Title, Issued: b.Issued, By: b.CreatedName, At: b.CreatedAt.In(cst).Format("2006-01-02 15:04")}
		if b.Issued && b.IssuedAt != nil {
			row.By, row.At = b.IssuedName, b.IssuedAt.In(cst).Format("2006-01-02 15:04")
		}
		v.Rows = append(v.Rows, row)
	}
	if v.CanEdit {
		if v.Regions, err = s.regionChoices(r.Context(), a.Region, a.RegionName); err != nil {
			s.error(w, r, err)
			return
		}
	}
	if msg != "" {
		w.WriteHeader(http.StatusBadRequest)
	}
	s.render(w, r, web.Bulletins(v))
}

func (s *Server) handleBulletinCreate(w http.ResponseWriter, r *http.Request) {
	region := strings.TrimSpace(r.PostFormValue("region"))
	id, err := s.reports().CreateBulletin(r.Context(), currentActor(r), region, r.PostFormValue("title"), r.PostFormValue("note"))
	if err != nil {
		if apperr.KindOf(err) == apperr.Invalid {
			s.renderBulletins(w, r, apperr.Message(err))
			return
		}
		s.error(w, r, err)
		return
	}
	redirect(w, r, "/reports/bulletins/"+strconv.FormatInt(id, 10))
}

// bulletin loads the bulletin the URL names.
func (s *Server) bulletin(r *http.Request) (report.Bulletin, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return report.Bulletin{}, apperr.NotFoundf("通报不存在")
	}
	return s.reports().GetBulletin(r.Context(), currentActor(r), id, time.Now().In(cst))
}

func (s *Server) handleBulletin(w http.ResponseWriter, r *http.Request) {
	b, err := s.bulletin(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	a := currentActor(r)
	t := report.BulletinTable(b)
	grid := tableView(t, nil)
	grid.Period = "数据截至 " + b.Data.Day
	v := web.BulletinView{Page: s.page(r, fmt.Sprintf("工作通报 第 %d 期", b.Number), "reports"), ID: strconv.FormatInt(b.ID, 10),
		Title: b.Title, Issued: b.Issued, CanIssue: !b.Issued && a.May(actor.ReportEdit), Grid: grid}
	if b.Issued && b.IssuedAt != nil {
		v.Meta = fmt.Sprintf("%s · 第 %d 期 · %s 印发（%s），数据截至 %s，已定稿。", b.RegionName, b.Number, b.IssuedAt.In(cst).Format("2006-01-02 15:04"), b.IssuedName, b.Data.Day)
	} else {
		v.Meta = fmt.Sprintf("%s · 第 %d 期 · 草稿：数据为今日实时数据，印发时定稿。", b.RegionName, b.Number)
	}
	for _, l := range b.Data.Lines {
		if l.Behind {
			v.Behind = append(v.Behind, l.Name)
		}
	}
	s.render(w, r, web.BulletinPage(v))
}

func (s *Server) handleBulletinXLSX(w http.ResponseWriter, r *http.Request) {
	b, err := s.bulletin(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.serveXLSX(w, r, fmt.Sprintf("工作通报_%s_第%d期.xlsx", b.RegionName, b.Number), report.BulletinTable(b))
}

func (s *Server) handleBulletinIssue(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.error(w, r, apperr.NotFoundf("通报不存在"))
		return
	}
	if err := s.reports().IssueBulletin(r.Context(), currentActor(r), id, time.Now().In(cst)); err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, "/reports/bulletins/"+strconv.FormatInt(id, 10)+"?"+url.Values{"flash": {"已印发，数据已定稿"}}.Encode())
}
