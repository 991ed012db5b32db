package indicator

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/pgtest"
)

// BenchmarkSnapshot times the daily snapshot (every indicator of every
// region) over a county of CANBAO_BENCH_PERSONS persons (default
// 1,000,000) written straight into one run: 30 townships of 12 villages,
// a twentieth outside the universe, a tenth pension 应参未参 and a tenth
// interrupted, a thirteenth medical 应参未参, a fiftieth 信息有误, all in
// the registry; and a survey round over its targets with two weeks of
// field work (demo.SurveyProgress). The server's load benchmark times the
// same snapshot over a generated, imported and compared county.
func BenchmarkSnapshot(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("CANBAO_BENCH_PERSONS")); err == nil && v > 0 {
		n = v
	}
	db, _ := pgtest.New(b)
	ctx := context.Background()
	steps := []string{
		`INSERT INTO region (code, name, level, parent_code) VALUES ('44', '广东省', 1, ''), ('4409', '茂名市', 2, '44'), ('440981', '高州市', 3, '4409')`,
		`INSERT INTO comparison_run (id, region_code, as_of, status) VALUES (1, '440981', '2026-06-30', 'done')`,
		`CREATE TABLE run_person_1 PARTITION OF run_person_row FOR VALUES IN (1)`,
		fmt.Sprintf(`INSERT INTO run_person_1 (run_id, id_number, name, region_code, in_universe, pension, medical, flags, survey)
		SELECT 1, id, 'p' || i, region, u, pension, medical, flags, u AND (pension = '%[1]s' OR medical = '%[1]s' OR flags <> 0)
		FROM (SELECT i, '440981' || to_char(date '1940-01-01' + i %% 25000, 'YYYYMMDD') || lpad((i / 25000)::text, 3, '0') || 'X' AS id,
		             '440981' || (100 + i %% 30) || (200 + (i / 30) %% 12) AS region, i %% 20 <> 0 AS u,
		             CASE WHEN i %% 20 = 0 THEN '不适用' WHEN i %% 10 = 1 THEN '%[1]s' WHEN i %% 10 = 2 THEN '缴费中断' ELSE '已参保' END AS pension,
		             CASE WHEN i %% 20 = 0 THEN '不适用' WHEN i %% 13 = 0 THEN '%[1]s' ELSE '已参保' END AS medical,
		             CASE WHEN i %% 50 = 7 THEN %[2]d ELSE 0 END AS flags
		      FROM generate_series(1, %[3]d) AS i) t`, compare.NotInsured, int(compare.FlagInfoError), n),
		`INSERT INTO person (id_number, name, identity_kind, region_code, first_source, last_source, first_kind, last_kind)
		SELECT id_number, name, '户籍人口', region_code, 1, 1, 'compare', 'compare' FROM run_person_1`,
		`ANALYZE run_person_1`, `ANALYZE person`,
	}
	for _, q := range steps {
		if _, err := db.Exec(ctx, q); err != nil {
			b.Fatalf("%s: %v", q[:40], err)
		}
	}
	now := time.Now()
	if _, err := demo.SurveyProgress(ctx, db, demo.Progress{Region: "440981", RunID: 1, Start: now.AddDate(0, 0, -14), Now: now,
		Deadline: now.AddDate(0, 0, 30)}); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{`ANALYZE survey_member`, `ANALYZE survey_household`, `ANALYZE survey_form`} {
		if _, err := db.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var res Result
	for range b.N {
		var err error
		if res, err = Snapshot(ctx, db, now); err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	c := res.Counts["440981"]
	fmt.Printf("snapshot of %d persons (%d to survey, %d visited): %.2f s, %d regions\n",
		c[Population], c[ToSurvey], c[Visited], sec, len(res.Counts))
	b.ReportMetric(sec, "s/snapshot")
	b.ReportMetric(float64(n)/sec, "persons/s")
}
