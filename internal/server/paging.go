package server

import (
	"net/http"
	"strconv"
)

// maxPage bounds a page number: far beyond any list (a million rows at 50
// a page), yet its offset stays an ordinary integer for PostgreSQL.
const maxPage = 100_000

// pageParam reads a page number from the query, clamped to 1..maxPage;
// anything unreadable is page 1.
func pageParam(r *http.Request, name string) int {
	n, err := strconv.Atoi(r.URL.Query().Get(name))
	switch {
	case err != nil && n > 0: // out of range: strconv saturates
		return maxPage
	case err != nil || n < 1:
		return 1
	}
	return min(n, maxPage)
}
