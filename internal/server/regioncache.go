package server

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/region"
)

// regionCache keeps the regions pages look up on every request (the page's
// region, its path for the crumbs, the names of a list's regions), which
// are the same for every user: a summary or list page otherwise spent half
// its queries on them. Divisions change only when a new edition is
// imported, by the command line in another process, so entries expire
// after ttl instead of being told; only regions found are kept, so a region
// just added is never missing. Scope checks still run on every request.
type regionCache struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	codes map[string]cachedRegion
	paths map[string]cachedPath
	named map[string]cachedName
	kids  map[string]cachedChildren
	count map[string]cachedCount
}

type cachedChildren struct {
	kids []region.Child
	at   time.Time
}

type cachedCount struct {
	n  int
	at time.Time
}

type cachedName struct {
	name string
	at   time.Time
}

type cachedRegion struct {
	r  region.Region
	at time.Time
}

type cachedPath struct {
	path []region.Region
	at   time.Time
}

func newRegionCache(ttl time.Duration, max int) *regionCache {
	return &regionCache{ttl: ttl, max: max, codes: map[string]cachedRegion{}, paths: map[string]cachedPath{},
		named: map[string]cachedName{}, kids: map[string]cachedChildren{}, count: map[string]cachedCount{}}
}

func (c *regionCache) region(code string) (region.Region, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.codes[code]
	return e.r, ok && time.Since(e.at) < c.ttl
}

func (c *regionCache) putRegions(rs ...region.Region) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.codes)+len(rs) > c.max {
		clear(c.codes)
	}
	now := time.Now()
	for _, r := range rs {
		c.codes[r.Code] = cachedRegion{r, now}
	}
}

// names are the cached names of codes, and the codes not cached.
func (c *regionCache) names(codes []string) (map[string]string, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]string, len(codes))
	var missing []string
	for _, code := range codes {
		if _, done := out[code]; done {
			continue
		}
		if e, ok := c.named[code]; ok && time.Since(e.at) < c.ttl {
			out[code] = e.name
		} else if !slices.Contains(missing, code) {
			missing = append(missing, code)
		}
	}
	return out, missing
}

func (c *regionCache) putNames(names map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.named)+len(names) > c.max {
		clear(c.named)
	}
	now := time.Now()
	for code, name := range names {
		c.named[code] = cachedName{name, now}
	}
}

func (c *regionCache) path(code string) ([]region.Region, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.paths[code]
	return e.path, ok && time.Since(e.at) < c.ttl
}

func (c *regionCache) putPath(code string, path []region.Region) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.paths) >= c.max {
		clear(c.paths)
	}
	c.paths[code] = cachedPath{path, time.Now()}
}

// region is regions.Get through the cache: the region code, inside the
// actor's.
func (s *Server) region(ctx context.Context, a actor.Actor, code string) (region.Region, error) {
	if err := a.CheckIn(actor.RegionRead, code, "区划 "+code); err != nil {
		return region.Region{}, err
	}
	if r, ok := s.regionsCache.region(code); ok {
		return r, nil
	}
	r, err := s.regions.Get(ctx, a, code)
	if err == nil {
		s.regionsCache.putRegions(r)
	}
	return r, err
}

// regionPath is regions.Path through the cache; a path with a level
// missing (a code whose parents are not loaded) is not kept.
func (s *Server) regionPath(ctx context.Context, code string) ([]region.Region, error) {
	if p, ok := s.regionsCache.path(code); ok {
		return p, nil
	}
	p, err := s.regions.Path(ctx, code)
	if err == nil && len(p) > 0 && p[len(p)-1].Code == code && len(p) == pathLen(code) {
		s.regionsCache.putPath(code, p)
	}
	return p, err
}

// pathLen is how many regions lie on the path from the root to code.
func pathLen(code string) int {
	n := 0
	for _, l := range []int{0, 2, 4, 6, 9, 12} {
		if l <= len(code) {
			n++
		}
	}
	return n
}

// regionNames is regions.Names through the cache.
func (s *Server) regionNames(ctx context.Context, codes []string) (map[string]string, error) {
	names, missing := s.regionsCache.names(codes)
	if len(missing) == 0 {
		return names, nil
	}
	got, err := s.regions.Names(ctx, missing)
	if err != nil {
		return nil, err
	}
	s.regionsCache.putNames(got)
	for code, name := range got {
		names[code] = name
	}
	return names, nil
}

func (c *regionCache) children(code string) ([]region.Child, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.kids[code]
	return e.kids, ok && time.Since(e.at) < c.ttl
}

func (c *regionCache) putChildren(code string, kids []region.Child) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.kids) >= c.max {
		clear(c.kids)
	}
	c.kids[code] = cachedChildren{kids, time.Now()}
}

func (c *regionCache) regionCount(code string) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.count[code]
	return e.n, ok && time.Since(e.at) < c.ttl
}

func (c *regionCache) putCount(code string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.count) >= c.max {
		clear(c.count)
	}
	c.count[code] = cachedCount{n, time.Now()}
}

// regionChildren is regions.Children through the cache (the home page's
// tree); a region added below code shows within the cache's lifetime.
func (s *Server) regionChildren(ctx context.Context, code string) ([]region.Child, error) {
	if kids, ok := s.regionsCache.children(code); ok {
		return kids, nil
	}
	kids, err := s.regions.Children(ctx, code)
	if err == nil {
		s.regionsCache.putChildren(code, kids)
	}
	return kids, err
}

// regionCount is regions.Count through the cache: the number of regions
// inside the actor's.
func (s *Server) regionCount(ctx context.Context, a actor.Actor) (int, error) {
	if err := a.Check(actor.RegionRead); err != nil {
		return 0, err
	}
	if n, ok := s.regionsCache.regionCount(a.Region); ok {
		return n, nil
	}
	n, err := s.regions.Count(ctx, a)
	if err == nil {
		s.regionsCache.putCount(a.Region, n)
	}
	return n, err
}

// namesOf is regionNames of the region codes of a page's items.
func namesOf[T any](ctx context.Context, s *Server, items []T, code func(T) string) (map[string]string, error) {
	codes := make([]string, 0, len(items))
	for _, it := range items {
		codes = append(codes, code(it))
	}
	return s.regionNames(ctx, codes)
}
