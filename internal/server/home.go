package server

import (
	"context"
	"net/http"
	"strconv"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/web"
)

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	a := currentActor(r)
	tree, err := s.regionView(r.Context(), a, a.Region)
	if err != nil {
		s.error(w, r, err)
		return
	}
	n, err := s.regionCount(r.Context(), a)
	if err != nil {
		s.error(w, r, err)
		return
	}
	stats, err := s.homeStats(r.Context(), a)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.HomeView{Page: s.page(r, "首页", "home"), Tree: tree, RegionCount: n, Stats: stats}
	s.render(w, r, web.Home(v))
}

// homeStats are the home page's numbers from the newest run covering the
// viewer's region, each opening its list; none before the first run (or
// for a role that may not read results).
func (s *Server) homeStats(ctx context.Context, a actor.Actor) ([]web.Stat, error) {
	if !a.May(actor.CompareRead) {
		return nil, nil
	}
	run, ok, err := s.compare.Latest(ctx, a)
	if err != nil || !ok {
		return nil, err
	}
	counts, err := s.homeCounts(ctx, a, run)
	if err != nil {
		return nil, err
	}
	stats := []web.Stat{{Label: "最近一次比对", Value: run.AsOf.Format("2006-01-02"), Link: runURL(run.ID, a.Region)}}
	for _, k := range []string{"universe", "pension_not", "survey"} {
		label, _ := metricLabel(k)
		stats = append(stats, web.Stat{Label: label, Value: strconv.Itoa(counts[k]), Link: listURL(run.ID, a.Region, k)})
	}
	return stats, nil
}

// homeCounts are the numbers of the viewer's region in run, kept per finished
// run and region since every user of the region sees the same ones. The
// scope check runs on every request, cached or not.
func (s *Server) homeCounts(ctx context.Context, a actor.Actor, run compare.Run) (map[string]int, error) {
	if err := a.CheckIn(actor.CompareRead, a.Region, "区划 "+a.Region); err != nil {
		return nil, err
	}
	done := run.Status == "done"
	if d, ok := s.homes.get(run.ID, a.Region); ok && done {
		return d.counts, nil
	}
	total, _, err := s.compare.Summary(ctx, a, run.ID, a.Region)
	if err != nil {
		return nil, err
	}
	if done {
		s.homes.put(run.ID, a.Region, &summaryData{counts: total.Counts})
	}
	return total.Counts, nil
}
