package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/indicator"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/region"
	"github.com/canbao/canbao/web"
)

// routesReport are the leaders' dashboard, the statistics of the not
// insured and the lists behind their figures (reads), and the button that
// recomputes today's snapshot (staff).
func (s *Server) routesReport(r chi.Router) {
	r.With(s.allow(actor.ReportRead)).Get("/dashboard", s.handleDashboard)
	r.With(s.allow(actor.ReportRead)).Get("/dashboard/notinsured", s.handleNotInsured)
	r.With(s.allow(actor.ReportRead)).Get("/dashboard/persons", s.handleIndicatorPersons)
	r.With(s.allow(actor.ReportEdit)).Post("/dashboard/snapshot", s.handleSnapshotStart)
}

// dashRegion is the region a dashboard page shows: ?region= inside the
// viewer's, else the viewer's own.
func (s *Server) dashRegion(r *http.Request) (region.Region, error) {
	a := currentActor(r)
	code := strings.TrimSpace(r.URL.Query().Get("region"))
	if code == "" {
		code = a.Region
	}
	if !a.Sees(code) {
		return region.Region{}, apperr.NotFoundf("区划 %s 不存在", code)
	}
	return s.regions.Get(r.Context(), a, code)
}

// regionCrumbs is the path from the top down to code; the regions the
// viewer may open link to link(code). Dashboards and reports share it.
func (s *Server) regionCrumbs(ctx context.Context, a actor.Actor, code string, link func(string) string) ([]web.Crumb, error) {
	path, err := s.regionPath(ctx, code)
	if err != nil {
		return nil, err
	}
	var out []web.Crumb
	for _, p := range path {
		c := web.Crumb{Name: p.Name}
		if p.Code != code && a.Sees(p.Code) {
			c.Link = link(p.Code)
		}
		out = append(out, c)
	}
	return out, nil
}

func dashURL(code string) string {
	return "/dashboard?" + url.Values{"region": {code}}.Encode()
}

func notInsuredURL(code string) string {
	return "/dashboard/notinsured?" + url.Values{"region": {code}}.Encode()
}

// personsURL is the list behind a figure: part's persons in region as of
// day, narrowed to a bucket when dim is set.
func personsURL(code string, part indicator.Part, day time.Time, dim, value string) string {
	q := url.Values{"region": {code}, "part": {string(part)}, "day": {day.Format(time.DateOnly)}}
	if dim != "" {
		q.Set("dim", dim)
		q.Set("value", value)
	}
	return "/dashboard/persons?" + q.Encode()
}

// The dashboard's choices: headline cards, columns of the children table
// and of the trend table (rates and the counts they rest on).
var (
	dashCards  = indicator.All
	kidColumns = []indicator.Indicator{indicator.PopulationCount, indicator.RegistrationRate, indicator.ToSurveyCount,
		indicator.VisitRate, indicator.SurveyRate, indicator.CorrectionRate, indicator.ExpansionRate}
	trendColumns = []indicator.Indicator{indicator.PopulationCount, indicator.RegistrationRate, indicator.VisitRate,
		indicator.SurveyRate, indicator.CorrectionRate, indicator.ExpansionRate}
	// noData are seed 003's comparison items this system cannot count.
	noData = []string{"跨地市登记信息比对完成率", "跨省登记信息比对完成率"}
)

// dashCell is ind's value on a line as a table cell whose parts link to
// their lists.
func dashCell(ind indicator.Indicator, v indicator.Value, code string, day time.Time) web.DashCell {
	c := web.DashCell{Rate: ind.Rate(), Percent: v.Percent(), Num: web.Fig{N: v.Num, Link: personsURL(code, ind.Num, day, "", "")}}
	if ind.Rate() {
		c.Den = web.Fig{N: v.Den, Link: personsURL(code, ind.Den, day, "", "")}
	}
	return c
}

// chartSeries is one line or bar series for dashboard.js.
type chartSeries struct {
	Name string     `json:"name"`
	Data []*float64 `json:"data"` // nil: no data that day
}

type chart struct {
	Kind   string        `json:"kind"` // line, bar, pie
	Labels []string      `json:"labels"`
	Series []chartSeries `json:"series"`
	Unit   string        `json:"unit"`
}

func pct(v indicator.Value) *float64 {
	r, ok := v.Ratio()
	if !ok {
		return nil
	}
	x := float64(int(r*1000+0.5)) / 10
	return &x
}

func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), currentActor(r)
	reg, err := s.dashRegion(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	crumbs, err := s.regionCrumbs(ctx, a, reg.Code, dashURL)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.DashboardView{Page: s.page(r, "领导驾驶舱 · "+reg.Name, "dashboard"), RegionCode: reg.Code, RegionName: reg.Name,
		Crumbs: crumbs, CanRefresh: a.May(actor.ReportEdit), Rule: indicator.RuleText, NoData: noData,
		NotInsuredLink: notInsuredURL(reg.Code)}
	day, ok, err := s.indicators.LatestDay(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if !ok {
		s.render(w, r, web.Dashboard(v))
		return
	}
	v.HasData, v.Day, v.ComputedAt = true, day.Day.Format(time.DateOnly), day.ComputedAt.Local().Format("2006-01-02 15:04")
	if v.Stale, err = s.staleness(ctx, day); err != nil {
		s.error(w, r, err)
		return
	}
	// What follows depends only on the region and the snapshot: kept per
	// both, so leaders opening the same dashboard repeat no query. The
	// scope check ran above (dashRegion) for this viewer.
	key := dashKey{reg.Code, day.ComputedAt.UnixNano()}
	parts, ok := s.dashViews.get(key)
	if !ok {
		if parts, err = s.dashParts(ctx, a, reg.Code, day.Day); err != nil {
			s.error(w, r, err)
			return
		}
		s.dashViews.put(key, parts)
	}
	v.Cards, v.Kids, v.KidColumns, v.Trend, v.TrendColumns, v.Charts = parts.Cards, parts.Kids, parts.KidColumns, parts.Trend, parts.TrendColumns, parts.Charts
	s.render(w, r, web.Dashboard(v))
}

// dashParts are the dashboard's numbers for region from the snapshot of day.
func (s *Server) dashParts(ctx context.Context, a actor.Actor, code string, day time.Time) (web.DashboardView, error) {
	var v web.DashboardView
	total, kids, err := s.indicators.Board(ctx, a, code, day)
	if err != nil {
		return v, err
	}
	for _, ind := range dashCards {
		val := total.Get(ind)
		c := web.DashCard{Key: ind.Key, Label: ind.Label, Rate: ind.Rate(), Percent: val.Percent(), Title: ind.Num.Label(),
			Num: web.Fig{N: val.Num, Link: personsURL(code, ind.Num, day, "", "")}, NumLabel: ind.Num.Label()}
		if ind.Rate() {
			c.Den, c.DenLabel = web.Fig{N: val.Den, Link: personsURL(code, ind.Den, day, "", "")}, ind.Den.Label()
			c.Title = ind.Num.Label() + " ÷ " + ind.Den.Label()
		}
		v.Cards = append(v.Cards, c)
	}
	charts := map[string]chart{}
	if v.Kids, charts["kids"], err = s.dashKids(ctx, a, kids, day); err != nil {
		return v, err
	}
	for _, ind := range kidColumns {
		v.KidColumns = append(v.KidColumns, ind.Label)
	}
	trend, err := s.indicators.Trend(ctx, a, code)
	if err != nil {
		return v, err
	}
	v.Trend, charts["trend"] = dashTrend(trend, code)
	for _, ind := range trendColumns {
		v.TrendColumns = append(v.TrendColumns, ind.Label)
	}
	v.Charts = charts
	return v, nil
}

// dashKey names a region's dashboard as of one computed snapshot; a
// recomputed day has a new computed time, so it never reads stale parts.
type dashKey struct {
	region string
	at     int64 // the snapshot's computed time, in nanoseconds
}

// viewCache keeps the parts of dashboard pages, which hold no personal
// data and are the same for every viewer allowed the region. Bounded: when
// full it starts over.
type viewCache[V any] struct {
	mu  sync.Mutex
	max int
	m   map[dashKey]V
}

func newViewCache[V any](max int) *viewCache[V] {
	return &viewCache[V]{max: max, m: map[dashKey]V{}}
}

func (c *viewCache[V]) get(k dashKey) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *viewCache[V]) put(k dashKey, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[k] = v
}

// dashKids ranks the children by survey completion (those with nothing to
// survey last), lights each against its round's deadline, and charts them.
func (s *Server) dashKids(ctx context.Context, a actor.Actor, kids []indicator.Line, day time.Time) ([]web.DashKid, chart, error) {
	codes := make([]string, 0, len(kids))
	for _, k := range kids {
		if !k.Rest {
			codes = append(codes, k.Code)
		}
	}
	sched, err := s.indicators.Schedules(ctx, codes)
	if err != nil {
		return nil, chart{}, err
	}
	ranked := slices.Clone(kids)
	slices.SortStableFunc(ranked, func(x, y indicator.Line) int {
		if x.Rest != y.Rest {
			return boolCmp(x.Rest, y.Rest)
		}
		rx, okx := x.Get(indicator.SurveyRate).Ratio()
		ry, oky := y.Get(indicator.SurveyRate).Ratio()
		if okx != oky {
			return boolCmp(oky, okx)
		}
		switch {
		case rx > ry:
			return -1
		case rx < ry:
			return 1
		}
		return strings.Compare(x.Code, y.Code)
	})
	ch := chart{Kind: "bar", Unit: "%", Series: []chartSeries{{Name: indicator.SurveyRate.Label}, {Name: indicator.RegistrationRate.Label}}}
	var out []web.DashKid
	for i, k := range ranked {
		row := web.DashKid{Code: k.Code, Name: k.Name, Rest: k.Rest, LightText: "—"}
		if !k.Rest {
			row.Rank = i + 1
			if a.Sees(k.Code) {
				row.Link = dashURL(k.Code)
			}
			sc := sched[k.Code]
			light, expected := indicator.Judge(k.Get(indicator.SurveyRate), sc, day)
			row.Light, row.LightText = string(light), light.Label()
			if !sc.Deadline.IsZero() {
				row.Deadline = sc.Deadline.Format(time.DateOnly)
				if light != indicator.None {
					row.Expected = fmt.Sprintf("%.1f%%", expected*100)
				}
			}
			ch.Labels = append(ch.Labels, k.Name)
			ch.Series[0].Data = append(ch.Series[0].Data, pct(k.Get(indicator.SurveyRate)))
			ch.Series[1].Data = append(ch.Series[1].Data, pct(k.Get(indicator.RegistrationRate)))
		}
		for _, ind := range kidColumns {
			c := dashCell(ind, k.Get(ind), k.Code, day)
			if k.Rest { // the rest line has no list of its own
				c.Num.Link, c.Den.Link = "", ""
			}
			row.Cells = append(row.Cells, c)
		}
		out = append(out, row)
	}
	return out, ch, nil
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// dashTrend is the trend table (newest first) and its chart (oldest first).
func dashTrend(points []indicator.Point, code string) ([]web.DashTrendRow, chart) {
	ch := chart{Kind: "line", Unit: "%"}
	rates := trendColumns[1:]
	for _, ind := range rates {
		ch.Series = append(ch.Series, chartSeries{Name: ind.Label})
	}
	var rows []web.DashTrendRow
	for _, p := range points {
		ch.Labels = append(ch.Labels, p.Day.Format(time.DateOnly))
		for i, ind := range rates {
			ch.Series[i].Data = append(ch.Series[i].Data, pct(p.Values[ind.Key]))
		}
		row := web.DashTrendRow{Day: p.Day.Format(time.DateOnly)}
		for _, ind := range trendColumns {
			row.Cells = append(row.Cells, dashCell(ind, p.Values[ind.Key], code, p.Day))
		}
		rows = append(rows, row)
	}
	slices.Reverse(rows)
	return rows, ch
}

// staleness says why the newest snapshot may not show the data as it is:
// it is from an earlier day, or runs or rounds came since. (Survey forms
// entered since are not detected: the page says when it was computed.)
func (s *Server) staleness(ctx context.Context, day indicator.Day) (string, error) {
	if day.Day.Before(dayUTC(time.Now())) {
		return "统计快照不是今天的，数字截至 " + day.Day.Format(time.DateOnly) + "。", nil
	}
	runs, rounds, err := indicator.Sources(ctx, s.db, day.Day)
	if err != nil {
		return "", err
	}
	if !slices.Equal(runs, day.Runs) || !slices.Equal(rounds, day.Rounds) {
		return "统计快照生成后又有新的比对或调查轮次，数字可能不是最新；请更新统计。", nil
	}
	return "", nil
}

// dayParam reads ?day= (a snapshot day); empty or bad means today.
func dayParam(r *http.Request) time.Time {
	d, err := time.Parse(time.DateOnly, r.URL.Query().Get("day"))
	if err != nil || d.Year() < 2000 || d.Year() > 2100 {
		return dayUTC(time.Now())
	}
	return d
}

var indicatorListSpec = list.Spec{Filters: []string{"region", "part", "day", "dim", "value"}}

func (s *Server) handleIndicatorPersons(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), currentActor(r)
	reg, err := s.dashRegion(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	q := r.URL.Query()
	part, ok := indicator.PartByKey(q.Get("part"))
	if !ok {
		s.error(w, r, apperr.NotFoundf("没有这项统计：%s", q.Get("part")))
		return
	}
	f := indicator.Filter{Dim: q.Get("dim"), Value: q.Get("value")}
	what := part.Label()
	if f.Dim != "" {
		label := ""
		for _, d := range indicator.Dims {
			if d.Key == f.Dim {
				label = d.Label
			}
		}
		if label == "" || part != indicator.NotInsured {
			s.error(w, r, apperr.NotFoundf("没有这项统计：%s", f.Dim))
			return
		}
		what += "（" + label + "：" + f.Value + "）"
	}
	day := dayParam(r)
	lq := list.Parse(q, indicatorListSpec)
	lq.Filters.Set("region", reg.Code)
	lq.Filters.Set("day", day.Format(time.DateOnly))
	page, err := s.indicators.Persons(ctx, a, reg.Code, day, part, f, lq)
	if err != nil {
		s.error(w, r, err)
		return
	}
	names, err := namesOf(ctx, s, page.Items, func(it indicator.PersonRow) string { return it.RegionCode })
	if err != nil {
		s.error(w, r, err)
		return
	}
	crumbs, err := s.regionCrumbs(ctx, a, reg.Code, func(code string) string {
		return personsURL(code, part, day, f.Dim, f.Value)
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.IndicatorListView{Page: s.page(r, what+" · "+reg.Name, "dashboard"), Crumbs: crumbs, What: what,
		Day: day.Format(time.DateOnly), Total: page.Total, Back: dashURL(reg.Code),
		Pager: web.PagerOf(page.Query, page.Total, "/dashboard/persons")}
	for _, p := range page.Items {
		name := names[p.RegionCode]
		if name == "" {
			name = p.RegionCode
		}
		v.Persons = append(v.Persons, web.IndicatorPerson{MaskedID: maskID(p.IDNumber), Name: p.Name, Region: name,
			Link: s.personLink(r, p.IDNumber)})
	}
	s.render(w, r, web.IndicatorList(v))
}

func (s *Server) handleNotInsured(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), currentActor(r)
	reg, err := s.dashRegion(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	crumbs, err := s.regionCrumbs(ctx, a, reg.Code, notInsuredURL)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.NotInsuredView{Page: s.page(r, "未参保人员统计 · "+reg.Name, "dashboard"), RegionName: reg.Name, Crumbs: crumbs,
		Back: dashURL(reg.Code)}
	day, ok, err := s.indicators.LatestDay(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if !ok {
		s.render(w, r, web.NotInsured(v))
		return
	}
	key := dashKey{reg.Code, day.ComputedAt.UnixNano()}
	parts, ok := s.notInsuredViews.get(key)
	if !ok {
		if parts, err = s.notInsuredParts(ctx, a, reg.Code, day.Day); err != nil {
			s.error(w, r, err)
			return
		}
		s.notInsuredViews.put(key, parts)
	}
	v.HasData, v.Day, v.Total, v.Blocks, v.Charts = true, parts.Day, parts.Total, parts.Blocks, parts.Charts
	s.render(w, r, web.NotInsured(v))
}

// notInsuredParts are the statistics of the not insured in code from the
// snapshot of day: each dimension's buckets, and the children.
func (s *Server) notInsuredParts(ctx context.Context, a actor.Actor, code string, day time.Time) (web.NotInsuredView, error) {
	var v web.NotInsuredView
	total, kids, err := s.indicators.Board(ctx, a, code, day)
	if err != nil {
		return v, err
	}
	bd, err := s.indicators.Breakdown(ctx, a, code, day)
	if err != nil {
		return v, err
	}
	v.Day = day.Format(time.DateOnly)
	v.Total = web.Fig{N: total.Get(indicator.NotInsuredCount).Num, Link: personsURL(code, indicator.NotInsured, day, "", "")}
	charts := map[string]chart{}
	add := func(key, label string, rows []web.NotInsuredRow, kind string) {
		v.Blocks = append(v.Blocks, web.NotInsuredBlock{Key: key, Label: label, Rows: rows})
		ch := chart{Kind: kind, Unit: "人", Series: []chartSeries{{Name: label}}}
		for _, r := range rows {
			n := float64(r.Fig.N)
			ch.Labels = append(ch.Labels, r.Label)
			ch.Series[0].Data = append(ch.Series[0].Data, &n)
		}
		charts[key] = ch
	}
	for _, d := range indicator.Dims {
		var rows []web.NotInsuredRow
		for _, b := range bd[d.Key] {
			rows = append(rows, web.NotInsuredRow{Label: b.Value,
				Fig: web.Fig{N: b.N, Link: personsURL(code, indicator.NotInsured, day, d.Key, b.Value)}})
		}
		kind := "bar"
		if d.Key == indicator.DimSex || d.Key == indicator.DimScheme {
			kind = "pie"
		}
		add(d.Key, d.Label, rows, kind)
		if d.Key == indicator.DimAge { // the children after the age bands, as the issue lists them
			var kr []web.NotInsuredRow
			for _, k := range kids {
				f := web.Fig{N: k.Get(indicator.NotInsuredCount).Num}
				if !k.Rest {
					f.Link = personsURL(k.Code, indicator.NotInsured, day, "", "")
				}
				kr = append(kr, web.NotInsuredRow{Label: k.Name, Fig: f})
			}
			if len(kr) > 0 {
				add("region", "下级区划", kr, "bar")
			}
		}
	}
	v.Charts = charts
	return v, nil
}

// handleSnapshotStart recomputes today's snapshot as a job and opens its
// progress page.
func (s *Server) handleSnapshotStart(w http.ResponseWriter, r *http.Request) {
	id, err := s.jobs.Submit(r.Context(), s.snapshotJob(currentActor(r), time.Now()))
	if err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, jobURL(id))
}
