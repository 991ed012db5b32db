package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/region"
	"github.com/canbao/canbao/internal/sheet"
)

// runCompare runs a comparison and prints its summary.
func runCompare(ctx context.Context, cfg Config, args []string) error {
	fl := flag.NewFlagSet("compare", flag.ContinueOnError)
	regionCode := fl.String("region", "", "region to compare (default: the installation's top region)")
	asOf := fl.String("as-of", time.Now().Format("2006-01-02"), "as-of date (比对基准日), YYYY-MM-DD; with --incremental: the last run's")
	incremental := fl.Bool("incremental", false, "re-compare only the persons touched since the region's last run")
	if err := fl.Parse(args); err != nil {
		return err
	}
	day, err := time.Parse("2006-01-02", *asOf)
	if err != nil {
		return fmt.Errorf("--as-of: %w", err)
	}
	if *incremental && !flagSet(fl, "as-of") {
		day = time.Time{} // the engine keeps the last run's
	}
	pool, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if *regionCode == "" {
		if *regionCode, err = region.NewStore(pool).Top(ctx); err != nil {
			return err
		}
	}
	cli := actor.CLI(osUser())
	res, err := compareOnce(ctx, pool, cli, compare.Request{Region: *regionCode, AsOf: day, Incremental: *incremental})
	if err != nil {
		return err
	}
	return printSummary(ctx, pool, cli, res.RunID, *regionCode)
}

// flagSet tells whether a flag was given on the command line.
func flagSet(fl *flag.FlagSet, name string) bool {
	set := false
	fl.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// compareOnce runs a comparison as a job in the foreground.
func compareOnce(ctx context.Context, pool *pgxpool.Pool, a actor.Actor, req compare.Request) (compare.RunResult, error) {
	var res compare.RunResult
	asOf := req.AsOf.Format("2006-01-02")
	if req.AsOf.IsZero() {
		asOf = "沿用上次比对"
	}
	j, err := foreground(ctx, pool, compare.New(pool).Job(a, req, req.Region+"，基准日 "+asOf, &res))
	if err != nil {
		return res, err
	}
	fmt.Printf("比对批次 #%d：区划 %s，基准日 %s，记录 %d，关联 %d，待审核 %d，未匹配 %d，人员 %d，用时 %.1f 秒，任务 #%d\n",
		res.RunID, req.Region, asOf, res.Records, res.Linked, res.Review, res.Unmatched, res.Persons,
		res.Duration.Seconds(), j.ID)
	switch {
	case res.Incremental:
		fmt.Printf("增量比对：%s\n", res.Note)
	case req.Incremental:
		fmt.Printf("已改为全量比对：%s\n", res.Note)
	}
	var steps []string
	for _, st := range res.Steps {
		steps = append(steps, fmt.Sprintf("%s %.1f 秒", st.Step, st.Duration.Seconds()))
	}
	fmt.Printf("  各步用时：%s\n", strings.Join(steps, "，"))
	return res, nil
}

func printSummary(ctx context.Context, pool *pgxpool.Pool, a actor.Actor, runID int64, regionCode string) error {
	total, _, err := compare.New(pool).Summary(ctx, a, runID, regionCode)
	if err != nil {
		return err
	}
	for _, m := range compare.Metrics {
		fmt.Printf("  %-12s %8d\n", m.Label, total.Counts[m.Key])
	}
	for _, k := range []string{compare.MetricReview, compare.MetricUnmatched} {
		fmt.Printf("  %-12s %8d\n", compare.RecordMetricLabel(k), total.Counts[k])
	}
	return nil
}

// runExport writes a comparison's results or unmatched records to a file.
func runExport(ctx context.Context, cfg Config, args []string) error {
	if len(args) == 0 || (args[0] != "comparison" && args[0] != "unmatched") {
		return errors.New("usage: canbao export comparison|unmatched [--run ID|latest] [--region CODE] --out FILE.csv|.xlsx")
	}
	fl := flag.NewFlagSet("export", flag.ContinueOnError)
	runArg := fl.String("run", "latest", "run ID or latest")
	regionCode := fl.String("region", "", "region (default: the run's region)")
	out := fl.String("out", "", "output file (.csv or .xlsx)")
	if err := fl.Parse(args[1:]); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("--out is required")
	}
	pool, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	eng := compare.New(pool)
	cli := actor.CLI(osUser())
	run, err := pickRun(ctx, pool, eng, cli, *runArg, *regionCode)
	if err != nil {
		return err
	}
	if *regionCode == "" {
		*regionCode = run.RegionCode
	}
	w, err := sheet.Create(*out)
	if err != nil {
		return err
	}
	var n int
	if args[0] == "comparison" {
		n, err = eng.Export(ctx, cli, run.ID, *regionCode, w)
	} else {
		n, err = eng.ExportUnmatched(ctx, cli, run.ID, *regionCode, w)
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Printf("已导出 %d 行到 %s（比对批次 #%d）\n", n, *out, run.ID)
	return nil
}

func pickRun(ctx context.Context, pool *pgxpool.Pool, eng *compare.Engine, a actor.Actor, arg, regionCode string) (compare.Run, error) {
	if arg != "latest" {
		id, err := strconv.ParseInt(arg, 10, 64)
		if err != nil {
			return compare.Run{}, fmt.Errorf("--run: %w", err)
		}
		return eng.GetRun(ctx, a, id)
	}
	if regionCode == "" {
		top, err := region.NewStore(pool).Top(ctx)
		if err != nil {
			return compare.Run{}, err
		}
		regionCode = top
	}
	in, err := a.Narrowed(regionCode)
	if err != nil {
		return compare.Run{}, err
	}
	run, ok, err := eng.Latest(ctx, in)
	if err == nil && !ok {
		err = fmt.Errorf("区划 %s 还没有完成的比对", regionCode)
	}
	return run, err
}
