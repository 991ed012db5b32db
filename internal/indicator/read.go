package indicator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/region"
)

// Day is a snapshot day: when it was computed and from which runs and
// rounds.
type Day struct {
	Day        time.Time
	ComputedAt time.Time
	DurationMS int
	Runs       []int64
	Rounds     []int64
}

// Line is a region's indicator values on a snapshot day, by indicator key.
type Line struct {
	Code, Name string
	Values     map[string]Value
	// Rest marks the line of persons placed on the parent itself (or on a
	// code the division tables do not know), shown so the lines add up.
	Rest bool
}

// Get is the value of ind on the line.
func (l Line) Get(ind Indicator) Value { return l.Values[ind.Key] }

// Point is a region's values on one day of a trend.
type Point struct {
	Day    time.Time
	Values map[string]Value
}

// BucketCount is a bucket of a dimension of the statistics of the not
// insured and its number of persons.
type BucketCount struct {
	Value string
	N     int64
}

// LatestDay is the newest snapshot day, false when there is none yet.
func (st *Store) LatestDay(ctx context.Context) (Day, bool, error) {
	const q = `SELECT day, computed_at, duration_ms, runs, rounds FROM indicator_day ORDER BY day DESC LIMIT 1`
	var d Day
	err := st.db.QueryRow(ctx, q).Scan(&d.Day, &d.ComputedAt, &d.DurationMS, &d.Runs, &d.Rounds)
	if errors.Is(err, pgx.ErrNoRows) {
		return Day{}, false, nil
	}
	if err != nil {
		return Day{}, false, fmt.Errorf("snapshot day: %w", err)
	}
	return d, true, nil
}

// Board is region (inside the actor's) on a snapshot day with every region
// directly below it (zeros where there is nothing, so a lagging child
// shows), and a rest line when the children do not add up to the region.
func (st *Store) Board(ctx context.Context, a actor.Actor, region string, day time.Time) (Line, []Line, error) {
	if err := a.CheckIn(actor.ReportRead, region, "区划 "+region); err != nil {
		return Line{}, nil, err
	}
	const q = `
		WITH kids AS (SELECT code, name FROM region WHERE parent_code = $2
		              UNION SELECT s.region_code, coalesce(r.name, s.region_code) FROM indicator_snapshot s
		              LEFT JOIN region r ON r.code = s.region_code
		              WHERE s.day = $1 AND s.region_code LIKE $2 || '%' AND s.region_code <> $2
		                AND length(s.region_code) = $3)
		SELECT k.code, k.name, s.indicator, s.numerator, s.denominator
		FROM kids k LEFT JOIN indicator_snapshot s ON s.day = $1 AND s.region_code = k.code
		UNION ALL
		SELECT $2, coalesce((SELECT name FROM region WHERE code = $2), ''), s.indicator, s.numerator, s.denominator
		FROM indicator_snapshot s WHERE s.day = $1 AND s.region_code = $2
		ORDER BY 1`
	rows, err := st.db.Query(ctx, q, day, region, childLen(region))
	if err != nil {
		return Line{}, nil, fmt.Errorf("board: %w", err)
	}
	defer rows.Close()
	total := Line{Code: region, Values: map[string]Value{}}
	var kids []Line
	for rows.Next() {
		var code, name string
		var ind *string
		var num, den *int64
		if err := rows.Scan(&code, &name, &ind, &num, &den); err != nil {
			return Line{}, nil, err
		}
		l := &total
		if code != region {
			if len(kids) == 0 || kids[len(kids)-1].Code != code {
				kids = append(kids, Line{Code: code, Name: name, Values: map[string]Value{}})
			}
			l = &kids[len(kids)-1]
		} else {
			total.Name = name
		}
		if ind != nil {
			l.Values[*ind] = Value{Num: *num, Den: *den}
		}
	}
	if err := rows.Err(); err != nil {
		return Line{}, nil, err
	}
	if total.Name == "" && region == "" {
		total.Name = "全部"
	}
	if rest, ok := restLine(total, kids); ok {
		kids = append(kids, rest)
	}
	return total, kids, nil
}

// restLine is what the region holds beyond its children's lines.
func restLine(total Line, kids []Line) (Line, bool) {
	rest := Line{Name: "未落到下级区划", Rest: true, Values: map[string]Value{}}
	some := false
	for k, v := range total.Values {
		for _, c := range kids {
			v.Num -= c.Values[k].Num
			v.Den -= c.Values[k].Den
		}
		if v != (Value{}) {
			some = true
		}
		rest.Values[k] = v
	}
	return rest, some && len(kids) > 0
}

// Trend is region's values on every snapshot day, oldest first.
func (st *Store) Trend(ctx context.Context, a actor.Actor, region string) ([]Point, error) {
	if err := a.CheckIn(actor.ReportRead, region, "区划 "+region); err != nil {
		return nil, err
	}
	const q = `
		SELECT d.day, s.indicator, s.numerator, s.denominator
		FROM indicator_day d JOIN indicator_snapshot s ON s.day = d.day AND s.region_code = $1
		ORDER BY d.day`
	rows, err := st.db.Query(ctx, q, region)
	if err != nil {
		return nil, fmt.Errorf("trend: %w", err)
	}
	defer rows.Close()
	var out []Point
	for rows.Next() {
		var day time.Time
		var ind string
		var v Value
		if err := rows.Scan(&day, &ind, &v.Num, &v.Den); err != nil {
			return nil, err
		}
		if len(out) == 0 || !out[len(out)-1].Day.Equal(day) {
			out = append(out, Point{Day: day, Values: map[string]Value{}})
		}
		out[len(out)-1].Values[ind] = v
	}
	return out, rows.Err()
}

// Breakdown is the statistics of the not insured in region on a snapshot
// day: per dimension, its buckets, largest first.
func (st *Store) Breakdown(ctx context.Context, a actor.Actor, region string, day time.Time) (map[string][]BucketCount, error) {
	if err := a.CheckIn(actor.ReportRead, region, "区划 "+region); err != nil {
		return nil, err
	}
	const q = `
		SELECT dimension, bucket, n FROM indicator_breakdown
		WHERE day = $1 AND region_code = $2 AND n > 0
		ORDER BY dimension, n DESC, bucket`
	rows, err := st.db.Query(ctx, q, day, region)
	if err != nil {
		return nil, fmt.Errorf("breakdown: %w", err)
	}
	defer rows.Close()
	out := map[string][]BucketCount{}
	for rows.Next() {
		var dim string
		var b BucketCount
		if err := rows.Scan(&dim, &b.Value, &b.N); err != nil {
			return nil, err
		}
		out[dim] = append(out[dim], b)
	}
	return out, rows.Err()
}

// Live computes region's (inside the actor's) counts now, for every region
// inside it: what a report for today shows before the day's snapshot.
func (st *Store) Live(ctx context.Context, a actor.Actor, region string, day time.Time) (Result, error) {
	if err := a.CheckIn(actor.ReportRead, region, "区划 "+region); err != nil {
		return Result{}, err
	}
	s, err := LoadScope(ctx, st.db, region, day)
	if err != nil {
		return Result{}, err
	}
	return Compute(ctx, st.db, s)
}

// childLen is region.ChildLen, named apart from the many region parameters here.
var childLen = region.ChildLen
