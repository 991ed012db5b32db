package server_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/indicator"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/report"
	"github.com/canbao/canbao/internal/survey"
)

// BenchmarkSparseReaders times the readers of a run's persons on a full
// run and on its sparse twin (pgtest.SparseTwin: the rows unlike an
// earlier run's, the rest read from that run), the county of
// CANBAO_BENCH_HOUSEHOLDS households (default 29,000, about 100,000
// persons) compared, given newer extracts and compared again: list pages
// (first, survey, deep, searched), a person's records and history, the
// result export, the report rows' preparation, a round's publication and
// the indicators. Each is timed twice per run, alternating, with the load
// average.
func BenchmarkSparseReaders(b *testing.B) {
	households := 29_000
	if n, err := strconv.Atoi(os.Getenv("CANBAO_BENCH_HOUSEHOLDS")); err == nil && n > 0 {
		households = n
	}
	ctx := context.Background()
	e := newEnv(b)
	fixture.ImportCounty(b, e.db, households, 3, "csv")
	eng := compare.New(e.db)
	req := compare.Request{Region: fixture.County, AsOf: fixture.AsOf}
	a, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		b.Fatal(err)
	}
	fixture.ImportNewer(b, e.db, 5, demo.KindHukou, demo.KindDeath, demo.KindResidence, demo.KindStudent)
	full, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		b.Fatal(err)
	}
	tw := pgtest.SparseTwin(b, e.db, a.RunID, full.RunID)
	if _, err := e.db.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Logf("run #%d of %d persons; its twin #%d stores %d of them (%d only for their records), %d gone",
		full.RunID, full.Persons, tw.Run, tw.Stored, tw.Kept, tw.Gone)
	var ids []string
	rows, err := e.db.Query(ctx, `(SELECT id_number FROM run_person_row WHERE run_id = $1 ORDER BY id_number LIMIT 10)
		UNION ALL (SELECT id_number FROM run_persons($1) WHERE NOT changed ORDER BY id_number DESC LIMIT 10)`, tw.Run)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id string
		pgtest.MustScan(b, rows, &id)
		ids = append(ids, id)
	}
	rows.Close()
	persons, surveyed := compare.Metrics[0], compare.Metrics[len(compare.Metrics)-1]
	readers := []struct {
		name string
		read func(run int64) error
	}{
		{"list page", func(run int64) error {
			_, err := eng.Persons(ctx, fixture.Actor, run, fixture.County, persons, "", list.Query{Page: 1, Size: 50})
			return err
		}},
		{"survey list page", func(run int64) error {
			_, err := eng.Persons(ctx, fixture.Actor, run, fixture.County, surveyed, "", list.Query{Page: 1, Size: 50})
			return err
		}},
		{"list page 1000", func(run int64) error {
			_, err := eng.Persons(ctx, fixture.Actor, run, fixture.County, persons, "", list.Query{Page: 1000, Size: 50})
			return err
		}},
		{"searched list with count", func(run int64) error {
			_, err := eng.Persons(ctx, fixture.Actor, run, fixture.County, persons, "李", list.Query{Page: 1, Size: 50})
			return err
		}},
		{"20 persons' records", func(run int64) error {
			for _, id := range ids {
				if _, err := eng.LinkedRecords(ctx, fixture.Actor, run, id); err != nil {
					return err
				}
			}
			return nil
		}},
		{"export", func(run int64) error {
			_, err := eng.Export(ctx, fixture.Actor, run, fixture.County, discard{})
			return err
		}},
		{"report rows", func(run int64) error {
			for _, q := range []string{`DELETE FROM report_count WHERE run_id = $1`, `DELETE FROM report_person WHERE run_id = $1`,
				`DELETE FROM report_run WHERE run_id = $1`} {
				if _, err := e.db.Exec(ctx, q, run); err != nil {
					return err
				}
			}
			_, err := report.NewStore(e.db).Prepare(ctx, run, nil)
			return err
		}},
		{"round publication", func(run int64) error {
			_, err := survey.New(e.db).Publish(ctx, fixture.Actor, survey.PublishRequest{Region: fixture.County, RunID: run, Title: "基准"}, nil)
			return err
		}},
		{"indicators", func(run int64) error {
			// The other run is hidden, so that this one is the county's current.
			other := full.RunID + tw.Run - run
			if _, err := e.db.Exec(ctx, `UPDATE comparison_run SET status = 'failed' WHERE id = $1`, other); err != nil {
				return err
			}
			defer func() { _, _ = e.db.Exec(ctx, `UPDATE comparison_run SET status = 'done' WHERE id = $1`, other) }()
			s, err := indicator.LoadScope(ctx, e.db, "4409", time.Now())
			if err == nil {
				_, err = indicator.Compute(ctx, e.db, s)
			}
			return err
		}},
	}
	b.ResetTimer()
	for range b.N {
		for _, r := range readers {
			var took [2][]string
			for range 2 {
				for i, run := range []int64{full.RunID, tw.Run} {
					start := time.Now()
					if err := r.read(run); err != nil {
						b.Fatalf("%s of run %d: %v", r.name, run, err)
					}
					took[i] = append(took[i], time.Since(start).Round(100*time.Microsecond).String())
				}
			}
			load, _ := os.ReadFile("/proc/loadavg")
			b.Logf("%-26s full %-22s sparse %-22s load %s", r.name, strings.Join(took[0], " "), strings.Join(took[1], " "),
				strings.Join(strings.Fields(string(load))[:3], " "))
		}
	}
}

// discard is an export's sheet that keeps nothing.
type discard struct{}

func (discard) Write([]string) error    { return nil }
func (discard) WriteValues([]any) error { return nil }
func (discard) Close() error            { return nil }
