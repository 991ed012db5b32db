package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/region"
)

func runRegions(ctx context.Context, cfg Config, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return fmt.Errorf("usage: canbao regions import [--prefix CODE] [DIR|FILE...]")
	}
	fl := flag.NewFlagSet("regions import", flag.ContinueOnError)
	prefix := fl.String("prefix", "", "only codes inside this region (e.g. 4409)")
	if err := fl.Parse(args[1:]); err != nil {
		return err
	}
	pool, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	n, err := importRegions(ctx, pool, fl.Args(), *prefix)
	if err != nil {
		return err
	}
	fmt.Printf("regions: %d added or changed\n", n)
	return nil
}

// importRegions loads division files named on the command line, or the
// shipped national tables when none are named.
func importRegions(ctx context.Context, pool *pgxpool.Pool, args []string, prefix string) (int, error) {
	var (
		fsys  fs.FS
		files []string
		err   error
	)
	if len(args) == 0 {
		fsys = region.Embedded()
		files, err = region.FilesIn(fsys, ".")
	} else {
		fsys, files, err = region.OSFiles(args)
	}
	if err != nil {
		return 0, err
	}
	return region.Import(ctx, pool, fsys, files, prefix)
}
