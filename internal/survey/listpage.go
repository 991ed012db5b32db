package survey

import (
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/list"
)

// customPlan, passed before a list query's arguments, has PostgreSQL plan
// the query for the arguments it runs with. pgx prepares and caches each
// statement, and after five runs PostgreSQL may keep a generic plan for
// it, which cannot read a region's rows by the prefix LIKE $2 || '%'
// names nor tell a village from a county: a task list's generic plan
// walked the whole round for one township, the review queue's joined
// every household of the county to each form. A list costs a plan (well
// under a millisecond) instead.
const customPlan = pgx.QueryExecModeCacheDescribe

// inRegion is actor.InScope over a region code column in "C" collation
// (survey_household's, survey_count's) with the range of codes it implies
// (a code is digits, and ':' sorts after '9'): a cached statement's
// generic plan, which cannot read a LIKE pattern made of a parameter,
// reads that range from an index.
func inRegion(col, param string) string {
	return actor.InScope(col, param) + ` AND ` + col + ` >= ` + param + ` AND ` + col + ` < ` + param + ` || ':'`
}

// keyCol is one column of a list's order: its SQL expression and the SQL
// type a cursor's text is cast to. A key over two tables (a household's
// persons) marks the columns of the table the query walks in order as
// lead: the rows after the key start at or after the key's lead part,
// which the walk's index can seek to (a row comparison over both tables
// is only checked row by row).
type keyCol struct {
	expr, typ string
	lead      bool
}

// pageSQL is the rest of a list query after its conditions: the rows
// after lq.After (the previous page's last key, when the request followed
// a "next" link) or, for a page asked for by number, after skipping the
// rows before it; then the order of key and the limit. args are the
// query's arguments so far; the page's are appended.
func pageSQL(lq list.Query, key []keyCol, args []any) (string, []any) {
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	cols := make([]string, len(key))
	for i, k := range key {
		cols[i] = k.expr
	}
	var b strings.Builder
	if after, ok := cursor(lq, key); ok {
		ps := make([]string, len(key))
		lead := 0
		for i, k := range key {
			ps[i] = arg(after[i]) + "::" + k.typ
			if k.lead && lead == i {
				lead++
			}
		}
		if lead > 0 && lead < len(key) {
			b.WriteString(" AND (" + strings.Join(cols[:lead], ", ") + ") >= (" + strings.Join(ps[:lead], ", ") + ")")
		}
		b.WriteString(" AND (" + strings.Join(cols, ", ") + ") > (" + strings.Join(ps, ", ") + ")")
		b.WriteString(" ORDER BY " + strings.Join(cols, ", ") + " LIMIT " + arg(lq.Limit()))
		return b.String(), args
	}
	b.WriteString(" ORDER BY " + strings.Join(cols, ", ") + " LIMIT " + arg(lq.Limit()) + " OFFSET " + arg(lq.Offset()))
	return b.String(), args
}

// cursor is lq's previous-page key when it fits key: as many values, and
// numbers where key wants them (a cursor is sealed by the server, so this
// only guards against a list whose key changed between versions).
func cursor(lq list.Query, key []keyCol) ([]any, bool) {
	if len(lq.After) != len(key) {
		return nil, false
	}
	out := make([]any, len(key))
	for i, k := range key {
		if k.typ == "bigint" {
			n, err := strconv.ParseInt(lq.After[i], 10, 64)
			if err != nil {
				return nil, false
			}
			out[i] = n
			continue
		}
		out[i] = lq.After[i]
	}
	return out, true
}
