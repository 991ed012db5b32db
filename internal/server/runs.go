package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/region"
	"github.com/canbao/canbao/internal/sheet"
	"github.com/canbao/canbao/web"
)

func (s *Server) routesCompare(r chi.Router) {
	read, export := r.With(s.allow(actor.CompareRead)), r.With(s.allow(actor.Export))
	read.Get("/compare", s.handleCompare)
	r.With(s.allow(actor.Compare)).Post("/compare", s.handleCompareStart)
	const run = "/compare/runs/{id:[0-9]+}"
	read.Get(run, s.handleRunSummary)
	read.Get(run+"/list", s.handleRunList)
	export.Get(run+"/export.xlsx", s.handleRunExport(".xlsx", false))
	export.Get(run+"/export.csv", s.handleRunExport(".csv", false))
	export.Get(run+"/unmatched.xlsx", s.handleRunExport(".xlsx", true))
	read.Get(run+"/diff", s.handleRunDiff)
}

func (s *Server) handleCompare(w http.ResponseWriter, r *http.Request) {
	s.renderCompare(w, r, web.CompareForm{AsOf: time.Now().In(cst).Format("2006-01-02")})
}

func (s *Server) renderCompare(w http.ResponseWriter, r *http.Request, form web.CompareForm) {
	me, _ := currentUser(r)
	a := currentActor(r)
	runs, err := s.compare.Runs(r.Context(), a, list.Parse(r.URL.Query(), list.Spec{}))
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.CompareView{Page: s.page(r, "数据比对", "compare"), Pager: web.PagerOf(runs.Query, runs.Total, "/compare"),
		CanStart: a.May(actor.Compare), Form: form}
	for _, run := range runs.Items {
		v.Runs = append(v.Runs, runRow(run))
	}
	if v.CanStart {
		if v.Regions, err = s.regionChoices(r.Context(), me.RegionCode, me.RegionName); err != nil {
			s.error(w, r, err)
			return
		}
	}
	if form.Error != "" {
		w.WriteHeader(http.StatusBadRequest)
	}
	s.render(w, r, web.Compare(v))
}

func runRow(c compare.Run) web.RunRow {
	name := c.RegionName
	if name == "" {
		name = c.RegionCode
	}
	return web.RunRow{ID: c.ID, Region: name, RegionCode: c.RegionCode, AsOf: c.AsOf.Format("2006-01-02"),
		Status: c.Status, Done: c.Status == "done", Error: c.Error, By: c.CreatedName,
		At: c.StartedAt.In(cst).Format("2006-01-02 15:04"), Duration: fmt.Sprintf("%.1f 秒", float64(c.DurationMS)/1000),
		Records: c.Records, Linked: c.Linked, Review: c.Review, Unmatched: c.Unmatched, Persons: c.Persons,
		Incremental: c.Mode == "incremental", ModeNote: c.ModeNote}
}

// handleCompareStart runs a comparison as a job; the browser follows its
// progress. A second start for the same region waits for the first
// inside the engine.
func (s *Server) handleCompareStart(w http.ResponseWriter, r *http.Request) {
	form := web.CompareForm{Region: strings.TrimSpace(r.PostFormValue("region")), AsOf: strings.TrimSpace(r.PostFormValue("as_of"))}
	reg, err := s.regions.Get(r.Context(), currentActor(r), form.Region)
	if err != nil {
		if apperr.KindOf(err) != apperr.NotFound {
			s.error(w, r, err)
			return
		}
		form.Error = "只能比对本人管辖区划内的数据，请选择区划"
		s.renderCompare(w, r, form)
		return
	}
	a, req := currentActor(r), compare.Request{Region: reg.Code, Incremental: r.PostFormValue("mode") == "incremental"}
	title := reg.Name + "，增量比对，沿用上次比对的基准日"
	if !req.Incremental { // an incremental run keeps its base's as-of date
		day, err := time.Parse("2006-01-02", form.AsOf)
		if err != nil || day.Year() < 1990 || day.Year() > 2100 {
			form.Error = "请填写比对基准日（如 2017-06-30）"
			s.renderCompare(w, r, form)
			return
		}
		req.AsOf, title = day, reg.Name+"，基准日 "+form.AsOf
	}
	id, err := s.jobs.Submit(r.Context(), s.thenPrepareReports(s.compare.Job(a, req, title, nil)))
	if err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, jobURL(id))
}

// runURL links to a run's summary, for region when given.
func runURL(id int64, regionCode string) string {
	u := "/compare/runs/" + strconv.FormatInt(id, 10)
	if regionCode != "" {
		u += "?" + url.Values{"region": {regionCode}}.Encode()
	}
	return u
}

// runPath is a page below a run, with its query.
func runPath(id int64, sub string, q url.Values) string {
	u := "/compare/runs/" + strconv.FormatInt(id, 10) + "/" + sub
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

func listURL(id int64, regionCode, metric string) string {
	return runPath(id, "list", url.Values{"region": {regionCode}, "metric": {metric}})
}

// runOf loads the run named in the URL; runs outside the viewer's reach and
// runs that failed have no pages.
func (s *Server) runOf(r *http.Request) (compare.Run, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return compare.Run{}, apperr.NotFoundf("比对批次不存在")
	}
	run, err := s.compare.GetRun(r.Context(), currentActor(r), id)
	if err != nil {
		return compare.Run{}, err
	}
	if run.Status != "done" {
		return compare.Run{}, apperr.NotFoundf("比对批次 #%d 运行失败，没有结果：%s", id, run.Error)
	}
	return run, nil
}

// runRegion picks the region a run page shows: the region parameter, which
// must lie inside both the viewer's region and the run's; by default the
// viewer's region when the run covers it, else the run's region.
func (s *Server) runRegion(r *http.Request, run compare.Run) (region.Region, error) {
	a := currentActor(r)
	code := strings.TrimSpace(r.URL.Query().Get("region"))
	if code == "" {
		code = a.Region
		if !region.Within(run.RegionCode, code) {
			code = run.RegionCode
		}
	}
	if !region.Within(run.RegionCode, code) || !a.Sees(code) {
		return region.Region{}, apperr.NotFoundf("区划 %s 不在本次比对或本人管辖范围内", code)
	}
	return s.region(r.Context(), a, code)
}

// runAndRegion is runOf and runRegion together, as most run pages need.
func (s *Server) runAndRegion(r *http.Request) (compare.Run, region.Region, error) {
	run, err := s.runOf(r)
	if err != nil {
		return run, region.Region{}, err
	}
	reg, err := s.runRegion(r, run)
	return run, reg, err
}

// runCrumbs is the region path of a run page; regions the viewer may open
// in this run link to link(code).
func (s *Server) runCrumbs(ctx context.Context, a actor.Actor, run compare.Run, code string, link func(string) string) ([]web.Crumb, error) {
	path, err := s.regionPath(ctx, code)
	if err != nil {
		return nil, err
	}
	var out []web.Crumb
	for _, p := range path {
		c := web.Crumb{Name: p.Name}
		if p.Code != code && a.Sees(p.Code) && region.Within(run.RegionCode, p.Code) {
			c.Link = link(p.Code)
		}
		out = append(out, c)
	}
	return out, nil
}

// summaryColumn is a metric of the summary table with a short heading.
type summaryColumn struct{ key, label, title string }

// shortLabels keep the summary table narrow; the full name is the title.
var shortLabels = map[string]string{
	"养老缴费中断":     "养老中断",
	"养老应参未参":     "养老未参",
	"医疗应参未参":     "医疗未参",
	"跨制度重复参保-养老": "重复参保(养老)",
	"跨制度重复参保-医疗": "重复参保(医疗)",
	"制度内跨地区重复参保": "跨地区重复",
	"非本地户籍参保":    "非本地户籍",
	"入户调查对象":     "入户调查",
	"待审核记录":      "待审核",
	"未匹配记录":      "未匹配",
}

func summaryColumns() []summaryColumn {
	var out []summaryColumn
	add := func(key, label string) {
		short := label
		if s, ok := shortLabels[label]; ok {
			short = s
		}
		out = append(out, summaryColumn{key, short, label})
	}
	for _, m := range compare.Metrics {
		add(m.Key, m.Label)
	}
	for _, k := range []string{compare.MetricReview, compare.MetricUnmatched} {
		add(k, compare.RecordMetricLabel(k))
	}
	return out
}

// metricLabel names a person or record metric; ok is false for neither.
func metricLabel(key string) (string, bool) {
	if key == compare.MetricReview || key == compare.MetricUnmatched {
		return compare.RecordMetricLabel(key), true
	}
	m, ok := compare.MetricByKey(key)
	return m.Label, ok
}

// summaryCards are the headline numbers above the table.
var summaryCards = []string{"persons", "universe", "pension_not", "medical_not", "survey", compare.MetricReview, compare.MetricUnmatched}

func (s *Server) handleRunSummary(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	run, reg, err := s.runAndRegion(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	a := currentActor(r)
	// The scope check runs on every request, cached or not.
	if err := a.CheckIn(actor.CompareRead, reg.Code, "区划 "+reg.Code); err != nil {
		s.error(w, r, err)
		return
	}
	data, err := s.runSummary(r, run, reg)
	if err != nil {
		s.error(w, r, err)
		return
	}
	crumbs, err := s.runCrumbs(ctx, currentActor(r), run, reg.Code, func(code string) string { return runURL(run.ID, code) })
	if err != nil {
		s.error(w, r, err)
		return
	}
	cols := summaryColumns()
	v := web.RunSummaryView{Page: s.page(r, fmt.Sprintf("比对结果 #%d · %s", run.ID, reg.Name), "compare"),
		Run: runRow(run), RegionCode: reg.Code, RegionName: reg.Name, Crumbs: crumbs,
		ExportXLSX:      runPath(run.ID, "export.xlsx", url.Values{"region": {reg.Code}}),
		ExportCSV:       runPath(run.ID, "export.csv", url.Values{"region": {reg.Code}}),
		ExportUnmatched: runPath(run.ID, "unmatched.xlsx", url.Values{"region": {reg.Code}}),
		ReviewLink:      runPath(run.ID, "review", url.Values{"region": {reg.Code}}),
		ReviewCount:     data.counts[compare.MetricReview]}
	if !currentActor(r).May(actor.Export) {
		v.ExportXLSX, v.ExportCSV, v.ExportUnmatched = "", "", ""
	}
	for _, c := range cols {
		v.Columns = append(v.Columns, web.Column{Key: c.key, Label: c.label, Title: c.title})
	}
	for _, k := range summaryCards {
		label, _ := metricLabel(k)
		v.Cards = append(v.Cards, web.Card{Label: label, Cell: web.Cell{N: data.counts[k], Link: listURL(run.ID, reg.Code, k), ID: "card-" + k}})
	}
	v.Lines, v.Rows, v.Total = data.lines, data.rows, data.total
	if prev := data.prev; data.hasPrev && region.Within(prev.RegionCode, reg.Code) {
		v.DiffLink = runPath(run.ID, "diff", url.Values{"base": {strconv.FormatInt(prev.ID, 10)}, "region": {reg.Code}})
	}
	// The table of a finished run never changes; the rest of the page is
	// the viewer's (nav, CSRF token, links), so the tag covers all of it.
	u, _ := currentUser(r)
	if notModified(w, r, "summary", run.ID, reg.Code, u.ID, v.Page, v.DiffLink, v.ExportXLSX) {
		return
	}
	s.render(w, r, web.RunSummary(v))
}

// runSummary is a region's summary in a run: its numbers and table lines,
// from the cache when the run is finished and the region was shown before.
// The caller has checked the viewer may see the region.
func (s *Server) runSummary(r *http.Request, run compare.Run, reg region.Region) (*summaryData, error) {
	done := run.Status == "done"
	if d, ok := s.summaries.get(run.ID, reg.Code); ok && done {
		return d, nil
	}
	ctx := r.Context()
	total, children, err := s.compare.Summary(ctx, currentActor(r), run.ID, reg.Code)
	if err != nil {
		return nil, err
	}
	kids, err := s.regions.Children(ctx, reg.Code)
	if err != nil {
		return nil, err
	}
	cols := summaryColumns()
	d := &summaryData{counts: total.Counts}
	// The viewer sees the previous run: it is of the same region as run.
	if d.prev, d.hasPrev, err = s.previousRun(ctx, currentActor(r), run); err != nil {
		return nil, err
	}
	// Every child region gets a row, with zeros where nobody lives, and
	// the rest line when the children do not add up.
	got := make([]region.Line, len(children))
	for i, c := range children {
		got[i] = region.Line{Code: c.Code, Name: c.Name, Counts: c.Counts}
	}
	below := make([]region.Region, len(kids))
	for i, k := range kids {
		below[i] = k.Region
	}
	for _, l := range region.Split(reg, below, got, total.Counts).Lines {
		if !l.Rest {
			d.lines = append(d.lines, web.SummaryLine{Name: l.Name, Code: l.Code, Link: runURL(run.ID, l.Code), Cells: summaryCells(run.ID, l.Code, cols, l.Counts)})
			continue
		}
		rest := web.SummaryLine{Name: l.Name, Code: "rest", Rest: true}
		shown := false // the rest may differ only in a metric the table does not show
		for _, c := range cols {
			rest.Cells = append(rest.Cells, web.Cell{N: l.Counts[c.key]})
			shown = shown || l.Counts[c.key] != 0
		}
		if shown {
			d.lines = append(d.lines, rest)
		}
	}
	d.total = web.SummaryLine{Name: "合计", Code: reg.Code, Total: true, Cells: summaryCells(run.ID, reg.Code, cols, total.Counts)}
	if done {
		var b strings.Builder
		if err := web.SummaryLines(d.lines).Render(ctx, &b); err != nil {
			return nil, err
		}
		d.rows = templ.Raw(b.String())
		s.summaries.put(run.ID, reg.Code, d)
	}
	return d, nil
}

func summaryCells(runID int64, code string, cols []summaryColumn, counts map[string]int) []web.Cell {
	out := make([]web.Cell, len(cols))
	for i, c := range cols {
		out[i] = web.Cell{N: counts[c.key], Link: listURL(runID, code, c.key), ID: "n-" + code + "-" + c.key}
	}
	return out
}

// previousRun finds the newest successful run of the same region before
// run. The engine has no query for it, so this pages through the runs the
// actor sees (newest first), which are few; they include run's region's.
func (s *Server) previousRun(ctx context.Context, a actor.Actor, run compare.Run) (compare.Run, bool, error) {
	for q := (list.Query{Page: 1, Size: 100}); q.Page <= 50; q.Page++ {
		runs, err := s.compare.Runs(ctx, a, q)
		if err != nil {
			return compare.Run{}, false, err
		}
		for _, c := range runs.Items {
			if c.ID < run.ID && c.RegionCode == run.RegionCode && c.Status == "done" {
				return c, true, nil
			}
		}
		if q.Page >= runs.Pages() {
			break
		}
	}
	return compare.Run{}, false, nil
}

// runListSpec is the paging of a run's person and record lists; page
// links keep the region, the metric and the search.
var runListSpec = list.Spec{Filters: []string{"region", "metric", "q"}}

// searchQuery trims a name-or-ID search and upper-cases an ID's x.
func searchQuery(r *http.Request) string {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q != "" && q[0] >= '0' && q[0] <= '9' {
		q = strings.ToUpper(q)
	}
	return q
}

func (s *Server) handleRunList(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	run, reg, err := s.runAndRegion(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	metric := r.URL.Query().Get("metric")
	label, ok := metricLabel(metric)
	if !ok {
		s.error(w, r, apperr.NotFoundf("没有这项统计：%s", metric))
		return
	}
	q := searchQuery(r)
	path := runPath(run.ID, "list", nil)
	lq := list.Parse(r.URL.Query(), runListSpec)
	lq.Filters.Set("region", reg.Code) // the default region, named in page links
	s.listAfter(r, &lq, 2)
	crumbs, err := s.runCrumbs(ctx, currentActor(r), run, reg.Code, func(code string) string { return listURL(run.ID, code, metric) })
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.RunListView{Page: s.page(r, fmt.Sprintf("%s · %s（比对批次 #%d）", label, reg.Name, run.ID), "compare"), RunID: run.ID, Path: path,
		RegionCode: reg.Code, Metric: metric, Query: q, Crumbs: crumbs, Back: runURL(run.ID, reg.Code)}
	if metric == compare.MetricReview || metric == compare.MetricUnmatched {
		page, err := s.compare.Records(ctx, currentActor(r), run.ID, reg.Code, metric == compare.MetricReview, q, lq)
		if err != nil {
			s.error(w, r, err)
			return
		}
		v.Pager, v.IsRecords = web.PagerOf(page.Query, page.Total, path), true
		v.Records = recordLines(run.ID, reg.Code, page.Items, metric == compare.MetricReview)
	} else {
		m, _ := compare.MetricByKey(metric)
		page, err := s.compare.Persons(ctx, currentActor(r), run.ID, reg.Code, m, q, lq)
		if err != nil {
			s.error(w, r, err)
			return
		}
		v.Pager = web.PagerOf(page.Query, page.Total, path)
		if n := len(page.Items); n == lq.Size {
			v.Pager.Cursor = s.listCursor(lq, page.Items[n-1].RegionCode, page.Items[n-1].IDNumber)
		}
		codes := make([]string, len(page.Items))
		for i, p := range page.Items {
			codes[i] = p.RegionCode
		}
		names, err := s.regionNames(ctx, codes)
		if err != nil {
			s.error(w, r, err)
			return
		}
		for _, p := range page.Items {
			v.Persons = append(v.Persons, web.PersonLine{Link: s.personLink(r, p.IDNumber), MaskedID: maskID(p.IDNumber), Name: p.Name,
				Region: nameOr(names, p.RegionCode), Universe: p.Universe, Survey: p.Survey, Pension: p.Pension, Medical: p.Medical,
				Flags: flagList(p.Flags)})
		}
	}
	s.render(w, r, web.RunList(v))
}

func nameOr(names map[string]string, code string) string {
	if n, ok := names[code]; ok {
		return n
	}
	return code
}

func flagList(bits int) []string {
	if bits == 0 {
		return nil
	}
	return strings.Split(compare.FlagNames(bits), "、")
}

func recordLines(runID int64, regionCode string, list []compare.RecordRow, review bool) []web.RecordLine {
	out := make([]web.RecordLine, 0, len(list))
	for _, rec := range list {
		l := web.RecordLine{FileName: rec.FileName, Line: rec.Line, Kind: rec.Kind, MaskedID: maskID(rec.IDNorm), Name: rec.Name,
			Damage: damageText(rec.Damage), Reason: rec.Reason}
		if review {
			l.Link = reviewItemURL(runID, rec.BatchID, rec.Line, regionCode)
		}
		out = append(out, l)
	}
	return out
}

// damageText explains an ID damage code; "" for a valid ID.
func damageText(code string) string {
	if d, ok := idcard.ParseDamageCode(code); ok && d != idcard.OK {
		return d.String()
	}
	return ""
}

func (s *Server) handleRunExport(ext string, unmatched bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		run, reg, err := s.runAndRegion(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		what, export := "比对结果", s.compare.Export
		if unmatched {
			what, export = "未匹配记录", s.compare.ExportUnmatched
		}
		name := fmt.Sprintf("%s_%s_比对批次%d%s", what, reg.Name, run.ID, ext)
		// The export writes its audit line before the file is sent: a
		// download that fails half-way has still left the server.
		s.serveSheet(w, r, name, func(sw sheet.Writer) error {
			_, err := export(r.Context(), currentActor(r), run.ID, reg.Code, sw)
			return err
		})
	}
}

func (s *Server) handleRunDiff(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	run, reg, err := s.runAndRegion(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var base compare.Run
	if id, err := strconv.ParseInt(r.URL.Query().Get("base"), 10, 64); err == nil {
		if base, err = s.compare.GetRun(ctx, currentActor(r), id); err != nil {
			s.error(w, r, err)
			return
		}
	} else {
		prev, ok, err := s.previousRun(ctx, currentActor(r), run)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if !ok {
			s.error(w, r, apperr.NotFoundf("该区划没有更早的比对可供对比"))
			return
		}
		base = prev
	}
	if base.Status != "done" || base.ID == run.ID || !region.Within(base.RegionCode, reg.Code) {
		s.error(w, r, apperr.NotFoundf("比对批次 #%d 不能与本次比对对比", base.ID))
		return
	}
	lq := list.Parse(r.URL.Query(), list.Spec{})
	lq.Filters = url.Values{"base": {strconv.FormatInt(base.ID, 10)}, "region": {reg.Code}}
	diff, err := s.compare.Diff(ctx, currentActor(r), base.ID, run.ID, reg.Code, lq)
	if err != nil {
		s.error(w, r, err)
		return
	}
	crumbs, err := s.runCrumbs(ctx, currentActor(r), run, reg.Code, func(code string) string {
		if !region.Within(base.RegionCode, code) {
			return ""
		}
		return runPath(run.ID, "diff", url.Values{"base": {strconv.FormatInt(base.ID, 10)}, "region": {code}})
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.RunDiffView{Page: s.page(r, fmt.Sprintf("比对结果变化 · %s", reg.Name), "compare"), Crumbs: crumbs,
		BaseID: base.ID, RunID: run.ID, BaseAsOf: base.AsOf.Format("2006-01-02"), AsOf: run.AsOf.Format("2006-01-02"),
		Pager: web.PagerOf(diff.Query, diff.Total, runPath(run.ID, "diff", nil)), Back: runURL(run.ID, reg.Code)}
	for _, d := range diff.Items {
		l := web.DiffLine{Link: s.personLink(r, d.IDNumber), MaskedID: maskID(d.IDNumber), Name: d.Name}
		l.OldUniverse, l.OldPension, l.OldMedical, l.OldFlags = diffSide(d.OldUniverse, d.OldPension, d.OldMedical, d.OldFlags)
		l.NewUniverse, l.NewPension, l.NewMedical, l.NewFlags = diffSide(d.NewUniverse, d.NewPension, d.NewMedical, d.NewFlags)
		v.Lines = append(v.Lines, l)
	}
	s.render(w, r, web.RunDiff(v))
}

// diffSide is one run's side of a changed person; a person absent from
// that run shows dashes.
func diffSide(universe *bool, pension, medical string, flags int) (string, string, string, string) {
	if universe == nil {
		return "—", "—", "—", "—"
	}
	f := compare.FlagNames(flags)
	if f == "" {
		f = "无"
	}
	u := "否"
	if *universe {
		u = "是"
	}
	return u, pension, medical, f
}
