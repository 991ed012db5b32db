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
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/region"
	"github.com/canbao/canbao/internal/source"
	"github.com/canbao/canbao/web"
)

func (s *Server) routesReview(r chi.Router) {
	const item = "/compare/runs/{id:[0-9]+}/review/{batch:[0-9]+}/{line:[0-9]+}"
	r.With(s.allow(actor.CompareRead)).Get("/compare/runs/{id:[0-9]+}/review", s.handleReviewQueue)
	r.With(s.allow(actor.CompareRead)).Get(item, s.handleReviewItem)
	r.With(s.allow(actor.Review)).Post(item, s.handleReviewDecide)
}

func reviewItemURL(runID, batchID int64, line int, regionCode string) string {
	return runPath(runID, fmt.Sprintf("review/%d/%d", batchID, line), url.Values{"region": {regionCode}})
}

func (s *Server) handleReviewQueue(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	run, reg, err := s.runAndRegion(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	lq := list.Parse(r.URL.Query(), list.Spec{})
	lq.Filters.Set("region", reg.Code)
	queue, err := s.compare.ReviewQueue(ctx, currentActor(r), run.ID, reg.Code, lq)
	if err != nil {
		s.error(w, r, err)
		return
	}
	crumbs, err := s.runCrumbs(ctx, currentActor(r), run, reg.Code, func(code string) string {
		return runPath(run.ID, "review", url.Values{"region": {code}})
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.ReviewQueueView{Page: s.page(r, fmt.Sprintf("待审核记录 · 比对批次 #%d · %s", run.ID, reg.Name), "compare"),
		Crumbs: crumbs, Records: recordLines(run.ID, reg.Code, queue.Items, true),
		Pager: web.PagerOf(queue.Query, queue.Total, runPath(run.ID, "review", nil)), Back: runURL(run.ID, reg.Code)}
	s.render(w, r, web.ReviewQueue(v))
}

// reviewTarget loads the run, region and record of a review page; a record
// outside the viewer's region does not exist for them.
func (s *Server) reviewTarget(r *http.Request) (compare.Run, region.Region, int64, int, error) {
	run, reg, err := s.runAndRegion(r)
	if err != nil {
		return run, reg, 0, 0, err
	}
	batch, err1 := strconv.ParseInt(chi.URLParam(r, "batch"), 10, 64)
	line, err2 := strconv.Atoi(chi.URLParam(r, "line"))
	if err1 != nil || err2 != nil {
		return run, reg, 0, 0, apperr.NotFoundf("审核记录不存在")
	}
	if _, err := s.compare.RecordRegion(r.Context(), currentActor(r), run.ID, batch, line); err != nil {
		return run, reg, 0, 0, err
	}
	return run, reg, batch, line, nil
}

func (s *Server) handleReviewItem(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	run, reg, batch, line, err := s.reviewTarget(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	it, err := s.compare.ReviewItem(ctx, currentActor(r), run.ID, batch, line)
	if err != nil {
		s.error(w, r, err)
		return
	}
	rec := it.Record
	cellOf := func(key string) (string, int) {
		if i, ok := rec.Mapping[key]; ok && i < len(rec.Cells) {
			return rec.Cells[i], i
		}
		return "", -1
	}
	rawID, idCol := cellOf(source.KeyID)
	recID := idcard.Normalize(rawID)
	name, _ := cellOf(source.KeyName)
	sex, _ := cellOf(source.KeySex)
	visible := visibleCandidates(currentActor(r), it.Candidates)
	var codes, ids []string
	for _, i := range visible {
		codes, ids = append(codes, it.Candidates[i].RegionCode), append(ids, it.Candidates[i].IDNumber)
	}
	names, err := s.regionNames(ctx, codes)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.ReviewItemView{Page: s.page(r, fmt.Sprintf("审核记录 · %s:%d", rec.FileName, rec.Line), "compare"),
		Action: reviewItemURL(run.ID, batch, line, reg.Code), Kind: rec.Kind, FileName: rec.FileName, Line: rec.Line,
		Damage: damageText(rec.IDDamage), RecordID: idParts(recID, ids...), RecordName: name, RecordSex: sex,
		Decided: it.Decided, NoneChosen: it.Decided && it.Choice < 0, CanDecide: currentActor(r).May(actor.Review),
		Back: runPath(run.ID, "review", url.Values{"region": {reg.Code}})}
	for _, i := range visible {
		c := it.Candidates[i]
		v.Candidates = append(v.Candidates, web.ReviewCandidate{Choice: strconv.Itoa(i), Chosen: it.Decided && it.Choice == i,
			Name: c.Name, Sex: c.Sex, Region: nameOr(names, c.RegionCode), Score: fmt.Sprintf("%.2f", c.Score), ID: idParts(c.IDNumber, recID)})
	}
	for i, h := range rec.Header {
		value := ""
		if i < len(rec.Cells) {
			value = rec.Cells[i]
		}
		if i == idCol {
			value = maskID(value)
		} else {
			value = maskCell(h, value)
		}
		if strings.TrimSpace(h) == "" && value == "" {
			continue
		}
		v.Cells = append(v.Cells, web.Option{Label: h, Value: value})
	}
	s.render(w, r, web.ReviewItem(v))
}

// idParts masks id like maskID but shows, marked, the characters where it
// differs from a nearly equal one of others (a mistyped or swapped digit,
// at most maxShown characters apart), so a reviewer sees the typo without
// reading whole numbers; unrelated numbers stay masked.
func idParts(id string, others ...string) []web.IDPart {
	const maxShown = 3
	r := []rune(id)
	if len(r) < 15 {
		return []web.IDPart{{Text: maskID(id)}}
	}
	diff := make([]bool, len(r))
	for _, o := range others {
		or := []rune(o)
		if len(or) != len(r) {
			continue
		}
		var at []int
		for i := range r {
			if r[i] != or[i] {
				at = append(at, i)
			}
		}
		if len(at) <= maxShown {
			for _, i := range at {
				diff[i] = true
			}
		}
	}
	var parts []web.IDPart
	for i, c := range r {
		ch := string(c)
		if !diff[i] && i >= 6 && i < len(r)-4 {
			ch = "*"
		}
		if n := len(parts); n > 0 && parts[n-1].Diff == diff[i] {
			parts[n-1].Text += ch
		} else {
			parts = append(parts, web.IDPart{Text: ch, Diff: diff[i]})
		}
	}
	return parts
}

func (s *Server) handleReviewDecide(w http.ResponseWriter, r *http.Request) {
	run, reg, batch, line, err := s.reviewTarget(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	choice := -1
	switch v := strings.TrimSpace(r.PostFormValue("choice")); v {
	case "":
		s.error(w, r, apperr.Invalidf("请选择审核结论：候选人员之一，或“都不是”"))
		return
	case "none":
	default:
		if choice, err = strconv.Atoi(v); err != nil {
			s.error(w, r, apperr.Invalidf("所选人员不在候选名单中"))
			return
		}
	}
	if err := s.compare.Decide(r.Context(), currentActor(r), run.ID, batch, line, choice); err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, runPath(run.ID, "review", url.Values{"region": {reg.Code}, "flash": {"已记录审核结论，下次比对时生效"}}))
}
