package compare_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/source"
)

// benchHouseholds sizes the city-sized county: about 290,000 households
// give 1,000,000 persons in 户籍人口 and about 2,000,000 enrollment rows.
// CANBAO_BENCH_HOUSEHOLDS overrides it for a quick run.
func benchHouseholds() int {
	if n, err := strconv.Atoi(os.Getenv("CANBAO_BENCH_HOUSEHOLDS")); err == nil && n > 0 {
		return n
	}
	return 290_000
}

// BenchmarkComparisonCity runs the full comparison on a city-sized county
// and, in the same run, the bare SQL baseline of the issue: a left join of
// the 户籍 rows to the 参保 rows on the ID, grouped per person.
func BenchmarkComparisonCity(b *testing.B) {
	start := time.Now()
	db, gen := countyFormat(b, benchHouseholds(), 5, "csv")
	ctx := context.Background()
	var hukouRows, enrollRows int
	if err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE b.kind = '户籍人口'), count(*) FILTER (WHERE b.kind = '参保信息')
		FROM source_record s JOIN import_batch b ON b.id = s.batch_id`).Scan(&hukouRows, &enrollRows); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("generated and imported %d persons (%d 户籍 rows, %d 参保 rows, %d rows in all) in %v\n",
		gen.Persons, hukouRows, enrollRows, gen.Records, time.Since(start))
	b.ResetTimer()
	var full, base time.Duration
	for i := 0; i < b.N; i++ {
		base = baseline(b)(ctx, db)
		t := time.Now()
		res, err := compare.New(db).Run(ctx, fixture.Actor, compare.Request{Region: "440981", AsOf: asOf}, nil)
		if err != nil {
			b.Fatal(err)
		}
		full = time.Since(t)
		for _, st := range res.Steps {
			fmt.Printf("  %s %v\n", st.Step, st.Duration)
		}
		fmt.Printf("full comparison %v (%d records, %d persons); baseline %v; ratio %.1f×\n",
			full, res.Records, res.Persons, base, full.Seconds()/base.Seconds())
	}
	b.ReportMetric(full.Seconds(), "run-s")
	b.ReportMetric(base.Seconds(), "baseline-s")
	b.ReportMetric(full.Seconds()/base.Seconds(), "ratio")
	benchIncremental(b, db, gen)
}

func baseline(b *testing.B) func(context.Context, dbExec) time.Duration {
	return func(ctx context.Context, db dbExec) time.Duration {
		var pension, medical []string
		for _, s := range source.Schemes() {
			switch s.Group {
			case source.GroupPension:
				pension = append(pension, s.Key)
			case source.GroupMedical:
				medical = append(medical, s.Key)
			}
		}
		if _, err := db.Exec(ctx, `DROP TABLE IF EXISTS baseline`); err != nil {
			b.Fatal(err)
		}
		t := time.Now()
		_, err := db.Exec(ctx, `
			CREATE TABLE baseline AS
			SELECT h.id_norm,
			       coalesce(bool_or(e.scheme = ANY($1) AND coalesce(e.enroll_status, 1) <> 4 AND coalesce(e.pay_status, 1) <> 3), false) AS pension,
			       coalesce(bool_or(e.scheme = ANY($2) AND coalesce(e.enroll_status, 1) <> 4 AND coalesce(e.pay_status, 1) <> 3), false) AS medical
			FROM (SELECT s.id_norm FROM source_record s JOIN import_batch b ON b.id = s.batch_id WHERE b.kind = '户籍人口') h
			LEFT JOIN (SELECT s.* FROM source_record s JOIN import_batch b ON b.id = s.batch_id WHERE b.kind = '参保信息') e
			       ON e.id_norm = h.id_norm
			GROUP BY h.id_norm`, pension, medical)
		if err != nil {
			b.Fatal(err)
		}
		return time.Since(t)
	}
}
