package server_test

import (
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/actor"
)

// TestSummaryCacheKeepsScope opens a finished run's summaries as the county,
// so they are cached, then checks a second request shows the same numbers and
// a township clerk still gets 404 for the county's and another township's
// cached summaries while seeing their own.
func TestSummaryCacheKeepsScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.importDemoCounty(300)
	e.mustCreateUser("cc", actor.County, "440981")
	c := e.client()
	c.mustLogin("cc")
	runPath := c.mustCompare("440981", demoAsOf.Format("2006-01-02"))

	_, page := c.get(runPath + "?region=440981")
	first := summaryNumbers(t, page)
	var towns []summaryNumber
	for id, sn := range first {
		if strings.HasPrefix(id, "n-440981") && strings.HasSuffix(id, "-persons") && len(id) == len("n-440981107-persons") {
			towns = append(towns, sn)
		}
	}
	sort.Slice(towns, func(i, j int) bool { return towns[i].n > towns[j].n })
	if len(towns) < 2 || towns[1].n == 0 {
		t.Fatalf("persons live in fewer than two townships: %v", towns)
	}
	town := strings.TrimSuffix(strings.TrimPrefix(towns[0].id, "n-"), "-persons")
	other := strings.TrimSuffix(strings.TrimPrefix(towns[1].id, "n-"), "-persons")
	_, otherPage := c.get(runPath + "?region=" + other)

	resp, again := c.get(runPath + "?region=440981")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("second request: %d", resp.StatusCode)
	}
	if second := summaryNumbers(t, again); !reflect.DeepEqual(first, second) {
		t.Errorf("second request shows other numbers:\n%v\n%v", first, second)
	}
	if _, body := c.get(runPath + "?region=" + other); !reflect.DeepEqual(summaryNumbers(t, otherPage), summaryNumbers(t, body)) {
		t.Error("a township's second request shows other numbers")
	}

	e.mustCreateUser("tc", actor.Township, town)
	clerk := e.client()
	clerk.mustLogin("tc")
	for _, p := range []string{runPath + "?region=440981", runPath + "?region=" + other} {
		if resp, body := clerk.get(p); resp.StatusCode != http.StatusNotFound || strings.Contains(body, `id="card-persons"`) {
			t.Errorf("township clerk reached cached %s: %d", p, resp.StatusCode)
		}
	}
	resp, own := clerk.get(runPath + "?region=" + town)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("clerk's own summary: %d", resp.StatusCode)
	}
	if got, want := summaryNumbers(t, own)["card-persons"].n, towns[0].n; got != want {
		t.Errorf("clerk sees %d persons, the county's row says %d", got, want)
	}
}

// TestSummaryETag: a reload with the summary's ETag gets 304 and no body;
// another user's request with that tag gets the whole page, under a tag of
// its own.
func TestSummaryETag(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.importDemoCounty(60)
	e.mustCreateUser("ea", actor.County, "440981")
	e.mustCreateUser("eb", actor.County, "440981")
	a, b := e.client(), e.client()
	a.mustLogin("ea")
	b.mustLogin("eb")
	runPath := a.mustCompare("440981", demoAsOf.Format("2006-01-02"))

	resp, _ := a.get(runPath)
	tag := resp.Header.Get("ETag")
	if tag == "" {
		t.Fatal("summary has no ETag")
	}
	conditional := func(c *client) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, c.base+runPath, nil)
		req.Header.Set("If-None-Match", tag)
		resp, err := c.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp, readBody(t, resp)
	}
	if resp, body := conditional(a); resp.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("reload with the tag: %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, body := conditional(b)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "eb姓名") {
		t.Errorf("another user with the first one's tag: %d", resp.StatusCode)
	}
	if got := resp.Header.Get("ETag"); got == "" || got == tag {
		t.Errorf("another user's tag %q, first user's %q", got, tag)
	}
}
