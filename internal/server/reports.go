package server

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/indicator"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/report"
	"github.com/canbao/canbao/web"
)

// The ministry's tables and the bulletins (issue 12).
func (s *Server) routesReports(r chi.Router) {
	read, edit := r.With(s.allow(actor.ReportRead)), r.With(s.allow(actor.ReportEdit))
	read.Get("/reports", s.handleReports)
	read.Get("/reports/list", s.handleReportList)
	read.Get("/reports/{table:[a-z0-9]+}", s.handleReportTable)
	read.Get("/reports/{table:[a-z0-9]+}/export.xlsx", s.handleReportXLSX)
	edit.Get("/reports/{table:[a-z0-9]+}/edit", s.handleReportEditForm)
	edit.Post("/reports/{table:[a-z0-9]+}/edit", s.handleReportEdit)
	read.Get("/reports/bulletins", s.handleBulletins)
	read.Get("/reports/bulletins/{id:[0-9]+}", s.handleBulletin)
	read.Get("/reports/bulletins/{id:[0-9]+}/export.xlsx", s.handleBulletinXLSX)
	edit.Post("/reports/bulletins/{id:[0-9]+}/issue", s.handleBulletinIssue)
	edit.Post("/reports/bulletins", s.handleBulletinCreate)
}

func (s *Server) reports() *report.Store { return s.reportStore }

// reportTables are the tables with pages; editable ones have hand-entered items.
var reportTables = map[string]bool{"progress": true, "basic1": true, "basic2": true}

func (s *Server) handleReports(w http.ResponseWriter, r *http.Request) {
	v := web.ReportIndexView{Page: s.page(r, "统计报表", "reports"), Links: []web.ReportLink{
		{Title: report.TableTitle("progress"), Href: "/reports/progress", TestID: "link-progress", Text: "按报告期：计算类指标与经办人员填报的组织工作情况"},
		{Title: report.TableTitle("basic1"), Href: "/reports/basic1", TestID: "link-basic1", Text: "按统计日期：户籍、登记入库、重复参保情况及逻辑校验"},
		{Title: report.TableTitle("basic2"), Href: "/reports/basic2", TestID: "link-basic2", Text: "按统计日期：参保险种组合与未参保原因"},
		{Title: "工作通报", Href: "/reports/bulletins", TestID: "link-bulletins", Text: "编号通报：进展、排名与进度落后区划，可打印、导出"},
	}}
	s.render(w, r, web.ReportIndex(v))
}

// reportParams are a table request's region (default: the viewer's) and
// its period (progress, YYYY-MM) or day (basic tables).
type reportParams struct {
	table, region, period string
	day                   time.Time
}

func parseReportParams(r *http.Request, table string) (reportParams, error) {
	a := currentActor(r)
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		q = r.PostForm
	}
	p := reportParams{table: table, region: strings.TrimSpace(q.Get("region"))}
	if p.region == "" {
		p.region = a.Region
	}
	now := time.Now().In(cst)
	var err error
	if table == "progress" || r.Method == http.MethodPost || strings.HasSuffix(r.URL.Path, "/edit") {
		if p.period, err = report.ParsePeriod(q.Get("period"), now); err != nil {
			return p, err
		}
		p.day, err = report.PeriodEnd(p.period, now)
		return p, err
	}
	p.day = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if d := strings.TrimSpace(q.Get("date")); d != "" {
		if p.day, err = time.Parse("2006-01-02", d); err != nil || p.day.Year() < 2000 || p.day.Year() > 2100 {
			return p, apperr.Invalidf("统计日期格式应为 年-月-日（如 2017-06-30）")
		}
	}
	p.period = p.day.Format("2006-01")
	return p, nil
}

// query is the request's parameters for links to another view of it.
func (p reportParams) query(region string) string {
	v := url.Values{"region": {region}}
	if p.table == "progress" {
		v.Set("period", p.period)
	} else {
		v.Set("date", p.day.Format("2006-01-02"))
	}
	return v.Encode()
}

// buildReport builds the table a request names.
func (s *Server) buildReport(r *http.Request) (report.Table, reportParams, error) {
	table := chi.URLParam(r, "table")
	if !reportTables[table] {
		return report.Table{}, reportParams{}, apperr.NotFoundf("报表不存在")
	}
	p, err := parseReportParams(r, table)
	if err != nil {
		return report.Table{}, p, err
	}
	a := currentActor(r)
	var t report.Table
	if table == "progress" {
		t, err = s.reports().Progress(r.Context(), a, p.region, p.period, time.Now().In(cst))
	} else {
		t, err = s.reports().Basic(r.Context(), a, table, p.region, p.day)
	}
	return t, p, err
}

func (s *Server) handleReportTable(w http.ResponseWriter, r *http.Request) {
	t, p, err := s.buildReport(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	a := currentActor(r)
	v := tableView(t, func(code string) string { return "/reports/" + p.table + "?" + p.query(code) })
	if t.Key == "progress" {
		rateLinks(t, &v)
	}
	v.Page = s.page(r, t.Title, "reports")
	v.Form = web.ReportForm{Action: "/reports/" + p.table, Region: t.RegionCode, DateName: "date", DateValue: p.day.Format("2006-01-02")}
	if p.table == "progress" {
		v.Form.DateName, v.Form.DateValue = "period", p.period
	}
	if v.Form.Regions, err = s.reportRegions(r.Context(), a, t.RegionCode, t.RegionName); err != nil {
		s.error(w, r, err)
		return
	}
	if v.Crumbs, err = s.regionCrumbs(r.Context(), a, t.RegionCode, func(code string) string { return "/reports/" + p.table + "?" + p.query(code) }); err != nil {
		s.error(w, r, err)
		return
	}
	v.XLSX = "/reports/" + p.table + "/export.xlsx?" + p.query(t.RegionCode)
	if t.Preparing != 0 {
		if v.Preparing, err = s.preparingView(r.Context(), a, t.Preparing); err != nil {
			s.error(w, r, err)
			return
		}
		v.XLSX = ""
	}
	if a.May(actor.ReportEdit) && len(report.Manual(p.table)) > 0 {
		v.Edit = "/reports/" + p.table + "/edit?" + url.Values{"region": {t.RegionCode}, "period": {p.period}}.Encode()
	}
	s.render(w, r, web.ReportTable(v))
}

// reportRegions are the regions the picker offers: the viewer's own, the
// one shown and those directly below it.
func (s *Server) reportRegions(ctx context.Context, a actor.Actor, code, name string) ([]web.Option, error) {
	out, err := s.regionChoices(ctx, code, name)
	if err != nil {
		return nil, err
	}
	if code != a.Region {
		out = append([]web.Option{{Value: a.Region, Label: a.RegionName + "（本人区划）"}}, out...)
	}
	return out, nil
}

// tableView turns a table into its page's view; rows of child regions link
// to their own table (drill-down).
func tableView(t report.Table, drill func(code string) string) web.ReportTableView {
	v := web.ReportTableView{Key: t.Key, RegionName: t.RegionName, RegionCode: t.RegionCode, Unit: t.Unit,
		HasChecks: t.HasChecks, Basis: t.Basis, Notes: t.Notes, Period: "报告期：" + t.Period}
	if t.Key != "progress" && t.Key != "bulletin" {
		v.Period = "统计期：" + t.Period
	}
	v.Head = make([][]web.ReportHeadCell, t.Levels())
	for _, h := range t.Header() {
		v.Head[h.Row] = append(v.Head[h.Row], web.ReportHeadCell{Text: h.Text, RowSpan: h.RowSpan, ColSpan: h.ColSpan})
	}
	for _, c := range t.Columns {
		v.Numbers = append(v.Numbers, strconv.Itoa(c.No))
	}
	for _, r := range t.Rows {
		row := web.ReportRow{Name: r.Name, Total: r.Total, Rest: r.Rest}
		if !r.Total && !r.Rest && drill != nil {
			row.Link = drill(r.Code)
		}
		for i, c := range t.Columns {
			cell := r.Cells[i]
			wc := web.ReportCell{Text: cell.Show(c.Kind), Link: cell.Link}
			if c.Kind == report.Rate && cell.Known {
				wc.Title = fmt.Sprintf("%d / %d", cell.Num, cell.Den)
			}
			switch {
			case !cell.Known || (c.Kind == report.Rate && cell.Den == 0):
				wc.Class = "nodata"
			case c.Kind == report.Count || c.Kind == report.Number || c.Kind == report.Rate:
				wc.Class = "num"
			}
			row.Cells = append(row.Cells, wc)
		}
		for _, ch := range r.Checks {
			wc := web.ReportCheck{Rule: ch.Rule, Detail: ch.Detail, State: "通过", Class: "ok"}
			switch {
			case !ch.Known:
				wc.State, wc.Class = "未校验（缺数据）", "unk"
			case !ch.Passed:
				wc.State, wc.Class = "不通过", "bad"
			}
			row.Checks = append(row.Checks, wc)
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// rateLinks links each computed rate of the progress table to the list of
// its numerator's persons (the dashboard's lists, as of the rates' day).
func rateLinks(t report.Table, v *web.ReportTableView) {
	for i, r := range t.Rows {
		for j, c := range t.Columns {
			ind, ok := indicator.ByKey(c.Key)
			if c.Kind != report.Rate || !ok || !r.Cells[j].Known || r.Rest {
				continue
			}
			v.Rows[i].Cells[j].Link = personsURL(r.Code, ind.Num, t.RatesDay, "", "")
		}
	}
}

// preparingView starts (or finds) the job that prepares run's report rows
// and shows its progress; the viewer polls it when the job is in their
// region.
func (s *Server) preparingView(ctx context.Context, a actor.Actor, runID int64) (*web.ReportPreparing, error) {
	j, err := s.prepareReports(ctx, runID)
	if err != nil {
		return nil, err
	}
	st := statusOf(j, time.Now())
	v := &web.ReportPreparing{Label: st.Label, Percent: st.Percent, Message: st.Message, Elapsed: st.Elapsed, Error: st.Error}
	if a.Sees(j.Region) && a.May(actor.JobRead) {
		v.Status = jobURL(j.ID) + "/status"
	}
	return v, nil
}

func (s *Server) handleReportXLSX(w http.ResponseWriter, r *http.Request) {
	t, p, err := s.buildReport(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if t.Preparing != 0 {
		if _, err := s.prepareReports(r.Context(), t.Preparing); err != nil {
			s.error(w, r, err)
			return
		}
		s.error(w, r, apperr.Conflictf("正在准备报表数据（比对批次 #%d），暂不能导出，请在报表页面显示数字后再导出", t.Preparing))
		return
	}
	name := fmt.Sprintf("%s_%s_%s.xlsx", t.Title, t.RegionName, p.period)
	if p.table != "progress" {
		name = fmt.Sprintf("%s_%s_%s.xlsx", t.Title, t.RegionName, p.day.Format("2006-01-02"))
	}
	s.serveXLSX(w, r, name, t)
}

// serveXLSX writes a table's workbook (a few hundred cells: built in
// memory) as a download.
func (s *Server) serveXLSX(w http.ResponseWriter, r *http.Request, name string, t report.Table) {
	var buf bytes.Buffer
	if err := report.WriteXLSX(t, &buf); err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = w.Write(buf.Bytes()) // a client gone mid-download is not an error of ours
}

func (s *Server) handleReportEditForm(w http.ResponseWriter, r *http.Request) {
	s.renderReportEdit(w, r, nil, "")
}

// renderReportEdit shows the entry form; typed holds what the user typed
// when a save was refused, so nothing is lost.
func (s *Server) renderReportEdit(w http.ResponseWriter, r *http.Request, typed map[string]string, msg string) {
	table := chi.URLParam(r, "table")
	if len(report.Manual(table)) == 0 || !reportTables[table] {
		s.error(w, r, apperr.NotFoundf("该报表没有填报项"))
		return
	}
	p, err := parseReportParams(r, table)
	if err != nil {
		s.error(w, r, err)
		return
	}
	a := currentActor(r)
	reg, err := s.regions.Get(r.Context(), a, p.region)
	if err != nil {
		s.error(w, r, err)
		return
	}
	st := s.reports()
	values, err := st.Entries(r.Context(), a, reg.Code, p.period)
	if err != nil {
		s.error(w, r, err)
		return
	}
	history, err := st.History(r.Context(), a, table, reg.Code, p.period)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.ReportEditView{Page: s.page(r, report.TableTitle(table)+" · 填报", "reports"), Table: table,
		RegionName: reg.Name, RegionCode: reg.Code, Period: p.period, Error: msg,
		Back: "/reports/" + table + "?" + url.Values{"region": {reg.Code}, "period": {p.period}}.Encode()}
	if table != "progress" {
		v.Back = "/reports/" + table + "?" + url.Values{"region": {reg.Code}, "date": {p.day.Format("2006-01-02")}}.Encode()
	}
	if v.Regions, err = s.reportRegions(r.Context(), a, reg.Code, reg.Name); err != nil {
		s.error(w, r, err)
		return
	}
	kinds := map[report.Kind]string{report.YesNo: "yesno", report.Number: "number", report.Text: "text"}
	for _, c := range report.Manual(table) {
		val := values[c.Key]
		if typed != nil {
			val = typed[c.Key]
		}
		v.Fields = append(v.Fields, web.ReportField{Key: c.Key, No: c.No, Label: c.Label, Kind: kinds[c.Kind], Value: val})
	}
	for _, h := range history {
		v.History = append(v.History, web.ReportChange{At: h.At.In(cst).Format("2006-01-02 15:04:05"), By: h.By,
			Item: fmt.Sprintf("第 %d 栏 %s", h.No, h.Label), Old: orNone(h.Old), New: orNone(h.New)})
	}
	if msg != "" {
		w.WriteHeader(http.StatusBadRequest)
	}
	s.render(w, r, web.ReportEdit(v))
}

func orNone(s string) string {
	if s == "" {
		return "（未填）"
	}
	return s
}

func (s *Server) handleReportEdit(w http.ResponseWriter, r *http.Request) {
	table := chi.URLParam(r, "table")
	if err := r.ParseForm(); err != nil {
		s.error(w, r, apperr.Invalidf("表单无法读取"))
		return
	}
	if len(report.Manual(table)) == 0 || !reportTables[table] {
		s.error(w, r, apperr.NotFoundf("该报表没有填报项"))
		return
	}
	p, err := parseReportParams(r, table)
	if err != nil {
		s.error(w, r, err)
		return
	}
	values := map[string]string{}
	for _, c := range report.Manual(table) {
		if _, ok := r.PostForm[c.Key]; ok {
			values[c.Key] = r.PostForm.Get(c.Key)
		}
	}
	n, err := s.reports().Save(r.Context(), currentActor(r), table, p.region, p.period, values)
	if err != nil {
		if apperr.KindOf(err) == apperr.Invalid {
			s.renderReportEdit(w, r, values, apperr.Message(err))
			return
		}
		s.error(w, r, err)
		return
	}
	back := url.Values{"region": {p.region}, "period": {p.period}, "flash": {fmt.Sprintf("已保存，修改 %d 项", n)}}
	redirect(w, r, "/reports/"+table+"/edit?"+back.Encode())
}

var reportListSpec = list.Spec{Size: 50, MaxSize: 200, Filters: []string{"col", "region", "date"}}

func (s *Server) handleReportList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, err := parseReportParams(r, "basic1")
	if err != nil {
		s.error(w, r, err)
		return
	}
	lq := list.Parse(q, reportListSpec)
	lq.Filters.Set("region", p.region)
	lq.Filters.Set("date", p.day.Format("2006-01-02"))
	s.listAfter(r, &lq, 2)
	col := q.Get("col")
	page, label, err := s.reports().Persons(r.Context(), currentActor(r), col, p.region, p.day, lq)
	if err != nil {
		s.error(w, r, err)
		return
	}
	reg, err := s.region(r.Context(), currentActor(r), p.region)
	if err != nil {
		s.error(w, r, err)
		return
	}
	table := "basic1"
	if strings.HasPrefix(col, "b2.") {
		table = "basic2"
	}
	v := web.ReportListView{Page: s.page(r, label+" · "+reg.Name, "reports"), Total: page.Total,
		Caption: fmt.Sprintf("%s（%s 第 %s 栏，截至 %s）", label, report.TableTitle(table), strings.SplitN(col, ".", 2)[1], p.day.Format("2006-01-02")),
		Pager:   web.PagerOf(page.Query, page.Total, "/reports/list"),
		Back:    "/reports/" + table + "?" + url.Values{"region": {reg.Code}, "date": {p.day.Format("2006-01-02")}}.Encode()}
	if n := len(page.Items); n == lq.Size { // the survey lists ignore it and skip rows
		v.Pager.Cursor = s.listCursor(lq, page.Items[n-1].RegionCode, page.Items[n-1].IDNumber)
	}
	for _, it := range page.Items {
		v.Persons = append(v.Persons, web.ReportPerson{ID: idcard.Mask(it.IDNumber), Name: it.Name, Region: it.RegionCode})
	}
	s.render(w, r, web.ReportList(v))
}
