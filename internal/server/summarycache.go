package server

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/a-h/templ"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/web"
)

// summaryData is what a finished run's summary page shows for one region:
// the region's numbers and the table lines. It is the same for every viewer
// allowed to open that region, holds no personal data, and is read-only once
// cached.
type summaryData struct {
	counts map[string]int
	lines  []web.SummaryLine
	rows   templ.Component // lines, rendered once
	total  web.SummaryLine
	// prev is the run's previous run of the same region (hasPrev false
	// when there is none), which the page links its differences to; runs
	// are never deleted and a region's runs finish in order, so a finished
	// run's previous one never changes.
	prev    compare.Run
	hasPrev bool
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

// etagSeed changes with every start of the server, so a new build's pages
// never match a tag the old one handed out.
var etagSeed = randomToken()

// notModified sets an ETag made of parts, which must cover everything the
// page shows, and answers 304 Not Modified when the browser already holds
// that version. The tag is private: shared caches must not keep the page.
func notModified(w http.ResponseWriter, r *http.Request, parts ...any) bool {
	h := sha256.New()
	_, _ = fmt.Fprintf(h, "%s|%#v", etagSeed, parts) // a hash never fails to write
	tag := `"` + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18]) + `"`
	w.Header().Set("ETag", tag)
	w.Header().Set("Cache-Control", "private, no-cache")
	for _, t := range strings.Split(r.Header.Get("If-None-Match"), ",") {
		if strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "W/")) == tag {
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	return false
}
