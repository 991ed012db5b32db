// Package web holds the HTML components (templ) and the static assets, both
// compiled into the binary: bureaus run on closed networks, so nothing is
// fetched from elsewhere.
package web

import (
	"embed"
	"fmt"
	"net/url"
	"strconv"

	"github.com/canbao/canbao/internal/list"
)

// Static holds CSS, JS, fonts and images served under /static/.
//
//go:embed static
var Static embed.FS

// Nav is what every page's frame needs to know about the viewer.
type Nav struct {
	UserName   string
	RoleLabel  string
	RegionName string
	// Can holds the actions (actor.Action names) the viewer's role may do:
	// the menu shows only those.
	Can    map[string]bool
	CSRF   string
	Active string // which menu item is highlighted
}

// Page is the frame of a signed-in page.
type Page struct {
	Title string
	Nav   Nav
	Flash string
}

// Option is a label and value pair: a drop-down choice, a labelled cell.
type Option struct{ Value, Label string }

// Filter describes a list's filter form.
type Filter struct {
	Action, TestID, Submit string
	Hidden                 []Param // parameters the form carries unchanged
}

// Param is a query parameter.
type Param struct{ Name, Value string }

// Pager describes one page of a long list; PagerOf builds it.
type Pager struct {
	Page, PerPage, Total int
	// Base holds the list's other parameters (filters, sort, size), kept
	// in every page link.
	Base url.Values
	Path string
	// Param is the query parameter naming the page ("page" when empty), so
	// two lists on one page can page separately.
	Param string
	// Cursor, when set, is the opaque key of this page's last row: the
	// next link carries it, so the next page is read after that key
	// instead of by counting rows from the start.
	Cursor string
}

// PagerOf is the pager of a list at path: the one way from a list.Query
// and its total to the page links.
func PagerOf(q list.Query, total int, path string) Pager {
	return Pager{Page: q.Page, PerPage: q.Size, Total: total, Base: q.Params(), Path: path, Param: q.PageParam()}
}

// Prev is the page the "previous" link opens: the last page from a page
// past the end (a hand-edited or stale link).
func (p Pager) Prev() int { return max(1, min(p.Page-1, p.Pages())) }

// Pages is the number of pages.
func (p Pager) Pages() int {
	if p.PerPage <= 0 {
		return 1
	}
	n := (p.Total + p.PerPage - 1) / p.PerPage
	if n == 0 {
		n = 1
	}
	return n
}

// URL returns the link to page n.
func (p Pager) URL(n int) string {
	v := url.Values{}
	for k, vs := range p.Base {
		v[k] = vs
	}
	param := p.Param
	if param == "" {
		param = "page"
	}
	v.Set(param, strconv.Itoa(n))
	return p.Path + "?" + v.Encode()
}

// NextURL is the link to the next page, with the cursor when there is one.
func (p Pager) NextURL() string {
	u := p.URL(p.Page + 1)
	if p.Cursor != "" {
		u += "&" + url.Values{list.CursorParam: {p.Cursor}}.Encode()
	}
	return u
}

// Offset is the first row of the current page.
func (p Pager) Offset() int { return (p.Page - 1) * p.PerPage }

// Summary is the "第 1-50 条，共 123 条" line.
func (p Pager) Summary() string {
	if p.Total == 0 || p.Offset() >= p.Total {
		return fmt.Sprintf("共 %d 条", p.Total)
	}
	last := p.Offset() + p.PerPage
	if last > p.Total {
		last = p.Total
	}
	return fmt.Sprintf("第 %d–%d 条，共 %d 条", p.Offset()+1, last, p.Total)
}

func itoa(n int) string { return strconv.Itoa(n) }

func i64(n int64) string { return strconv.FormatInt(n, 10) }

func userAction(id int64, disabled bool) string {
	if disabled {
		return "/users/" + i64(id) + "/enable"
	}
	return "/users/" + i64(id) + "/disable"
}
