package server

import (
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/registry"
	"github.com/canbao/canbao/internal/source"
	"github.com/canbao/canbao/web"
)

func (s *Server) routesPersons(r chi.Router) {
	r.With(s.allow(actor.PersonRead)).Get("/persons/{id}", s.handlePerson)
}

// personLink is the link from a list to a person's full record, "" for a
// viewer who may not open full records (leaders read aggregates).
func (s *Server) personLink(r *http.Request, id string) string {
	if !currentActor(r).May(actor.PersonRead) {
		return ""
	}
	return s.personURL(id)
}

// personOf finds the registry entry the URL's opaque key names, within
// the viewer's region: the one place that turns a person URL into a person.
func (s *Server) personOf(r *http.Request) (registry.Person, error) {
	id, err := s.personID(chi.URLParam(r, "id"))
	if err != nil {
		return registry.Person{}, err
	}
	return s.registry.Person(r.Context(), currentActor(r), id)
}

// timelineSpec pages a person's timeline: ?size= may ask for another
// page size, up to registry.MaxPageSize.
var timelineSpec = list.Spec{MaxSize: registry.MaxPageSize}

// handlePerson shows a registry entry with its full ID number, so every
// view is audited: identity, the latest comparison result, the records
// linked side by side, the results of every run and the paged timeline of
// changes.
func (s *Server) handlePerson(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := currentActor(r)
	p, err := s.personOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	// Only the runs the viewer may open: a run of another county that also
	// met this person is none of their business.
	history, err := s.compare.Results(ctx, a, p.IDNumber)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var records []compare.LinkedRecord
	if len(history) > 0 {
		if records, err = s.compare.LinkedRecords(ctx, a, history[0].RunID, p.IDNumber); err != nil {
			s.error(w, r, err)
			return
		}
	}
	events, err := s.registry.Timeline(ctx, a, p.IDNumber, list.Parse(r.URL.Query(), timelineSpec))
	if err != nil {
		s.error(w, r, err)
		return
	}
	codes := []string{p.RegionCode, p.HukouRegion, p.Residence}
	for _, h := range history {
		codes = append(codes, h.RunRegion)
	}
	names, err := s.regionNames(ctx, codes)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.PersonView{Page: s.page(r, "人员信息 · "+p.Name, "compare"), ID: p.IDNumber, Name: p.Name, Sex: p.Sex,
		Household: p.Household, Relation: p.Relation, PopStatus: p.PopStatus, IdentityKind: p.IdentityKind,
		Region: regionLabel(names, p.RegionCode), HukouRegion: regionLabel(names, p.HukouRegion), CountyNote: countyNote(p.IDNumber),
		FirstSource: sourceLabel(p.First), Timeline: web.PagerOf(events.Query, events.Total, s.personURL(p.IDNumber))}
	v.AsOfURL = s.personURL(p.IDNumber) + "/asof"
	if p.Birth != nil {
		v.Birth = p.Birth.Format("2006-01-02")
	}
	v.Address, v.Phone, v.Enrollment = p.Address, p.Phone, p.Enrollment
	v.School = p.School
	if p.Residence != "" {
		v.Residence = regionLabel(names, p.Residence)
	}
	if p.DeathDate != nil {
		v.DeathDate = p.DeathDate.Format("2006-01-02")
	}
	if a.May(actor.RegistryChange) {
		v.ChangeLink = s.personURL(p.IDNumber) + "/change"
	}
	for i, h := range history {
		line := web.ResultLine{RunID: h.RunID, RunLink: runURL(h.RunID, ""), AsOf: h.AsOf.Format("2006-01-02"),
			Region: nameOr(names, h.RunRegion), Universe: h.Universe, Survey: h.Survey, Pension: h.Pension, Medical: h.Medical,
			Flags: flagList(h.Flags)}
		if i == 0 {
			v.HasLatest, v.Latest = true, line
		}
		v.History = append(v.History, line)
	}
	v.Sources, v.Fields, v.Grid = sideBySide(p.IDNumber, p.Name, records, a.May(actor.Import))
	for _, e := range events.Items {
		v.Events = append(v.Events, eventLine(e, a.May(actor.Import)))
	}
	if v.SurveyForms, err = s.personSurveyForms(r, p.IDNumber); err != nil {
		s.error(w, r, err)
		return
	}
	s.render(w, r, web.Person(v))
}

// eventLine shows one change with its field's Chinese name and its source.
func eventLine(e registry.Event, linkBatches bool) web.EventLine {
	l := web.EventLine{Effective: e.Effective.Format("2006-01-02"), Field: registry.FieldLabel(e.Field), Old: e.OldValue,
		New: e.NewValue, Source: sourceLabel(e.Source), Actor: e.ActorName, RecordedAt: e.RecordedAt.In(cst).Format("2006-01-02 15:04")}
	switch {
	case e.Source.Kind == registry.Comparison:
		l.SourceLink = runURL(e.Source.ID, "")
	case e.Source.Kind == registry.Survey:
		l.SourceLink = formURL(e.Source.ID)
	case e.Source.Kind == registry.Manual:
		l.SourceLink = "/changes/" + strconv.FormatInt(e.Source.ID, 10)
	case e.Source.Kind == registry.Extract && linkBatches:
		l.SourceLink = "/imports/" + strconv.FormatInt(e.Source.ID, 10)
	}
	if e.SourceName != "" {
		l.Source += "（" + e.SourceName + "）"
	}
	if e.ActorID == nil {
		l.Actor = "系统"
	}
	return l
}

// sourceKindLabels name the sources of registry changes.
var sourceKindLabels = map[registry.SourceKind]string{
	registry.Comparison: "比对批次",
	registry.Survey:     "入户调查表",
	registry.Manual:     "人工变更",
	registry.Extract:    "导入批次",
}

// sourceLabel names a source and its number, as "比对批次 #12".
func sourceLabel(src registry.Source) string {
	l, ok := sourceKindLabels[src.Kind]
	if !ok {
		l = string(src.Kind)
	}
	return l + " #" + strconv.FormatInt(src.ID, 10)
}

// methodLabels name how a record was linked.
var methodLabels = map[string]string{
	"exact":    "按身份证号码关联",
	"fuzzy":    "号码有误，按近似号码和姓名关联",
	"name":     "号码不可用，按姓名关联",
	"reviewed": "人工审核关联",
}

func regionLabel(names map[string]string, code string) string {
	if code == "" {
		return ""
	}
	if n, ok := names[code]; ok {
		return n + "（" + code + "）"
	}
	return code
}

// sideBySide lays a person's linked records out as columns. A mapped
// column's row is its field (公民身份号码 in one file and 身份证号 in
// another share a row), any other column's its header text; a name or ID
// cell that disagrees with the registry identity is marked.
func sideBySide(id, name string, records []compare.LinkedRecord, linkBatches bool) ([]web.SourceColumn, []string, [][]web.GridCell) {
	var cols []web.SourceColumn
	var fields []string
	row := map[string]int{}
	type cell struct {
		row  int
		cell web.GridCell
	}
	var cells [][]cell
	for _, rec := range records {
		col := web.SourceColumn{Kind: rec.Kind, FileName: rec.FileName, Line: rec.Line, Method: rec.Method,
			Damage: damageText(rec.IDDamage), NameDiff: rec.NameDiff}
		if l, ok := methodLabels[rec.Method]; ok {
			col.Method = l
		}
		if linkBatches {
			col.Link = "/imports/" + strconv.FormatInt(rec.BatchID, 10)
		}
		cols = append(cols, col)
		idCol, hasID := rec.Mapping[source.KeyID]
		nameCol, hasName := rec.Mapping[source.KeyName]
		mapped := map[int]string{}
		for key, i := range rec.Mapping {
			mapped[i] = fieldNames[key]
		}
		var these []cell
		for i, h := range rec.Header {
			value := ""
			if i < len(rec.Cells) {
				value = rec.Cells[i]
			}
			label := strings.TrimSpace(h)
			if name := mapped[i]; name != "" {
				label = name
			}
			if label == "" {
				if value == "" {
					continue
				}
				label = "（无表头）" + columnLetter(i) + "列"
			}
			n, ok := row[label]
			if !ok {
				n = len(fields)
				row[label] = n
				fields = append(fields, label)
			}
			c := web.GridCell{Value: value}
			switch {
			case value == "":
			case hasID && i == idCol:
				c.Diff = idcard.Normalize(value) != id
			case hasName && i == nameCol:
				c.Diff = stripSpace(value) != name
			}
			these = append(these, cell{n, c})
		}
		cells = append(cells, these)
	}
	grid := make([][]web.GridCell, len(fields))
	for i := range grid {
		grid[i] = make([]web.GridCell, len(cols))
	}
	for j, these := range cells {
		for _, c := range these {
			if grid[c.row][j].Value == "" { // a header repeated in one file: keep the first value
				grid[c.row][j] = c.cell
			}
		}
	}
	return cols, fields, grid
}

// fieldNames maps every field key to its canonical column name.
var fieldNames = func() map[string]string {
	out := map[string]string{}
	for _, k := range source.Kinds() {
		for _, f := range source.Fields(k) {
			out[f.Key] = f.Name
		}
	}
	return out
}()

// stripSpace removes blanks the way the importer cleans names.
func stripSpace(s string) string {
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), "")
}
