package imports_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/source"
)

func writeResidents(t *testing.T, dir, name string, first, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("公民身份号码,姓名,居住地区划代码\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%s,居民%d,440981107204\n", id18(fmt.Sprintf("44098119800101%03d", first+i)), first+i)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReplaceNeedsForce: the CLI path of the confirmation. A much smaller
// extract stops with a ReplaceError and changes nothing (not even a
// 'failed' line); with Force it replaces the old one.
func TestReplaceNeedsForce(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	ctx := context.Background()
	dir := t.TempDir()
	im := imports.New(db)
	req := func(path string) imports.Request {
		return imports.Request{Kind: source.Resident, Region: "440981", Path: path, TempDir: dir}
	}
	big, err := im.Import(ctx, fixture.Actor, req(writeResidents(t, dir, "big.csv", 0, 30)), nil)
	if err != nil {
		t.Fatal(err)
	}
	small := req(writeResidents(t, dir, "small.csv", 100, 5))
	_, err = im.Import(ctx, fixture.Actor, small, nil)
	var re *imports.ReplaceError
	if !errors.As(err, &re) || re.Old != 30 || re.New != 5 || apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("small extract: %v, want a ReplaceError 30 → 5", err)
	}
	var batches int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM import_batch`), &batches)
	if batches != 1 {
		t.Errorf("%d batches after the stopped import, want 1", batches)
	}
	small.Force = true
	res, err := im.Import(ctx, fixture.Actor, small, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Superseded) != 1 || res.Superseded[0] != big.BatchID {
		t.Errorf("forced import superseded %v, want [%d]", res.Superseded, big.BatchID)
	}
}

// TestHeaderOnlyRefused: a file with no data row is no batch.
func TestHeaderOnlyRefused(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	ctx := context.Background()
	dir := t.TempDir()
	path := writeResidents(t, dir, "empty.csv", 0, 0)
	if _, err := imports.Open(path, source.Resident); err == nil || !strings.Contains(apperr.Message(err), "没有数据行") {
		t.Errorf("preview of a header-only file: %v", err)
	}
	_, err := imports.New(db).Import(ctx, fixture.Actor, imports.Request{Kind: source.Resident, Region: "440981", Path: path, TempDir: dir, Force: true}, nil)
	if err == nil || !strings.Contains(apperr.Message(err), "没有数据行") {
		t.Errorf("import of a header-only file: %v", err)
	}
	var done int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM import_batch WHERE status = 'done'`), &done)
	if done != 0 {
		t.Errorf("%d valid batches from a header-only file", done)
	}
}
