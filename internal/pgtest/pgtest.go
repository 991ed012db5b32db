// Package pgtest gives each test its own PostgreSQL database, cloned from a
// migrated template, so tests run in parallel against a real server.
//
// The server comes from CANBAO_TEST_DATABASE_URL (set by `make test`, which
// starts a throwaway cluster). Without it tests are skipped locally but fail
// under CI=true, so CI can never pass by skipping.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/db"
)

const template = "canbao_template"

var (
	once    sync.Once
	onceErr error
)

// ServerURL returns the test server's URL, skipping or failing t when unset.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("CANBAO_TEST_DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CANBAO_TEST_DATABASE_URL is unset: run tests through `make test`")
		}
		t.Skip("CANBAO_TEST_DATABASE_URL is unset: run tests through `make test`")
	}
	return u
}

// New creates a fresh migrated database for t and drops it when t ends.
// It returns the pool and the database's URL (for code that opens its own).
func New(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	server := ServerURL(t)
	ctx := context.Background()
	once.Do(func() { onceErr = prepareTemplate(ctx, server) })
	if onceErr != nil {
		t.Fatalf("prepare template database: %v", onceErr)
	}
	name := "t_" + randomHex(8)
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if err := createFromTemplate(ctx, admin, name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	dbURL := withDatabase(server, name)
	pool, err := db.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pool.Close()
		c, err := pgx.Connect(context.Background(), server)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
			t.Error(err)
		}
	})
	return pool, dbURL
}

// prepareTemplate (re)builds the template database once per test binary.
// Several test binaries run at once, so an advisory lock serialises them and
// a marker comment records that this binary's migrations are applied.
func prepareTemplate(ctx context.Context, server string) error {
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(4242)`); err != nil {
		return err
	}
	defer func() { _, _ = admin.Exec(ctx, `SELECT pg_advisory_unlock(4242)`) }()
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, template).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := admin.Exec(ctx, `CREATE DATABASE `+template); err != nil {
			return err
		}
	}
	// Migrating an up-to-date template is a no-op, so every binary may call it.
	return db.Migrate(withDatabase(server, template))
}

// createFromTemplate retries while another test binary is briefly connected
// to the template (its no-op migration), which makes CREATE DATABASE fail.
func createFromTemplate(ctx context.Context, admin *pgx.Conn, name string) error {
	var err error
	for i := 0; i < 50; i++ {
		_, err = admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, template))
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "55006" {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

func withDatabase(server, name string) string {
	u, err := url.Parse(server)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
