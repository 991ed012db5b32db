package server_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/list"
)

// TestRunListCursor: a result list followed page by page through its
// "next" links (which carry a cursor) shows exactly the pages a jump to
// each page number shows, every person once; a cursor that was tampered
// with, or belongs to another page or list, is ignored; no cursor shows an
// ID number.
func TestRunListCursor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.importDemoCounty(40)
	e.mustCreateUser("gz", actor.County, "440981")
	c := e.client()
	c.mustLogin("gz")
	run := strings.SplitN(c.mustCompare("440981", demoAsOf.Format("2006-01-02")), "?", 2)[0]
	var township string // the most populous
	if err := e.db.QueryRow(context.Background(), `SELECT left(region_code, 9) FROM run_person_row
		GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`).Scan(&township); err != nil {
		t.Fatal(err)
	}

	for name, path := range map[string]string{
		"Survey":   run + "/list?region=440981&metric=survey&size=7",
		"Persons":  run + "/list?region=440981&metric=persons&size=9",
		"Search":   run + "/list?region=440981&metric=universe&q=4409&size=5",
		"Township": run + "/list?region=" + township + "&metric=persons&size=4",
	} {
		t.Run(name, func(t *testing.T) {
			c := &client{t: t, base: c.base, c: c.c}
			total := c.total(path)
			if total < 10 {
				t.Fatalf("%s: %d rows, too few to page", path, total)
			}
			var seen []string
			next, cursors := path, 0
			for page := 1; next != ""; page++ {
				_, body := c.get(next)
				rows := personRows(body)
				_, jumped := c.get(with(path, url.Values{"page": {strconv.Itoa(page)}}))
				if want := personRows(jumped); !slices.Equal(rows, want) {
					t.Fatalf("page %d by next link %s:\n%v\nby page number:\n%v", page, next, rows, want)
				}
				seen = append(seen, rows...)
				next = ""
				if m := nextLink.FindStringSubmatch(body); m != nil {
					next = html.UnescapeString(m[1])
					q := query(t, m[1])
					if q.Get(list.CursorParam) != "" {
						cursors++
					}
					if fullID.MatchString(" " + next + " ") {
						t.Fatalf("next link %s shows an ID number", next)
					}
					if p := q.Get("page"); p != strconv.Itoa(page+1) {
						t.Fatalf("next link %s opens page %s, want %d", next, p, page+1)
					}
				}
			}
			if len(seen) != total || len(slices.Compact(slices.Sorted(slices.Values(seen)))) != total {
				t.Errorf("%d rows over all pages (%d distinct), want %d, each once", len(seen), len(slices.Compact(slices.Sorted(slices.Values(seen)))), total)
			}
			if cursors == 0 {
				t.Errorf("no next link carried a cursor")
			}
		})
	}

	t.Run("Foreign", func(t *testing.T) {
		c := &client{t: t, base: c.base, c: c.c}
		path := run + "/list?region=440981&metric=persons&size=6"
		_, body := c.get(path)
		m := nextLink.FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no next link")
		}
		cursor := query(t, m[1]).Get(list.CursorParam)
		tampered := []byte(cursor)
		tampered[len(tampered)/2] ^= 1
		for what, u := range map[string]string{
			"tampered":     with(path, url.Values{"page": {"2"}, list.CursorParam: {string(tampered)}}),
			"another page": with(path, url.Values{"page": {"3"}, list.CursorParam: {cursor}}),
			"another list": with(run+"/list?region=440981&metric=universe&size=6", url.Values{"page": {"2"}, list.CursorParam: {cursor}}),
			"garbage":      with(path, url.Values{"page": {"2"}, list.CursorParam: {"x%00';--"}}),
		} {
			_, got := c.get(u)
			_, want := c.get(withoutCursor(t, u))
			if !slices.Equal(personRows(got), personRows(want)) || len(personRows(got)) == 0 {
				t.Errorf("%s cursor: page %v, want the page without it %v", what, personRows(got), personRows(want))
			}
		}
	})
}

// personRows are the persons of a list page, in order, by their links (a
// row may link its person more than once).
func personRows(body string) []string {
	var out []string
	for _, m := range personHref.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return slices.Compact(out)
}

// withoutCursor is u without its cursor parameter.
func withoutCursor(t *testing.T, u string) string {
	t.Helper()
	p, q, _ := strings.Cut(u, "?")
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	v.Del(list.CursorParam)
	return p + "?" + v.Encode()
}

// TestRegionCacheKeepsScope: a region another user's page put in the
// region cache is still outside a township clerk's reach.
func TestRegionCacheKeepsScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("gz", actor.County, "440981")
	e.mustCreateUser("tw", actor.Township, "440981002")
	county, township := e.client(), e.client()
	county.mustLogin("gz")
	township.mustLogin("tw")
	for _, code := range []string{"440981", "440981003"} {
		if resp, _ := county.get("/regions/" + code); resp.StatusCode != http.StatusOK {
			t.Fatalf("county opens %s: %d", code, resp.StatusCode)
		}
		if resp, _ := township.get("/regions/" + code); resp.StatusCode != http.StatusNotFound {
			t.Errorf("township opens cached %s: %d, want 404", code, resp.StatusCode)
		}
	}
	if resp, body := township.get("/regions/440981002"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "440981002") {
		t.Errorf("township opens its own region: %d", resp.StatusCode)
	}
}
