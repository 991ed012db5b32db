package web

import (
	"net/url"
	"testing"

	"github.com/canbao/canbao/internal/list"
)

func TestPagerOf(t *testing.T) {
	spec := list.Spec{Size: 50, Filters: []string{"q"}, Param: "rpage"}
	tests := []struct {
		name, raw     string
		total         int
		prev          int
		summary, next string
	}{
		{"First", "q=张", 120, 1, "第 1–50 条，共 120 条", "/l?q=%E5%BC%A0&rpage=2"},
		{"Last", "q=张&rpage=3", 120, 2, "第 101–120 条，共 120 条", "/l?q=%E5%BC%A0&rpage=4"},
		{"PastTheEnd", "rpage=99999999999999999999", 120, 3, "共 120 条", "/l?rpage=100001"},
		{"OwnSize", "size=20", 45, 1, "第 1–20 条，共 45 条", "/l?rpage=2&size=20"},
		{"Empty", "", 0, 1, "共 0 条", "/l?rpage=2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := url.ParseQuery(tc.raw)
			p := PagerOf(list.Parse(v, spec), tc.total, "/l")
			if p.Prev() != tc.prev || p.Summary() != tc.summary || p.URL(p.Page+1) != tc.next {
				t.Errorf("prev %d, summary %q, next %q; want %d, %q, %q", p.Prev(), p.Summary(), p.URL(p.Page+1), tc.prev, tc.summary, tc.next)
			}
		})
	}
}
