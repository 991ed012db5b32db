package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/region"
	"github.com/canbao/canbao/web"
)

func (s *Server) routesRegions(r chi.Router) {
	r = r.With(s.allow(actor.RegionRead))
	r.Get("/", s.handleHome)
	r.Get("/regions", s.handleRegions)
	r.Get("/regions/{code}", s.handleRegion)
}

func (s *Server) handleRegions(w http.ResponseWriter, r *http.Request) {
	a := currentActor(r)
	v, err := s.regionView(r.Context(), a, a.Region)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v.Query = strings.TrimSpace(r.URL.Query().Get("q"))
	if v.Query != "" {
		found, err := s.regions.Search(r.Context(), a, v.Query, 50)
		if err != nil {
			s.error(w, r, err)
			return
		}
		v.Found = rows(found)
	}
	v.Page = s.page(r, "行政区划", "regions")
	s.render(w, r, web.RegionPage(v))
}

func (s *Server) handleRegion(w http.ResponseWriter, r *http.Request) {
	v, err := s.regionView(r.Context(), currentActor(r), chi.URLParam(r, "code"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	v.Page = s.page(r, v.Current.Name, "regions")
	s.render(w, r, web.RegionPage(v))
}

// regionView loads a region the actor may see, its path and its children.
func (s *Server) regionView(ctx context.Context, a actor.Actor, code string) (web.RegionView, error) {
	cur, err := s.region(ctx, a, code)
	if err != nil {
		return web.RegionView{}, err
	}
	path, err := s.regionPath(ctx, code)
	if err != nil {
		return web.RegionView{}, err
	}
	children, err := s.regionChildren(ctx, code)
	if err != nil {
		return web.RegionView{}, err
	}
	v := web.RegionView{Current: row(cur, 0)}
	for _, p := range path {
		c := web.Crumb{Name: p.Name}
		if a.Sees(p.Code) && p.Code != code {
			c.Link = "/regions/" + p.Code
		}
		v.Crumbs = append(v.Crumbs, c)
	}
	for _, c := range children {
		v.Children = append(v.Children, row(c.Region, c.Children))
	}
	return v, nil
}

// regionChoices are the choices of a region picker: the viewer's own
// region and the regions directly below it.
func (s *Server) regionChoices(ctx context.Context, code, name string) ([]web.Option, error) {
	children, err := s.regionChildren(ctx, code)
	if err != nil {
		return nil, err
	}
	out := []web.Option{{Value: code, Label: name + "（本级）"}}
	for _, c := range children {
		out = append(out, web.Option{Value: c.Code, Label: c.Name})
	}
	return out, nil
}

func row(r region.Region, children int) web.RegionRow {
	return web.RegionRow{Code: r.Code, Name: r.Name, Level: region.LevelNames[r.Level], Children: children}
}

func rows(rs []region.Region) []web.RegionRow {
	out := make([]web.RegionRow, len(rs))
	for i, r := range rs {
		out[i] = row(r, 0)
	}
	return out
}
