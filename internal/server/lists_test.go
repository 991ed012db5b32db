package server_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/registry"
)

var (
	nextLink   = regexp.MustCompile(`<a href="([^"]*)" data-testid="next-page">`)
	prevLink   = regexp.MustCompile(`<a href="([^"]*)" data-testid="prev-page">`)
	pageOfPage = regexp.MustCompile(`<span>(\d+) / (\d+)</span>`)
	anyPerson  = regexp.MustCompile(`href="(/persons/[^"?]+)"`)
)

// listRoutes are the paged lists of a county with two comparisons two
// years apart (so the second has differences), each with filters its page
// links must keep.
func listRoutes(t *testing.T, e *env, c *client) map[string]string {
	t.Helper()
	first := c.mustCompare("440981", demoAsOf.AddDate(-2, 0, 0).Format("2006-01-02"))
	run := c.mustCompare("440981", demoAsOf.Format("2006-01-02"))
	first, run = strings.SplitN(first, "?", 2)[0], strings.SplitN(run, "?", 2)[0]
	// a person of the county with a few manual changes, opened from a search
	ctx := context.Background()
	var id string
	if err := e.db.QueryRow(ctx, `SELECT id_number FROM person WHERE region_code LIKE '440981%' ORDER BY id_number LIMIT 1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		tx, err := e.db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		change := registry.Entry{ID: id, Values: map[registry.Field]string{registry.Household: "H" + strconv.Itoa(i)}}
		if _, err := registry.Apply(ctx, tx, registry.ChangeSet{Source: registry.Source{Kind: registry.Manual, ID: int64(i)},
			Effective: demoAsOf, Persons: registry.NewEntries(change)}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	_, persons := c.get(run + "/list?metric=persons&q=" + id)
	person := anyPerson.FindStringSubmatch(persons)
	var batch int64 // the batch with the most issues
	if err := e.db.QueryRow(ctx, `SELECT b.id FROM import_batch b LEFT JOIN import_issue i ON i.batch_id = b.id
		GROUP BY b.id ORDER BY count(i.*) DESC, b.id LIMIT 1`).Scan(&batch); err != nil {
		t.Fatal(err)
	}
	if person == nil {
		t.Fatal("no person to open")
	}
	return map[string]string{
		"Runs":      "/compare",
		"Persons":   run + "/list?region=440981&metric=persons",
		"Search":    run + "/list?region=440981&metric=persons&q=4409",
		"Unmatched": run + "/list?region=440981&metric=unmatched",
		"Review":    run + "/review?region=440981",
		"Diff":      run + "/diff?region=440981&base=" + strings.TrimPrefix(first, "/compare/runs/"),
		"Imports":   "/imports?status=done",
		"Batch":     "/imports/" + strconv.FormatInt(batch, 10) + "?q=44",
		"Users":     "/users?q=gz",
		"Audit":     "/audit?user=admin",
		"Jobs":      "/jobs",
		"Timeline":  person[1],
	}
}

// TestListsHostileAndLinks: every paged list answers a hostile page, size
// and sort with a sane page, and its page links keep its filters.
func TestListsHostileAndLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.importDemoCounty(60)
	e.importNearTie()
	e.mustCreateUser("admin", actor.Admin, "440981")
	e.mustCreateUser("gz1", actor.County, "440981")
	e.mustCreateUser("gz2", actor.County, "440981")
	c := e.client()
	c.mustLogin("admin")
	routes := listRoutes(t, e, c)

	for name, path := range routes {
		t.Run("Hostile"+name, func(t *testing.T) {
			c := &client{t: t, base: c.base, c: c.c}
			total := c.total(path)
			hostile := with(path, url.Values{"page": {"99999999999999999999"}, "rpage": {"99999999999999999999"},
				"size": {"100000"}, "sort": {"unknown;DROP TABLE person"}})
			resp, body := c.get(hostile)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d", hostile, resp.StatusCode)
			}
			m := pageOfPage.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("%s: no pager", hostile)
			}
			page, _ := strconv.Atoi(m[1])
			pages, _ := strconv.Atoi(m[2])
			if page != list.MaxPage || pages < 1 || pages > max(1, total) {
				t.Errorf("%s: page %d of %d (total %d), want page %d clamped", hostile, page, pages, total, list.MaxPage)
			}
			if got := c.total(hostile); got != total {
				t.Errorf("%s: total %d, want %d as without the hostile parameters", hostile, got, total)
			}
			prev := prevLink.FindStringSubmatch(body)
			if prev == nil {
				t.Fatalf("%s: no link back from past the end", hostile)
			}
			if p := pageIn(query(t, prev[1])); p != strconv.Itoa(pages) {
				t.Errorf("%s: previous opens page %s, want the last, %d", hostile, p, pages)
			}
		})
		t.Run("Links"+name, func(t *testing.T) {
			c := &client{t: t, base: c.base, c: c.c}
			small := with(path, url.Values{"size": {"1"}})
			_, body := c.get(small)
			next := nextLink.FindStringSubmatch(body)
			if next == nil {
				if c.total(small) >= 2 {
					t.Fatalf("%s: no next page link", small)
				}
				t.Skipf("%s has fewer than two rows", path)
			}
			got := query(t, next[1])
			if pageIn(got) != "2" || got.Get("size") != "1" {
				t.Errorf("%s: next link %s, want page 2 of size 1", small, next[1])
			}
			for k, vs := range query(t, path) {
				if vs[0] != "" && got.Get(k) != vs[0] {
					t.Errorf("%s: next link %s lost %s=%s", small, next[1], k, vs[0])
				}
			}
			if !strings.HasPrefix(html.UnescapeString(next[1]), strings.SplitN(path, "?", 2)[0]+"?") {
				t.Errorf("%s: next link %s leaves the list", small, next[1])
			}
		})
	}
}

// pageIn is the page a link opens, by either page parameter.
func pageIn(v url.Values) string {
	if p := v.Get("page"); p != "" {
		return p
	}
	return v.Get("rpage")
}

// with adds params to path's query.
func with(path string, params url.Values) string {
	p, q, _ := strings.Cut(path, "?")
	v, _ := url.ParseQuery(q)
	for k, vs := range params {
		v[k] = vs
	}
	return p + "?" + v.Encode()
}

func query(t *testing.T, href string) url.Values {
	t.Helper()
	u, err := url.Parse(html.UnescapeString(href))
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
