package server

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/region"
)

// TestRegionCache: regions, paths, names, children and counts come back until they expire,
// and a name not cached is reported missing, once.
func TestRegionCache(t *testing.T) {
	c := newRegionCache(time.Hour, 100)
	if _, ok := c.region("440981"); ok {
		t.Fatal("empty cache has a region")
	}
	gz := region.Region{Code: "440981", Name: "高州市", Level: 3, ParentCode: "4409"}
	c.putRegions(gz)
	if r, ok := c.region("440981"); !ok || r != gz {
		t.Errorf("region = %v, %v; want %v", r, ok, gz)
	}
	c.putPath("440981", []region.Region{{Name: "全国"}, gz})
	if p, ok := c.path("440981"); !ok || len(p) != 2 {
		t.Errorf("path = %v, %v", p, ok)
	}
	c.putNames(map[string]string{"440981": "高州市"})
	names, missing := c.names([]string{"440981", "440982", "440982", "440981"})
	if !maps.Equal(names, map[string]string{"440981": "高州市"}) || !slices.Equal(missing, []string{"440982"}) {
		t.Errorf("names = %v, missing %v", names, missing)
	}

	kids := []region.Child{{Region: region.Region{Code: "440981002", Name: "石仔岭街道"}, Children: 3}}
	c.putChildren("440981", kids)
	if got, ok := c.children("440981"); !ok || !slices.Equal(got, kids) {
		t.Errorf("children = %v, %v", got, ok)
	}
	if _, ok := c.children("440982"); ok {
		t.Error("children of a region never put")
	}
	c.putCount("440981", 521)
	if n, ok := c.regionCount("440981"); !ok || n != 521 {
		t.Errorf("count = %d, %v", n, ok)
	}

	old := newRegionCache(time.Nanosecond, 100)
	old.putChildren("440981", kids)
	old.putCount("440981", 521)
	old.putRegions(gz)
	old.putPath("440981", []region.Region{gz})
	old.putNames(map[string]string{"440981": "高州市"})
	time.Sleep(time.Millisecond)
	if _, ok := old.region("440981"); ok {
		t.Error("expired region still served")
	}
	if _, ok := old.path("440981"); ok {
		t.Error("expired path still served")
	}
	if _, ok := old.children("440981"); ok {
		t.Error("expired children still served")
	}
	if _, ok := old.regionCount("440981"); ok {
		t.Error("expired count still served")
	}
	if _, missing := old.names([]string{"440981"}); len(missing) != 1 {
		t.Error("expired name still served")
	}
}

// TestPathLen counts the levels from the root to a code.
func TestPathLen(t *testing.T) {
	for code, want := range map[string]int{"": 1, "44": 2, "4409": 3, "440981": 4, "440981002": 5, "440981002001": 6} {
		if got := pathLen(code); got != want {
			t.Errorf("pathLen(%q) = %d, want %d", code, got, want)
		}
	}
}
