package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/canbao/canbao/internal/list"
)

// A list cursor is the sort key of a page's last row, which the page's
// "next" link carries so that the next page is read after that key
// instead of by skipping every row before it. The key holds an ID number,
// which must not appear in a URL, so the cursor is sealed like a person
// key; it names the page it ends and the list's parameters, and any other
// list or page ignores it (and counts rows as without one).

// cursorText is what a cursor seals: the page it ends, the list's
// parameters and the key.
func cursorText(page int, q list.Query, key []string) string {
	return "list\x1e" + strconv.Itoa(page) + "\x1e" + q.Params().Encode() + "\x1e" + strings.Join(key, "\x1f")
}

// listCursor is the cursor of the page q, whose last row has key.
func (s *Server) listCursor(q list.Query, key ...string) string {
	return s.keys.seal(cursorText(q.Page, q, key))
}

// listAfter sets q.After from the request's cursor when it is the one the
// page before q made for this list; n is the number of key columns.
func (s *Server) listAfter(r *http.Request, q *list.Query, n int) {
	c := r.URL.Query().Get(list.CursorParam)
	if c == "" || q.Page < 2 {
		return
	}
	text, ok := s.keys.open(c)
	if !ok {
		return
	}
	rest, ok := strings.CutPrefix(text, cursorText(q.Page-1, *q, nil))
	if key := strings.Split(rest, "\x1f"); ok && len(key) == n {
		q.After = key
	}
}
