// Package list is the contract every long list in canbao follows: the
// handler parses a Query from the request (page number, page size capped,
// sort key from a whitelist, named filters), the domain method answers a
// Page of items with the total, and the page component renders the pager
// from both. Bad or hostile parameters never reach SQL: an unknown sort
// falls back to the default, a page number is clamped.
package list

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// MaxPage bounds the page number: beyond it OFFSET would only make the
// database skip rows for nothing (and a 20-digit number must not overflow).
const MaxPage = 100_000

// Spec says what a list accepts.
type Spec struct {
	Size    int      // rows per page when the request names none (default 50)
	MaxSize int      // largest page a request may ask for (default 200)
	Sorts   []string // accepted sort keys; the first is the default
	Filters []string // accepted filter parameters, kept in page links
	// Param names the page parameter ("page" when empty), so that two
	// lists on one page can page separately.
	Param string
}

// Query is one request for a page of a list.
type Query struct {
	Page    int // 1-based
	Size    int
	Sort    string
	Desc    bool
	Filters url.Values // only the parameters the Spec accepts, trimmed
	// After is the sort key of the previous page's last row when the
	// request followed a "next" link carrying a valid cursor: the domain
	// method then reads the rows after it (keyset) instead of skipping
	// Offset rows, which a deep page would pay for with every row before
	// it. Nil for a jump to a page; Parse never sets it, the handler does
	// once it has checked the cursor.
	After []string
	param string
	size  int // the Spec's default size: a page link names only another
}

// Parse reads a Query from request parameters under spec.
func Parse(v url.Values, spec Spec) Query {
	q := Query{Page: 1, Size: spec.Size, Filters: url.Values{}, param: spec.Param}
	if q.Size <= 0 {
		q.Size = 50
	}
	q.size = q.Size
	if q.param == "" {
		q.param = "page"
	}
	q.Page = clamp(v.Get(q.param), 1, MaxPage, 1)
	maxSize := spec.MaxSize
	if maxSize <= 0 {
		maxSize = 200
	}
	q.Size = clamp(v.Get("size"), 1, maxSize, min(q.Size, maxSize))
	if len(spec.Sorts) > 0 {
		q.Sort = spec.Sorts[0]
		sort := v.Get("sort")
		if desc := strings.HasPrefix(sort, "-"); desc {
			sort, q.Desc = sort[1:], true
		}
		if slices.Contains(spec.Sorts, sort) {
			q.Sort = sort
		} else {
			q.Desc = false
		}
	}
	for _, f := range spec.Filters {
		if s := strings.TrimSpace(v.Get(f)); s != "" {
			q.Filters.Set(f, s)
		}
	}
	return q
}

// clamp parses s as an integer in [lo, hi]; anything unparsable is def,
// anything too large is hi.
func clamp(s string, lo, hi, def int) int {
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange && !strings.HasPrefix(strings.TrimSpace(s), "-") {
			return hi
		}
		return def
	}
	return min(max(n, lo), hi)
}

// Filter returns the value of filter name ("" when absent).
func (q Query) Filter(name string) string { return q.Filters.Get(name) }

// Limit is the SQL LIMIT of the page.
func (q Query) Limit() int { return q.Size }

// Offset is the SQL OFFSET of the page.
func (q Query) Offset() int { return (q.Page - 1) * q.Size }

// CursorParam names the parameter of a "next" link that carries the
// previous page's last key (sealed by the handler).
const CursorParam = "after"

// Params are the parameters that reproduce the query on another page:
// filters, sort and a page size other than the default, without the page
// number.
func (q Query) Params() url.Values {
	v := url.Values{}
	for k, vs := range q.Filters {
		v[k] = slices.Clone(vs)
	}
	if q.Sort != "" {
		s := q.Sort
		if q.Desc {
			s = "-" + s
		}
		v.Set("sort", s)
	}
	if q.size > 0 && q.Size != q.size {
		v.Set("size", strconv.Itoa(q.Size))
	}
	return v
}

// PageParam is the name of the page parameter.
func (q Query) PageParam() string {
	if q.param == "" {
		return "page"
	}
	return q.param
}

// Page is one page of a list and the total it is drawn from.
type Page[T any] struct {
	Items []T
	Total int
	Query Query
}

// Of builds a page; domain methods end with `return list.Of(items, total, q), nil`.
func Of[T any](items []T, total int, q Query) Page[T] {
	return Page[T]{Items: items, Total: total, Query: q}
}

// Pages is the number of pages (at least 1).
func (p Page[T]) Pages() int {
	if p.Query.Size <= 0 || p.Total <= 0 {
		return 1
	}
	return (p.Total + p.Query.Size - 1) / p.Query.Size
}
