package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/registry"
	"github.com/canbao/canbao/internal/source"
	"github.com/canbao/canbao/web"
)

func (s *Server) routesAsOf(r chi.Router) {
	r.With(s.allow(actor.CompareRead)).Get("/asof", s.handleAsOf)
	r.With(s.allow(actor.PersonRead)).Get("/persons/{id}/asof", s.handlePersonAsOf)
}

// asOfDay reads ?date=YYYY-MM-DD; today (China time) when absent.
func asOfDay(r *http.Request) (time.Time, string, bool) {
	v := strings.TrimSpace(r.URL.Query().Get("date"))
	if v == "" {
		t := source.Day(time.Now())
		return t, t.Format("2006-01-02"), true
	}
	t, err := time.Parse("2006-01-02", v)
	if err != nil || t.Year() < 1990 || t.Year() > 2100 {
		return time.Time{}, v, false
	}
	return t, v, true
}

// handlePersonAsOf shows a registry entry as it stood on a day: a full
// record, so the read is audited.
func (s *Server) handlePersonAsOf(w http.ResponseWriter, r *http.Request) {
	id, err := s.personID(chi.URLParam(r, "id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	back := s.personURL(id)
	d, date, ok := asOfDay(r)
	v := web.PersonAsOfView{Page: s.page(r, "人员历史状态", "compare"), ID: id, Date: date, Back: back}
	if !ok { // nothing of the entry is read or shown
		v.ID, v.Error = "", "请填写日期（如 2026-06-30）"
		w.WriteHeader(http.StatusBadRequest)
		s.render(w, r, web.PersonAsOf(v))
		return
	}
	p, err := s.registry.PersonAsOf(r.Context(), currentActor(r), id, d)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v.Existed = p.Existed
	if !p.Since.IsZero() {
		v.Since = p.Since.Format("2006-01-02")
	}
	for _, f := range p.Fields {
		if f.Column == registry.Name.Column() {
			v.Name = f.Now
		}
		v.Fields = append(v.Fields, web.AsOfFieldRow{Label: f.Label, Then: f.Then, Now: f.Now, Changed: f.Then != f.Now})
	}
	for _, e := range p.Later {
		v.Later = append(v.Later, web.AsOfEventRow{Effective: e.Effective.Format("2006-01-02"), Field: registry.FieldLabel(e.Field),
			Old: e.OldValue, New: e.NewValue, Source: sourceLabel(e.Source), RecordedAt: e.RecordedAt.In(cst).Format("2006-01-02 15:04")})
	}
	v.Title = "人员历史状态 · " + v.Name
	s.render(w, r, web.PersonAsOf(v))
}

// asOfMetrics are the summary numbers the as-of page shows.
var asOfMetrics = []string{"persons", "universe", "pension_insured", "pension_interrupted", "pension_not", "medical_insured", "medical_not", "survey"}

// asOfStatuses are the registry columns of the as-of page ("" last: none recorded).
var asOfStatuses = []string{source.PopNormal, source.PopDead, source.PopCancelled, source.PopMovedOut}

// handleAsOf shows a region's registry and summary numbers as they stood
// on a day: the latest comparison whose as-of date is on or before it, and
// the registry rebuilt from its events.
func (s *Server) handleAsOf(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := currentActor(r)
	me, _ := currentUser(r)
	code := strings.TrimSpace(r.URL.Query().Get("region"))
	if code == "" {
		code = a.Region
	}
	reg, err := s.regions.Get(ctx, a, code)
	if err != nil {
		s.error(w, r, err)
		return
	}
	d, date, ok := asOfDay(r)
	v := web.AsOfView{Page: s.page(r, "历史查询 · "+reg.Name, "asof"), Date: date, Region: reg.Code}
	if v.Regions, err = s.regionChoices(ctx, me.RegionCode, me.RegionName); err != nil {
		s.error(w, r, err)
		return
	}
	if !ok {
		v.Error = "请填写日期（如 2026-06-30）"
		w.WriteHeader(http.StatusBadRequest)
		s.render(w, r, web.AsOf(v))
		return
	}
	run, found, err := s.compare.RunAsOf(ctx, a, reg.Code, d)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if found {
		total, children, err := s.compare.Summary(ctx, a, run.ID, reg.Code)
		if err != nil {
			s.error(w, r, err)
			return
		}
		v.HasRun, v.RunID, v.RunLink, v.RunAsOf = true, run.ID, runURL(run.ID, reg.Code), run.AsOf.Format("2006-01-02")
		v.RunOwner = run.RegionName
		for _, key := range asOfMetrics {
			if m, ok := compare.MetricByKey(key); ok {
				v.MetricLabels = append(v.MetricLabels, m.Label)
			}
		}
		for _, row := range append([]compare.SummaryRow{total}, children...) {
			c := web.AsOfCount{Name: nameOrCode(row.Name, row.Code)}
			for _, key := range asOfMetrics {
				c.Counts = append(c.Counts, row.Counts[key])
			}
			v.Metrics = append(v.Metrics, c)
		}
	}
	total, children, err := s.registry.CountsAsOf(ctx, a, reg.Code, d)
	if err != nil {
		s.error(w, r, err)
		return
	}
	codes := []string{reg.Code}
	for _, c := range children {
		codes = append(codes, c.Code)
	}
	names, err := s.regionNames(ctx, codes)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v.StatusLabels = append([]string{"人员"}, asOfStatuses...)
	v.StatusLabels = append(v.StatusLabels, "其他")
	for _, c := range append([]registry.RegionCount{total}, children...) {
		row := web.AsOfCount{Name: nameOr(names, c.Code), Counts: []int{c.Persons}}
		other := c.Persons
		for _, st := range asOfStatuses {
			row.Counts = append(row.Counts, c.ByStatus[st])
			other -= c.ByStatus[st]
		}
		v.Registry = append(v.Registry, web.AsOfCount{Name: row.Name, Counts: append(row.Counts, other)})
	}
	if err := s.asOfPersons(r, &v, reg.Code, d, total); err != nil {
		s.error(w, r, err)
		return
	}
	s.render(w, r, web.AsOf(v))
}

// asOfPersons fills the page's list of the persons behind the counts,
// masked, a page at a time, searchable by name or ID and 人口状态. Without
// a search the counts already say how many there are.
func (s *Server) asOfPersons(r *http.Request, v *web.AsOfView, code string, d time.Time, counts registry.RegionCount) error {
	ctx := r.Context()
	lq := list.Parse(r.URL.Query(), registry.PersonsAsOfSpec)
	lq.Filters.Set("region", code)
	lq.Filters.Set("date", v.Date)
	known := -1
	if lq.Filter("q") == "" {
		switch st := lq.Filter("status"); st {
		case "":
			known = counts.Persons
		case "none":
			known = counts.ByStatus[""]
		default:
			known = counts.ByStatus[st]
		}
	}
	page, err := s.registry.PersonsAsOf(ctx, currentActor(r), code, d, lq, known)
	if err != nil {
		return err
	}
	names, err := namesOf(ctx, s, page.Items, func(p registry.PersonThen) string { return p.RegionCode })
	if err != nil {
		return err
	}
	v.Query, v.Status, v.Statuses = lq.Filter("q"), lq.Filter("status"), asOfStatuses
	v.PersonsTotal, v.Pager = page.Total, web.PagerOf(page.Query, page.Total, "/asof")
	for _, p := range page.Items {
		row := web.AsOfPerson{MaskedID: maskID(p.IDNumber), Name: p.Name, Region: nameOr(names, p.RegionCode), Status: p.Status}
		if link := s.personLink(r, p.IDNumber); link != "" {
			row.Link = link + "/asof?date=" + v.Date
		}
		v.Persons = append(v.Persons, row)
	}
	return nil
}

func nameOrCode(name, code string) string {
	if name == "" {
		return code
	}
	return name
}
