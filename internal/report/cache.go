package report

import "sync"

// fixedCache keeps numbers that never change once written (a prepared
// run's counts, a computed snapshot's lines), keyed by what names them
// for good. They are sums, no personal data, the same for every viewer
// allowed the region. Bounded: when full it starts over. A nil cache
// keeps nothing.
type fixedCache struct {
	mu  sync.Mutex
	max int
	m   map[string]any
}

func newFixedCache(max int) *fixedCache { return &fixedCache{max: max, m: map[string]any{}} }

func (c *fixedCache) get(k string) (any, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *fixedCache) put(k string, v any) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[k] = v
}
