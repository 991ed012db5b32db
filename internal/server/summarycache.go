package server

import (
	"sync"

	"github.com/canbao/canbao/web"
)

// summaryData is what a finished run's summary page shows for one region:
// the region's numbers and the table lines. It is the same for every viewer
// allowed to open that region, holds no personal data, and is read-only once
// cached.
type summaryData struct {
	counts map[string]int
	lines  []web.SummaryLine
	total  web.SummaryLine
}

type summaryKey struct {
	run    int64
	region string
}

// summaryCache keeps the summaries of finished runs, which never change, so
// that many staff opening the same summary do not repeat the query and the
// table building. It is bounded: when full it starts over. Callers check the
// viewer's scope on every request before they ask it, and only store runs
// whose status is done.
type summaryCache struct {
	mu  sync.Mutex
	max int
	m   map[summaryKey]*summaryData
}

func newSummaryCache(max int) *summaryCache {
	return &summaryCache{max: max, m: map[summaryKey]*summaryData{}}
}

func (c *summaryCache) get(run int64, region string) (*summaryData, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.m[summaryKey{run, region}]
	return d, ok
}

func (c *summaryCache) put(run int64, region string, d *summaryData) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[summaryKey{run, region}] = d
}
