package compare

import (
	"context"
	"errors"
	"testing"

	"github.com/canbao/canbao/internal/pgtest"
)

// TestWithCachedPlans: the writes inside run with the server's plan cache
// mode, and the run's forced custom plans hold again after them.
func TestWithCachedPlans(t *testing.T) {
	pool, _ := pgtest.New(t)
	ctx := context.Background()
	e := New(pool)
	conn, err := e.workConn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	mode := func() string {
		t.Helper()
		var m string
		if err := tx.QueryRow(ctx, `SELECT current_setting('plan_cache_mode')`).Scan(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := mode(); m != "force_custom_plan" {
		t.Fatalf("the run's connection plans with %q", m)
	}
	r := &run{tx: tx}
	var inside string
	if err := r.withCachedPlans(ctx, func() error { inside = mode(); return nil }); err != nil {
		t.Fatal(err)
	}
	if inside != "auto" {
		t.Errorf("inside: %q, want auto", inside)
	}
	if m := mode(); m != "force_custom_plan" {
		t.Errorf("after: %q, want force_custom_plan again", m)
	}
	boom := errors.New("boom")
	if err := r.withCachedPlans(ctx, func() error { return boom }); !errors.Is(err, boom) {
		t.Errorf("fn's error: got %v", err)
	}
}
