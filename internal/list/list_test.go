package list

import (
	"net/url"
	"testing"
)

func TestParse(t *testing.T) {
	spec := Spec{Size: 50, MaxSize: 200, Sorts: []string{"name", "date"}, Filters: []string{"q", "kind"}}
	tests := []struct {
		name               string
		raw                string
		page, size, offset int
		sort               string
		desc               bool
	}{
		{"Defaults", "", 1, 50, 0, "name", false},
		{"Page3", "page=3", 3, 50, 100, "name", false},
		{"PageZero", "page=0", 1, 50, 0, "name", false},
		{"PageNegative", "page=-5", 1, 50, 0, "name", false},
		{"PageGarbage", "page=abc", 1, 50, 0, "name", false},
		{"PageHuge", "page=99999999999999999999", MaxPage, 50, (MaxPage - 1) * 50, "name", false},
		{"SizeCapped", "size=100000", 1, 200, 0, "name", false},
		{"SizeZero", "size=0", 1, 1, 0, "name", false},
		{"SortDesc", "sort=-date", 1, 50, 0, "date", true},
		{"SortUnknown", "sort=-password", 1, 50, 0, "name", false},
		{"SortInjection", "sort=name;DROP TABLE x", 1, 50, 0, "name", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := url.ParseQuery(tc.raw)
			q := Parse(v, spec)
			if q.Page != tc.page || q.Size != tc.size || q.Offset() != tc.offset || q.Sort != tc.sort || q.Desc != tc.desc {
				t.Errorf("Parse(%q) = page %d size %d offset %d sort %q desc %v; want %d %d %d %q %v",
					tc.raw, q.Page, q.Size, q.Offset(), q.Sort, q.Desc, tc.page, tc.size, tc.offset, tc.sort, tc.desc)
			}
		})
	}
}

func TestFiltersAndParams(t *testing.T) {
	v, _ := url.ParseQuery("q=+张三+&kind=户籍人口&evil=1&page=2&sort=-date")
	q := Parse(v, Spec{Sorts: []string{"name", "date"}, Filters: []string{"q", "kind"}})
	if q.Filter("q") != "张三" || q.Filter("kind") != "户籍人口" || q.Filter("evil") != "" {
		t.Errorf("filters = %v", q.Filters)
	}
	p := q.Params()
	if p.Get("page") != "" || p.Get("sort") != "-date" || p.Get("q") != "张三" || p.Has("evil") {
		t.Errorf("params = %v", p)
	}
}

func TestParamsKeepOtherSize(t *testing.T) {
	spec := Spec{Size: 50}
	for raw, want := range map[string]string{"": "", "size=50": "", "size=20": "20", "size=100000": "200"} {
		v, _ := url.ParseQuery(raw)
		if got := Parse(v, spec).Params().Get("size"); got != want {
			t.Errorf("Parse(%q).Params() size = %q, want %q", raw, got, want)
		}
	}
}

func TestOwnPageParam(t *testing.T) {
	v, _ := url.ParseQuery("page=7&rpage=2")
	q := Parse(v, Spec{Param: "rpage"})
	if q.Page != 2 || q.PageParam() != "rpage" {
		t.Errorf("page %d param %q", q.Page, q.PageParam())
	}
}

func TestPages(t *testing.T) {
	q := Query{Page: 1, Size: 50}
	for _, tc := range []struct{ total, pages int }{{0, 1}, {1, 1}, {50, 1}, {51, 2}, {1000, 20}} {
		if got := Of([]int{}, tc.total, q).Pages(); got != tc.pages {
			t.Errorf("total %d: pages %d, want %d", tc.total, got, tc.pages)
		}
	}
}
