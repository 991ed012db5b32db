package pgtest

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

// MustScan scans row (a QueryRow result or the current row of a Query) into
// dst and fails t on error, so a query that went wrong is never read as zeros.
func MustScan(t testing.TB, row pgx.Row, dst ...any) {
	t.Helper()
	if err := row.Scan(dst...); err != nil {
		t.Fatalf("scan: %v", err)
	}
}
