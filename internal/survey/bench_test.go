package survey_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/survey"
)

// BenchmarkPublishRoundCounty publishes a round of every survey target of
// the city-sized county (290,000 households, 1,000,000 persons;
// CANBAO_BENCH_HOUSEHOLDS overrides) with their households. The issue asks
// for at most 10 s.
func BenchmarkPublishRoundCounty(b *testing.B) {
	households := 290_000
	if n, err := strconv.Atoi(os.Getenv("CANBAO_BENCH_HOUSEHOLDS")); err == nil && n > 0 {
		households = n
	}
	db, _ := pgtest.New(b)
	fixture.ImportCounty(b, db, households, 5, "csv")
	ctx := context.Background()
	run, err := compare.New(db).Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("load average before: %s", loadAverage())
	b.ResetTimer()
	var took time.Duration
	var res survey.PublishResult
	var steps []string
	for i := 0; i < b.N; i++ {
		start := time.Now()
		last, current := start, ""
		steps = steps[:0]
		res, err = survey.New(db).Publish(ctx, fixture.Actor, survey.PublishRequest{Region: fixture.County, RunID: run.RunID, Title: "bench"},
			func(step string) {
				if current != "" {
					steps = append(steps, fmt.Sprintf("%s %.2f s", current, time.Since(last).Seconds()))
				}
				last, current = time.Now(), step
			})
		if err != nil {
			b.Fatal(err)
		}
		took = time.Since(start)
		steps = append(steps, fmt.Sprintf("%s %.2f s", current, time.Since(last).Seconds()))
	}
	// One line: a benchmark's log shows only its first ten lines.
	b.Logf("steps: %s", strings.Join(steps, ", "))
	b.Logf("load average after: %s", loadAverage())
	b.Logf("published %d households, %d persons, %d targets of %d persons in %v", res.Households, res.Persons, res.Target, run.Persons, took)
	b.ReportMetric(took.Seconds(), "publish-s")
	b.ReportMetric(float64(res.Persons)/took.Seconds(), "persons/s")
}

// loadAverage is the machine's load average (Linux), to read a time beside.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
