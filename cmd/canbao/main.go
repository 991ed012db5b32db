// Command canbao is the whole product: the web server and the CLI that
// bureau staff and administrators use beside it.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `canbao: 全民参保登记系统

usage:
  canbao serve                      serve the web interface (CANBAO_ADDR, default localhost:8080)
  canbao migrate                    apply database migrations
  canbao regions import [--prefix CODE] [DIR|FILE...]
                                    load administrative divisions (default: the shipped national tables)
  canbao user add --username U --name N --role R --region CODE   (password from CANBAO_PASSWORD or stdin)
  canbao user passwd U              set a new password (from CANBAO_PASSWORD or stdin)
  canbao user disable U | enable U
  canbao import --kind K [--region CODE] [--source S] FILE...
                                    import department extracts (K: 户籍人口 居住人口 参保信息 死亡信息 在校学生)
  canbao compare [--region CODE] [--as-of YYYY-MM-DD] [--incremental]
                                    run a comparison (数据比对) and print its summary
  canbao export comparison|unmatched [--run ID|latest] [--region CODE] --out FILE.csv|.xlsx
  canbao demo                       migrate and load the demo city (茂名), accounts, data and a comparison
  canbao demo generate [--county C] [--households N] [--out DIR]
                                    write a county's dirty extracts and their ground truth
  canbao pg start|stop [--dir D] [--port P]
                                    a local PostgreSQL cluster for development (prints its URL)
  canbao pg run --temp -- CMD...    run CMD against a throwaway cluster (used by make test)

configuration comes from environment variables; see README.md.`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := loadConfig()
	log := newLogger(cfg)
	if err := run(ctx, cfg, log, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "canbao:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg Config, log *slog.Logger, args []string) error {
	if len(args) == 0 {
		fmt.Println(usage)
		return nil
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, cfg, log)
	case "migrate":
		return runMigrate(cfg)
	case "regions":
		return runRegions(ctx, cfg, args[1:])
	case "user":
		return runUser(ctx, cfg, args[1:])
	case "import":
		return runImport(ctx, cfg, args[1:])
	case "compare":
		return runCompare(ctx, cfg, args[1:])
	case "export":
		return runExport(ctx, cfg, args[1:])
	case "demo":
		return runDemo(ctx, cfg, log, args[1:])
	case "pg":
		return runPG(ctx, cfg, args[1:])
	case "help", "-h", "--help":
		fmt.Println(usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n\n%s", args[0], usage)
}
