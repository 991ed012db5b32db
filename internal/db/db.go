// Package db opens the PostgreSQL pool and runs the embedded migrations.
package db

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // registers pgx5://
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/migrations"
)

// Open connects a pool and checks that the database answers.
func Open(ctx context.Context, databaseURL string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	// Pages run short queries whose cost estimates can still be high (a
	// lookup through every partition a runtime value might prune to);
	// compiling them (JIT) costs more than it saves.
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	if err := poolSize(cfg, databaseURL); err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	return pool, nil
}

// DefaultConns is the pool's size unless CANBAO_DB_CONNS or the URL's
// pool_max_conns says otherwise: pgx's own default (4 on a small machine)
// kept 200 clerks saving forms waiting for a connection while PostgreSQL
// had CPU to spare.
var DefaultConns = max(8, 2*runtime.NumCPU())

// poolSize sets the pool's size: the URL's pool_max_conns, else
// CANBAO_DB_CONNS, else DefaultConns.
func poolSize(cfg *pgxpool.Config, databaseURL string) error {
	if strings.Contains(databaseURL, "pool_max_conns") {
		return nil
	}
	cfg.MaxConns = int32(DefaultConns)
	if v := os.Getenv("CANBAO_DB_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return fmt.Errorf("CANBAO_DB_CONNS=%q: want a number of connections from 1 to 1000", v)
		}
		cfg.MaxConns = int32(n)
	}
	return nil
}

// Migrate brings the schema up to the newest embedded migration.
func Migrate(databaseURL string) error {
	if err := prepare(databaseURL); err != nil {
		return err
	}
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return err
	}
	m, err := migrate.NewWithSourceInstance("iofs", src, migrateURL(databaseURL))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer func() { _, _ = m.Close() }()
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// prepare runs migrations.Prepare, the step golang-migrate cannot take for
// a database created from an early main.
func prepare(databaseURL string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close(ctx)
	return migrations.Prepare(ctx, conn)
}

// migrateURL rewrites a postgres:// URL (or keyword/value string) into the
// pgx5:// scheme golang-migrate's pgx v5 driver registers.
func migrateURL(databaseURL string) string {
	if u, err := url.Parse(databaseURL); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Scheme = "pgx5"
		return u.String()
	}
	if strings.HasPrefix(databaseURL, "pgx5://") {
		return databaseURL
	}
	// keyword/value form: convert through pgx's parser.
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return databaseURL
	}
	c := cfg.ConnConfig
	u := url.URL{Scheme: "pgx5", User: url.UserPassword(c.User, c.Password),
		Host: fmt.Sprintf("%s:%d", c.Host, c.Port), Path: "/" + c.Database}
	return u.String()
}
