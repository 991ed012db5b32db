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
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/source"
)

// TestMangledNeighbourNotTakenOver: a record whose ID has a wrong check
// character (D) has one valid neighbour, M, an ID ending in 000 that the
// base merged into the person with M's first 15 digits and name (R0): so
// D had no candidate by ID in the base and was linked by its name to X,
// born on the same day in the same place. A newer extract renames R0, so
// M merges no more and is a person of its own: a full run gives D the
// candidate M (review, the names differ), and the incremental run must not
// take the base's link to X over, though X is untouched and no touched
// person bears D's name (M is no base person, and not touched).
func TestMangledNeighbourNotTakenOver(t *testing.T) {
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
		for d := '1'; d <= '7' && p == ""; d++ {
			q := id[:14] + string(d)
			if idcard.CheckChar(q+"00") != '0' {
				continue
			}
			var near int
			pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM source_record WHERE left(id_norm, 15) = ANY($1)`,
				[]string{q, q[:14] + string(d-1), q[:14] + string(d+1), q[:14] + string(d+2)}), &near)
			if near == 0 {
				p = q
			}
		}
	}
	if p == "" {
		t.Fatal("no prefix whose 000 ID is valid")
	}
	withCheck := func(body string) string { return body + string(idcard.CheckChar(body)) }
	// X shares D's region and birth date, not its 15th digit (d+1).
	other := string(rune(p[14]) + 1)
	m, r0, x, d := p+"000", withCheck(p+"12"), withCheck(p[:14]+other+"34"), p+"005"
	if got := idcard.Parse(d).Damage; got != idcard.BadCheck {
		t.Fatalf("%s: damage %v, want a wrong check character", d, got)
	}
	const b, a, renamed = "钟建国", "欧阳丽华", "钟建华"
	person := func(k int, id, name string) []string {
		row := slices.Clone(rows[k])
		row[idCol], row[nameCol] = id, name
		return row
	}
	extract := func(file, r0Name string) {
		t.Helper()
		all := append(slices.Clone(rows), person(head+30, m, b), person(head+32, r0, r0Name),
			person(head+33, x, a), person(head+34, d, a))
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
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT coalesce(id_number, ''), method FROM run_link WHERE run_id = $1 AND id_norm = $2`,
		base.RunID, d), &linked, &method)
	if linked != x || method != "fuzzy" {
		t.Fatalf("the base linked the record of %s to %s (%s), want %s fuzzy", d, linked, method, x)
	}

	extract("户籍人口_三.csv", renamed)
	inc, full := equalsFull(t, db, eng, base.RunID)
	for _, run := range []int64{inc, full} {
		pgtest.MustScan(t, db.QueryRow(ctx, `SELECT coalesce(id_number, ''), method FROM run_link WHERE run_id = $1 AND id_norm = $2`,
			run, d), &linked, &method)
		if method != "review" {
			t.Errorf("run %d: the record of %s linked to %s (%s) once %s is renamed, want review", run, d, linked, method, r0)
		}
	}
}

// TestMangledRangeNotTakenOver: as TestMangledNeighbourNotTakenOver, for
// a mangled number D (ending in 000, a failing check character) whose
// first 15 digits are one above M's: M, merged in the base into R0 (one
// below M's, M rounded up from it), may be what D was rounded from. D had
// no candidate by ID in the base and was linked by its name to X. A newer extract renames R0, so
// M merges no more and is a person of its own: a full run gives D the
// candidate M (review, the names differ), and the incremental run must not
// take the base's link to X over, though X is untouched and no touched
// person bears D's name (M is no base person, and not touched).
func TestMangledRangeNotTakenOver(t *testing.T) {
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
		for d := '1'; d <= '6' && p == ""; d++ {
			q := id[:14] + string(d)
			if idcard.CheckChar(q+"00") != '0' || idcard.CheckChar(id[:14]+string(d+1)+"00") == '0' {
				continue
			}
			var near int
			pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM source_record WHERE left(id_norm, 15) = ANY($1)`,
				[]string{q, q[:14] + string(d-1), q[:14] + string(d+1), q[:14] + string(d+2)}), &near)
			if near == 0 {
				p = q
			}
		}
	}
	if p == "" {
		t.Fatal("no prefix whose 000 ID is valid")
	}
	withCheck := func(body string) string { return body + string(idcard.CheckChar(body)) }
	// R0 lies below M's first 15 digits (M rounded up from it), D (a
	// mangled number) above: D's candidates are the IDs of its first 15
	// digits and of M's, R0 is none of them.
	below, above, far := p[:14]+string(rune(p[14])-1), p[:14]+string(rune(p[14])+1), p[:14]+string(rune(p[14])+3)
	m, r0, x, d := p+"000", withCheck(below+"12"), withCheck(far+"34"), above+"000"
	if got := idcard.Parse(d).Damage; got != idcard.Mangled {
		t.Fatalf("%s: damage %v, want a mangled number", d, got)
	}
	const b, a, renamed = "钟建国", "欧阳丽华", "钟建华"
	person := func(k int, id, name string) []string {
		row := slices.Clone(rows[k])
		row[idCol], row[nameCol] = id, name
		return row
	}
	extract := func(file, r0Name string) {
		t.Helper()
		all := append(slices.Clone(rows), person(head+30, m, b), person(head+32, r0, r0Name),
			person(head+33, x, a), person(head+34, d, a))
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
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT coalesce(id_number, ''), method FROM run_link WHERE run_id = $1 AND id_norm = $2`,
		base.RunID, d), &linked, &method)
	if linked != x || method != "fuzzy" {
		t.Fatalf("the base linked the record of %s to %s (%s), want %s fuzzy", d, linked, method, x)
	}

	extract("户籍人口_三.csv", renamed)
	inc, full := equalsFull(t, db, eng, base.RunID)
	for _, run := range []int64{inc, full} {
		pgtest.MustScan(t, db.QueryRow(ctx, `SELECT coalesce(id_number, ''), method FROM run_link WHERE run_id = $1 AND id_norm = $2`,
			run, d), &linked, &method)
		if method != "review" {
			t.Errorf("run %d: the record of %s linked to %s (%s) once %s is renamed, want review", run, d, linked, method, r0)
		}
	}
}
