package compare_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/registry"
	"github.com/canbao/canbao/internal/source"
)

// benchIncremental measures issue 13's figures on the county
// BenchmarkComparisonCity compared: a newer 户籍人口 extract with about 1%
// of its persons changed (renamed, dead, gone, born) is imported, then the
// incremental re-comparison runs and, from the same base, a full one; and
// a person's entry as of a past day is read for 200 persons.
func benchIncremental(b *testing.B, db *pgxpool.Pool, gen demo.Result) {
	ctx := context.Background()
	changed := changeHukou(b, db, gen, 100)
	eng := compare.New(db)
	stop := fixture.CPUProfile(b, "CANBAO_BENCH_INCREMENTAL_PROFILE")
	t := time.Now()
	inc, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: asOf, Incremental: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	incD := time.Since(t)
	stop()
	for _, st := range inc.Steps {
		fmt.Printf("  incremental %s %v\n", st.Step, st.Duration)
	}
	if !inc.Incremental {
		b.Fatalf("the incremental run ran in full: %s", inc.Note)
	}
	// The full run from the same base (the incremental run hidden meanwhile).
	if _, err := db.Exec(ctx, `UPDATE comparison_run SET status = 'failed' WHERE id = $1`, inc.RunID); err != nil {
		b.Fatal(err)
	}
	t = time.Now()
	full, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: asOf}, nil)
	if err != nil {
		b.Fatal(err)
	}
	fullD := time.Since(t)
	for _, st := range full.Steps {
		fmt.Printf("  full %s %v\n", st.Step, st.Duration)
	}
	if _, err := db.Exec(ctx, `UPDATE comparison_run SET status = 'done' WHERE id = $1`, inc.RunID); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("%d hukou rows changed; incremental %v (%s, %d of %d records read; %v until its commit), full %v (%d records; %v): %.0f%%\n",
		changed, incD, inc.Note, inc.Read, inc.Records, inc.Duration, fullD, full.Records, full.Duration, 100*incD.Seconds()/fullD.Seconds())
	b.ReportMetric(incD.Seconds(), "incremental-s")
	b.ReportMetric(fullD.Seconds(), "full-after-change-s")
	b.ReportMetric(100*incD.Seconds()/fullD.Seconds(), "incremental-%")

	// A person's entry as of a past day, as the page reads it.
	rows, err := db.Query(ctx, `SELECT id_number FROM person TABLESAMPLE SYSTEM (1) LIMIT 200`)
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	store := registry.NewStore(db)
	var times []time.Duration
	for _, id := range ids {
		t := time.Now()
		if _, err := store.PersonAsOf(ctx, fixture.Actor, id, asOf.AddDate(0, -1, 0)); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(t))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	if len(times) > 0 {
		p50, p95 := times[len(times)/2], times[len(times)*95/100]
		fmt.Printf("person as of a day: %d reads, p50 %v, p95 %v, max %v\n", len(times), p50, p95, times[len(times)-1])
		b.ReportMetric(float64(p95.Microseconds())/1000, "asof-p95-ms")
	}
}

// changeHukou imports a newer 户籍人口 extract of the county with one row
// in every `every` renamed, dead, removed or doubled as a newborn, and
// returns how many rows it changed.
func changeHukou(b *testing.B, db *pgxpool.Pool, gen demo.Result, every int) int {
	var path string
	for _, f := range gen.Files {
		if f.Kind == string(source.Hukou) {
			path = f.Path
		}
	}
	rows := readAnyCSV(b, path)
	head := 0
	for i, r := range rows {
		if slices.ContainsFunc(r, func(c string) bool { return strings.Contains(c, "身份") }) {
			head = i
			break
		}
	}
	col := func(name string) int {
		for i, c := range rows[head] {
			if strings.Contains(c, name) {
				return i
			}
		}
		b.Fatalf("no column %s", name)
		return -1
	}
	idCol, nameCol, statusCol := col("身份"), col("姓名"), col("人口状态")
	rng := rand.New(rand.NewPCG(13, 13))
	out := slices.Clone(rows[:head+1])
	n := 0
	for k, r := range rows[head+1:] {
		if k%every != every/2 {
			out = append(out, r)
			continue
		}
		n++
		r = slices.Clone(r)
		switch rng.IntN(4) {
		case 0:
			r[nameCol] += "华"
		case 1:
			r[statusCol] = "死亡"
		case 2:
			continue // gone
		case 3:
			out = append(out, r)
			born := slices.Clone(r)
			if id := idcard.Parse(born[idCol]).Norm; len(id) == 18 {
				body := id[:14] + "9" + id[15:17]
				born[idCol] = withCheck(body)
				born[nameCol] = "新" + born[nameCol]
			}
			r = born
		}
		out = append(out, r)
	}
	dir := b.TempDir()
	p := filepath.Join(dir, "户籍人口_新.csv")
	writeCSV(b, p, out)
	start := time.Now()
	req := imports.Request{Kind: source.Hukou, Region: fixture.County, Path: p, TempDir: dir}
	if _, err := imports.New(db).Import(context.Background(), fixture.Actor, req, nil); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("newer 户籍人口 extract imported in %v\n", time.Since(start))
	return n
}
