package indicator

import (
	"context"
	"fmt"
	"strings"
)

// Bucket is one cell of the statistics of the not insured: a dimension's
// value.
type Bucket struct {
	Dim, Value string
}

// Result is a computation's counts for the scope's region and every region
// inside it that has persons (all levels down to villages; each region's
// counts are the sum of its children's and of persons placed on the region
// itself).
type Result struct {
	Scope     Scope
	Counts    map[string]Counts
	Breakdown map[string]map[Bucket]int64
}

// Compute counts every part in the scope, in one pass over its facts,
// grouped by the persons' own region codes and added up to every level
// above them (up to the scope's region).
func Compute(ctx context.Context, db Querier, s Scope) (Result, error) {
	q, params := s.computeSQL()
	rows, err := db.Query(ctx, q, params...)
	if err != nil {
		return Result{}, fmt.Errorf("indicators: %w", err)
	}
	defer rows.Close()
	res := Result{Scope: s, Counts: map[string]Counts{}, Breakdown: map[string]map[Bucket]int64{}}
	n := make([]int64, len(Parts))
	dest := make([]any, 0, 5+len(Parts))
	var code string
	var reason, age, sex, scheme *string
	dest = append(dest, &code, &reason, &age, &sex, &scheme)
	for i := range n {
		dest = append(dest, &n[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return Result{}, fmt.Errorf("indicators: %w", err)
		}
		for _, at := range prefixes(code, s.Region) {
			c := res.Counts[at]
			if c == nil {
				c = Counts{}
				res.Counts[at] = c
			}
			for i, p := range Parts {
				c[p] += n[i]
			}
			if reason == nil {
				continue
			}
			b := res.Breakdown[at]
			if b == nil {
				b = map[Bucket]int64{}
				res.Breakdown[at] = b
			}
			notInsured := n[notInsuredCol]
			b[Bucket{DimReason, *reason}] += notInsured
			b[Bucket{DimAge, *age}] += notInsured
			b[Bucket{DimSex, *sex}] += notInsured
			b[Bucket{DimScheme, *scheme}] += notInsured
		}
	}
	if err := rows.Err(); err != nil {
		return Result{}, fmt.Errorf("indicators: %w", err)
	}
	if res.Counts[s.Region] == nil {
		res.Counts[s.Region] = Counts{}
	}
	return res, nil
}

// prefixes are the codes of the regions from top down to code itself
// (code's level prefixes: 2, 4, 6, 9, 12 digits) that lie inside top.
func prefixes(code, top string) []string {
	out := []string{}
	for _, n := range []int{0, 2, 4, 6, 9, 12} {
		if n > len(code) {
			break
		}
		if n >= len(top) {
			out = append(out, code[:n])
		}
	}
	if len(code) > 12 || !contains([]int{0, 2, 4, 6, 9, 12}, len(code)) {
		out = append(out, code) // a code of no standard length still counts in itself
	}
	return out
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// notInsuredCol is NotInsured's place among the part columns.
var notInsuredCol = func() int {
	for i, p := range Parts {
		if p == NotInsured {
			return i
		}
	}
	panic("indicator: NotInsured is not a part")
}()

// computeSQL counts every part of the scope's facts by region and the
// not-insured dimensions: each source's branch is counted on its own (its
// row estimate is sound there, so PostgreSQL hashes the groups instead of
// sorting a million rows) and the counts are added up.
func (s Scope) computeSQL() (string, []any) {
	branches, params := s.factBranches()
	counts := make([]string, 0, len(Parts))
	sums := make([]string, 0, len(Parts))
	for _, p := range Parts {
		counts = append(counts, "count(*) FILTER (WHERE "+string(p)+") AS "+string(p))
		sums = append(sums, "sum("+string(p)+")::bigint")
	}
	const dims = `region_code, reason, age_band, sex, scheme`
	grouped := make([]string, len(branches))
	for i, b := range branches {
		grouped[i] = `SELECT ` + dims + `, ` + strings.Join(counts, ", ") + ` FROM (` + b + `) f GROUP BY ` + dims
	}
	return `SELECT ` + dims + `, ` + strings.Join(sums, ", ") + `
		FROM (` + strings.Join(grouped, "\nUNION ALL\n") + `) g
		GROUP BY ` + dims, params
}
