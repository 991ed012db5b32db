package compare_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/names"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/source"
)

// TestMangledOwnIDNotTakenOver: a record with a valid ID ending in 000
// (M) whose name disagrees with M's person is linked in the base through
// M's merge into the person with M's first 15 digits and name (R0): its
// candidates are then the IDs M may be rounded from, and a namesake
// there (X, a homophone of the record's name) takes it. A newer extract
// renames R0, so M merges no more: a full run judges the record by its
// own valid ID (review), and the incremental run must not take the base's
// link to X over, though X is untouched and no touched person bears the
// record's name.
func TestMangledOwnIDNotTakenOver(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	gen := fixture.ImportCounty(t, db, 300, 9, "csv")
	rows, head, col := readHukou(t, gen)
	idCol, nameCol := col("身份"), col("姓名")

	// A first 15 digits P whose P+"000" passes its check character, and no
	// ID of the county near it.
	var p string
	for k := head + 10; k < len(rows) && p == ""; k++ {
		id := idcard.Parse(rows[k][idCol]).Norm
		if len(id) != 18 {
			continue
		}
		for d := '1'; d <= '8' && p == ""; d++ {
			q := id[:14] + string(d)
			if idcard.CheckChar(q+"00") != '0' {
				continue
			}
			var near int
			pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM source_record WHERE left(id_norm, 15) = ANY($1)`,
				[]string{q, q[:14] + string(d-1), q[:14] + string(d+1)}), &near)
			if near == 0 {
				p = q
			}
		}
	}
	if p == "" {
		t.Fatal("no prefix whose 000 ID is valid")
	}
	withCheck := func(body string) string { return body + string(idcard.CheckChar(body)) }
	m, r0, x := p+"000", withCheck(p+"12"), withCheck(p+"34")
	const b, a, homophone, renamed = "钟建国", "李丽华", "李莉华", "钟建华"
	if names.Score(a, homophone) < 0.8 || names.Score(a, b) >= 0.7 || names.Score(a, renamed) >= 0.7 {
		t.Fatalf("names: %v %v", names.Score(a, homophone), names.Score(a, b))
	}
	person := func(k int, id, name string) []string {
		row := slices.Clone(rows[k])
		row[idCol], row[nameCol] = id, name
		return row
	}
	extract := func(file, r0Name string) {
		t.Helper()
		// M's person is named b (its first record), the record to explain
		// is M's second, named a.
		all := append(slices.Clone(rows), person(head+30, m, b), person(head+31, m, a),
			person(head+32, r0, r0Name), person(head+33, x, homophone))
		dir := t.TempDir()
		writeCSV(t, filepath.Join(dir, file), all)
		req := imports.Request{Kind: source.Hukou, Region: fixture.County, Path: filepath.Join(dir, file), TempDir: dir}
		if _, err := imports.New(db).Import(ctx, fixture.Actor, req, nil); err != nil {
			t.Fatal(err)
		}
	}
	extract("户籍人口_二.csv", b)
	eng := compare.New(db)
	base, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var linked, method string
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT coalesce(id_number, ''), method FROM run_link WHERE run_id = $1 AND id_norm = $2 AND name = $3`,
		base.RunID, m, a), &linked, &method)
	if linked != x || method != "fuzzy" {
		t.Fatalf("the base linked the record of %s to %s (%s), want %s fuzzy", m, linked, method, x)
	}

	extract("户籍人口_三.csv", renamed)
	inc, full := equalsFull(t, db, eng, base.RunID)
	for _, run := range []int64{inc, full} {
		pgtest.MustScan(t, db.QueryRow(ctx, `SELECT coalesce(id_number, ''), method FROM run_link WHERE run_id = $1 AND id_norm = $2 AND name = $3`,
			run, m, a), &linked, &method)
		if method != "review" {
			t.Errorf("run %d: the record of %s linked to %s (%s) once %s is renamed, want review", run, m, linked, method, r0)
		}
	}
}
