package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/auth"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/region"
	"github.com/canbao/canbao/internal/report"
	"github.com/canbao/canbao/internal/source"
	"github.com/canbao/canbao/internal/survey"
)

// The demo city is 茂名 (4409), with 高州 (440981) as the county whose
// extracts are generated; one account per role, all with demoPassword.
const (
	demoCity     = "4409"
	demoCounty   = "440981"
	demoTownship = "440981107" // 镇江镇
	demoPassword = "Demo@2026"
)

var demoUsers = []auth.NewUser{
	{Username: "admin", DisplayName: "系统管理员", Role: actor.Admin, RegionCode: demoCity},
	{Username: "city", DisplayName: "市级经办员", Role: actor.City, RegionCode: demoCity},
	{Username: "county", DisplayName: "高州县级经办员", Role: actor.County, RegionCode: demoCounty},
	{Username: "township", DisplayName: "镇江镇经办员", Role: actor.Township, RegionCode: demoTownship},
	{Username: "member", DisplayName: "梁志强（第一调查组）", Role: actor.Township, RegionCode: demoTownship},
	{Username: "leader", DisplayName: "领导", Role: actor.Leader, RegionCode: demoCity},
}

// runDemo prepares the demo installation; every step is idempotent so
// `make run` can be repeated.
func runDemo(ctx context.Context, cfg Config, log *slog.Logger, args []string) error {
	if len(args) > 0 && args[0] == "generate" {
		return runDemoGenerate(args[1:])
	}
	pool, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	files, err := region.FilesIn(region.Embedded(), ".")
	if err != nil {
		return err
	}
	n, err := region.Import(ctx, pool, region.Embedded(), files, demoCity)
	if err != nil {
		return err
	}
	log.Info("demo regions", "city", demoCity, "changed", n)
	users := auth.NewStore(pool)
	for _, u := range demoUsers {
		u.Password = demoPassword
		if _, err := users.EnsureUser(ctx, demoActor, u); err != nil {
			return fmt.Errorf("demo user %s: %w", u.Username, err)
		}
	}
	if err := loadDemoData(ctx, pool, cfg, log); err != nil {
		return err
	}
	if _, err := survey.New(pool).Demo(ctx, demoActor, demoCounty, demoTownship); err != nil {
		return err
	}
	if err := survey.New(pool).DemoMember(ctx, demoActor, demoTownship, "member"); err != nil {
		return fmt.Errorf("demo team member: %w", err)
	}
	if err := survey.NewForms(pool).DemoForms(ctx, demoCounty, demoTownship); err != nil {
		return fmt.Errorf("demo survey forms: %w", err)
	}
	if err := loadDemoReport(ctx, pool, log); err != nil {
		return err
	}
	if err := report.Demo(ctx, report.NewStore(pool), demoActor, demoCity, demoCounty, time.Now()); err != nil {
		return fmt.Errorf("demo reports: %w", err)
	}
	printLogins()
	return nil
}

// demoActor sets the demo up: an administrator of everything, named demo
// in the audit trail as before.
var demoActor = actor.Actor{Username: "demo", Role: actor.Admin, RegionName: "全部", IP: "local"}

// demoAsOf is the as-of date the demo population is generated for; fixed so
// the demo is the same on every machine.
var demoAsOf = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

// demoHouseholds gives a county of about 20,000 people.
const demoHouseholds = 5800

// loadDemoData generates 高州's extracts and imports them, once: a database
// that already holds a batch for the county is left alone.
func loadDemoData(ctx context.Context, pool *pgxpool.Pool, cfg Config, log *slog.Logger) error {
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM import_batch WHERE `+actor.InScope("region_code", "$1")+` AND status = 'done'`, demoCounty).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		log.Info("demo data already imported", "batches", n)
		return nil
	}
	villages, err := countyVillages(ctx, pool, demoCounty)
	if err != nil {
		return err
	}
	dir := filepath.Join(cfg.DataDir, "demo")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	start := time.Now()
	res, err := demo.Generate(demo.Options{
		County: demoCounty, CountyName: "高州市", Villages: villages, Households: demoHouseholds, Seed: 2026,
		AsOf: demoAsOf, OtherCounties: otherCounties(demoCounty),
	}, dir)
	if err != nil {
		return fmt.Errorf("generate demo data: %w", err)
	}
	log.Info("demo data generated", "persons", res.Persons, "records", res.Records, "dir", dir, "ms", time.Since(start).Milliseconds())
	for _, f := range res.Files {
		req := imports.Request{Kind: source.Kind(f.Kind), Region: demoCounty, Path: f.Path, FileName: filepath.Base(f.Path)}
		if _, err := importOne(ctx, pool, demoActor, req); err != nil {
			return fmt.Errorf("import demo file %s: %w", f.Path, err)
		}
	}
	if _, err = compareOnce(ctx, pool, demoActor, compare.Request{Region: demoCounty, AsOf: demoAsOf}); err != nil {
		return err
	}
	return loadNewerExtracts(ctx, pool, dir, log)
}

func countyVillages(ctx context.Context, pool *pgxpool.Pool, county string) ([]demo.Village, error) {
	rows, err := pool.Query(ctx, `SELECT code, name FROM region WHERE `+actor.InScope("code", "$1")+` AND level = 5 ORDER BY code`, county)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[demo.Village])
}

func printLogins() {
	fmt.Println("\n  演示账户（密码均为 " + demoPassword + "）:")
	for _, u := range demoUsers {
		note := ""
		if u.Username == "member" {
			note = "（第一调查组组员，只看本组任务）"
		}
		fmt.Printf("    %-9s %s%s\n", u.Username, u.Role.Label(), note)
	}
}

// runDemoGenerate writes a county's extracts and the ground truth to a
// folder, without touching the database: the villages come from the
// shipped division tables.
func runDemoGenerate(args []string) error {
	fl := flag.NewFlagSet("demo generate", flag.ContinueOnError)
	county := fl.String("county", demoCounty, "6-digit county code")
	households := fl.Int("households", 1000, "number of households")
	out := fl.String("out", "demo-data", "output folder")
	seed := fl.Int64("seed", 1, "random seed (same seed, same files)")
	asOf := fl.String("as-of", demoAsOf.Format("2006-01-02"), "as-of date the truth is computed for")
	format := fl.String("format", "mixed", "csv, xlsx or mixed")
	if err := fl.Parse(args); err != nil {
		return err
	}
	day, err := time.Parse("2006-01-02", *asOf)
	if err != nil {
		return fmt.Errorf("--as-of: %w", err)
	}
	name, villages, err := region.EmbeddedCounty(*county)
	if err != nil {
		return err
	}
	opt := demo.Options{County: *county, CountyName: name, Households: *households, Seed: *seed, AsOf: day,
		Format: *format, OtherCounties: otherCounties(*county)}
	for _, v := range villages {
		opt.Villages = append(opt.Villages, demo.Village{Code: v.Code, Name: v.Name})
	}
	res, err := demo.Generate(opt, *out)
	if err != nil {
		return err
	}
	for _, f := range res.Files {
		fmt.Printf("%-40s %-8s %8d 行\n", filepath.Base(f.Path), f.Kind, f.Rows)
	}
	fmt.Printf("%d 人，%d 行；真值：%s, %s\n", res.Persons, res.Records, res.TruthRecords, res.TruthPersons)
	return nil
}

// otherCounties are the counties used for cross-region enrollments and
// migrants: a few of the same city and a few elsewhere.
func otherCounties(county string) []string {
	out := []string{"440902", "440904", "440982", "440983", "450102", "360102", "430102"}
	for i, c := range out {
		if c == county {
			out = append(out[:i], out[i+1:]...)
			break
		}
	}
	return out
}
