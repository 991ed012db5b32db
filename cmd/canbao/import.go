package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/dynamic"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/region"
	"github.com/canbao/canbao/internal/source"
)

func runImport(ctx context.Context, cfg Config, args []string) error {
	fl := flag.NewFlagSet("import", flag.ContinueOnError)
	kind := fl.String("kind", "", "户籍人口|居住人口|参保信息|死亡信息|在校学生")
	regionCode := fl.String("region", "", "region the extract belongs to (default: the whole installation's top region)")
	src := fl.String("source", "", "which extract this is (default: derived)")
	force := fl.Bool("force", false, "replace the current extract even when it had many times more rows")
	date := fl.String("extract-date", "", "the day the department took the extract, e.g. 2026-06-30 (default: today)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	k, ok := source.ParseKind(*kind)
	if !ok || fl.NArg() == 0 {
		return errors.New("usage: canbao import --kind 户籍人口|居住人口|参保信息|死亡信息|在校学生 [--region CODE] [--source S] [--extract-date YYYY-MM-DD] [--force] FILE...")
	}
	taken, err := imports.ParseExtractDate(*date)
	if err != nil {
		return errors.New(apperr.Message(err))
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
	failed := 0
	cli := actor.CLI(osUser())
	for _, path := range fl.Args() {
		req := imports.Request{Kind: k, Region: *regionCode, Source: *src, Path: path, FileName: filepath.Base(path), Force: *force,
			ExtractDate: taken}
		if _, err := importOne(ctx, pool, cli, req); err != nil {
			fmt.Fprintf(os.Stderr, "%s: 导入失败：%s\n", path, apperr.Message(err))
			var re *imports.ReplaceError
			if errors.As(err, &re) {
				fmt.Fprintln(os.Stderr, "  确认替代请加 --force 重新运行")
			}
			if apperr.KindOf(err) == apperr.Internal {
				fmt.Fprintln(os.Stderr, "  ", err)
			}
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files failed", failed, fl.NArg())
	}
	return nil
}

// importOne imports a file as a job in the foreground.
func importOne(ctx context.Context, pool *pgxpool.Pool, a actor.Actor, req imports.Request) (imports.Result, error) {
	var total int64
	if p, err := imports.Open(req.Path, req.Kind); err == nil {
		if st, err := os.Stat(req.Path); err == nil {
			total = p.EstimateRows(st.Size())
		}
	}
	var res imports.Result
	im := imports.New(pool).Then(dynamic.New(pool).AfterImport) // a newer extract's changes are derived in the same job
	j, err := foreground(ctx, pool, im.Job(a, req, total, &res))
	if err != nil {
		return res, err
	}
	fmt.Printf("%s: 批次 #%d（%s）读取 %d 行，接收 %d，拒绝 %d，标记 %d，用时 %.1f 秒（%.0f 行/秒），任务 #%d\n",
		req.FileName, res.BatchID, res.Source, res.Read, res.Accepted, res.Rejected, res.Marked,
		res.Duration.Seconds(), float64(res.Read)/max(res.Duration.Seconds(), 0.001), j.ID)
	if !req.ExtractDate.IsZero() {
		fmt.Printf("  数据日期 %s\n", req.ExtractDate.Format("2006-01-02"))
	}
	if len(res.Superseded) > 0 {
		fmt.Printf("  替代了旧批次 %v\n", res.Superseded)
	}
	return res, nil
}
