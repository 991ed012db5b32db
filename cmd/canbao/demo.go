package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/canbao/canbao/internal/auth"
	"github.com/canbao/canbao/internal/db"
	"github.com/canbao/canbao/internal/region"
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
	{Username: "admin", DisplayName: "系统管理员", Role: auth.Admin, RegionCode: demoCity},
	{Username: "city", DisplayName: "市级经办员", Role: auth.City, RegionCode: demoCity},
	{Username: "county", DisplayName: "高州县级经办员", Role: auth.County, RegionCode: demoCounty},
	{Username: "township", DisplayName: "镇江镇经办员", Role: auth.Township, RegionCode: demoTownship},
	{Username: "leader", DisplayName: "领导", Role: auth.Leader, RegionCode: demoCity},
}

// runDemo prepares the demo installation; every step is idempotent so
// `make run` can be repeated.
func runDemo(ctx context.Context, cfg Config, log *slog.Logger, args []string) error {
	if err := cfg.needDB(); err != nil {
		return err
	}
	if err := db.Migrate(cfg.DatabaseURL); err != nil {
		return err
	}
	pool, err := db.Open(ctx, cfg.DatabaseURL)
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
		if _, err := users.EnsureUser(ctx, u); err != nil {
			return fmt.Errorf("demo user %s: %w", u.Username, err)
		}
	}
	printLogins()
	return nil
}

func printLogins() {
	fmt.Println("\n  演示账户（密码均为 " + demoPassword + "）:")
	for _, u := range demoUsers {
		fmt.Printf("    %-9s %s\n", u.Username, u.Role.Label())
	}
}
