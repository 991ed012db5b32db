package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/source"
)

// loadNewerExtracts shows dynamic management in the demo: newer hukou,
// death, enrollment, residence and student extracts of the county, a few per cent changed,
// imported after the first comparison (each import derives its events,
// applying the clear ones and holding the rest for a clerk), then a
// comparison as of today, so the summary numbers move with them.
func loadNewerExtracts(ctx context.Context, pool *pgxpool.Pool, dir string, log *slog.Logger) error {
	today := source.Day(time.Now())
	files, err := demo.NewerExtracts(ctx, pool, demo.NewerOptions{County: demoCounty, Rate: 2, Seed: 2026, Today: today,
		Kinds: []string{demo.KindHukou, demo.KindDeath, demo.KindEnrollment, demo.KindResidence, demo.KindStudent}}, dir)
	if err != nil {
		return fmt.Errorf("newer demo extracts: %w", err)
	}
	for _, f := range files {
		req := imports.Request{Kind: source.Kind(f.Kind), Region: demoCounty, Source: f.Source, Path: f.Path,
			FileName: filepath.Base(f.Path), Force: true}
		if _, err := importOne(ctx, pool, demoActor, req); err != nil {
			return fmt.Errorf("import newer demo file %s: %w", f.Path, err)
		}
	}
	var events, pending int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'pending') FROM extract_event`).Scan(&events, &pending); err != nil {
		return err
	}
	log.Info("demo newer extracts", "files", len(files), "events", events, "pending", pending)
	_, err = compareOnce(ctx, pool, demoActor, compare.Request{Region: demoCounty, AsOf: today})
	return err
}
