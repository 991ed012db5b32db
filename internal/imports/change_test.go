package imports_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/batchdiff"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/source"
)

// TestImportRecordsChange: a newer extract read the same way as the one
// it supersedes records what changed (residents 10–39 → 12–41: two gone,
// two new, the others under new lines); one whose columns differ records
// nothing (the comparison then matches the batches itself), nor does the
// first extract of its kind.
func TestImportRecordsChange(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	ctx := context.Background()
	dir := t.TempDir()
	im := imports.New(db)
	imp := func(path string) int64 {
		t.Helper()
		res, err := im.Import(ctx, fixture.Actor, imports.Request{Kind: source.Resident, Region: "440981", Path: path, TempDir: dir}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.BatchID
	}
	first := imp(writeResidents(t, dir, "a.csv", 10, 30))
	second := imp(writeResidents(t, dir, "b.csv", 12, 30))
	var n int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM batch_change`), &n)
	if n != 1 {
		t.Fatalf("%d changes recorded, want 1", n)
	}
	d, ok, err := batchdiff.Load(ctx, db, first, second)
	if err != nil || !ok {
		t.Fatalf("no change from %d to %d: %v", first, second, err)
	}
	// Lines 2–31 hold residents 10–39, then 12–41.
	if !slices.Equal(d.Removed, []int32{2, 3}) || !slices.Equal(d.Added, []int32{30, 31}) || len(d.IDs) != 4 {
		t.Errorf("change %+v", d)
	}
	for l := int32(4); l <= 31; l++ {
		if d.LineMap[l] != l-2 {
			t.Errorf("line %d now %d, want %d", l, d.LineMap[l], l-2)
		}
	}

	// The columns in another order: another layout.
	body, err := os.ReadFile(writeResidents(t, dir, "c.csv", 12, 30))
	if err != nil {
		t.Fatal(err)
	}
	var swapped []string
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		f := strings.Split(line, ",")
		swapped = append(swapped, f[1]+","+f[0]+","+f[2])
	}
	p := filepath.Join(dir, "d.csv")
	if err := os.WriteFile(p, []byte(strings.Join(swapped, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	imp(p)
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM batch_change`), &n)
	if n != 1 {
		t.Errorf("%d changes recorded after an extract of another layout, want 1", n)
	}
}
