package compare_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/names"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/source"
)

// The tests here share one story: M, a valid ID ending in 000, is merged
// in the base into R0, the person with M's first 15 digits and name (see
// mergeMangled), and a record is linked to X through that. A newer
// extract renames R0, so M merges no more and is a person of its own: a
// full run then links the record otherwise (review), and the incremental
// run must not take the base's link to X over, though X is untouched and
// no touched person bears the record's name.

// TestMangledOwnIDNotTakenOver: the record carries M itself, under a name
// that disagrees with M's person: merged, M's candidates are the IDs it
// may be rounded from, and X there (a homophone of the record's name)
// takes it. Unmerged, M's own person must decide.
func TestMangledOwnIDNotTakenOver(t *testing.T) {
	t.Parallel()
	c := newMangledCounty(t, nil)
	m, r0, x := c.p+"000", withCheck(c.p+"12"), withCheck(c.p+"34")
	const b, a, homophone, renamed = "钟建国", "李丽华", "李莉华", "钟建华"
	if names.Score(a, homophone) < 0.8 || names.Score(a, b) >= 0.7 || names.Score(a, renamed) >= 0.7 {
		t.Fatalf("names: %v %v", names.Score(a, homophone), names.Score(a, b))
	}
	// M's person is named b (its first record); the record is M's second.
	c.story(m, a, x, r0, [][2]string{{m, b}, {m, a}, {r0, b}, {x, homophone}}, renamed)
}

// TestMangledNeighbourNotTakenOver: the record's ID D has a wrong check
// character and one valid neighbour, M. Merged, M is no candidate, and D
// was linked by its name to X, born on the same day in the same place.
func TestMangledNeighbourNotTakenOver(t *testing.T) {
	t.Parallel()
	c := newMangledCounty(t, nil)
	// X shares D's region and birth date, not its 15th digit.
	m, r0, x, d := c.p+"000", withCheck(c.p+"12"), withCheck(c.p[:14]+string(c.p[14]+1)+"34"), c.p+"005"
	if got := idcard.Parse(d).Damage; got != idcard.BadCheck {
		t.Fatalf("%s: damage %v, want a wrong check character", d, got)
	}
	const b, a, renamed = "钟建国", "欧阳丽华", "钟建华"
	c.story(d, "", x, r0, [][2]string{{m, b}, {r0, b}, {x, a}, {d, a}}, renamed)
}

// TestMangledRangeNotTakenOver: the record's ID D is a mangled number
// (ending in 000, a failing check character) whose first 15 digits are
// one above M's, so M may be what D was rounded from; R0 lies one below
// M's (M rounded up from it), outside D's range. Merged, M is no
// candidate, and D was linked by its name to X.
func TestMangledRangeNotTakenOver(t *testing.T) {
	t.Parallel()
	c := newMangledCounty(t, func(p string) bool { return idcard.CheckChar(p[:14]+string(p[14]+1)+"00") != '0' })
	below, above, far := c.p[:14]+string(c.p[14]-1), c.p[:14]+string(c.p[14]+1), c.p[:14]+string(c.p[14]+3)
	m, r0, x, d := c.p+"000", withCheck(below+"12"), withCheck(far+"34"), above+"000"
	if got := idcard.Parse(d).Damage; got != idcard.Mangled {
		t.Fatalf("%s: damage %v, want a mangled number", d, got)
	}
	const b, a, renamed = "钟建国", "欧阳丽华", "钟建华"
	c.story(d, "", x, r0, [][2]string{{m, b}, {r0, b}, {x, a}, {d, a}}, renamed)
}

// mangledCounty is a compared county's 户籍人口 extract with room for M:
// p is a first 15 digits whose p+"000" passes its check character, and
// no ID of the county has p's first 14 digits and a 15th within one
// below and three above p's.
type mangledCounty struct {
	t                    *testing.T
	db                   *pgxpool.Pool
	rows                 [][]string
	head, idCol, nameCol int
	p                    string
}

// newMangledCounty imports a county and finds p, which ok (when given)
// must accept too.
func newMangledCounty(t *testing.T, ok func(p string) bool) *mangledCounty {
	db, _ := pgtest.New(t)
	gen := fixture.ImportCounty(t, db, 300, 9, "csv")
	rows, head, col := readHukou(t, gen)
	c := &mangledCounty{t: t, db: db, rows: rows, head: head, idCol: col("身份"), nameCol: col("姓名")}
	for k := head + 10; k < len(rows) && c.p == ""; k++ {
		id := idcard.Parse(rows[k][c.idCol]).Norm
		if len(id) != 18 {
			continue
		}
		for d := byte('1'); d <= '6' && c.p == ""; d++ {
			q := id[:14] + string(d)
			if idcard.CheckChar(q+"00") != '0' || ok != nil && !ok(q) {
				continue
			}
			var near []string
			for e := d - 1; e <= d+3; e++ {
				near = append(near, id[:14]+string(e))
			}
			var n int
			pgtest.MustScan(t, db.QueryRow(context.Background(), `SELECT count(*) FROM source_record WHERE left(id_norm, 15) = ANY($1)`, near), &n)
			if n == 0 {
				c.p = q
			}
		}
	}
	if c.p == "" {
		t.Fatal("no prefix whose 000 ID is valid")
	}
	return c
}

// story imports the extract with the persons given (ID, name; R0 named as
// its first), runs the base and checks that it linked the record of the
// ID (and name, when given) to x; then imports the extract again with R0
// renamed and checks that the incremental run equals a full one, both
// putting the record in review.
func (c *mangledCounty) story(id, name, x, r0 string, persons [][2]string, renamed string) {
	t, ctx := c.t, context.Background()
	c.extract("户籍人口_二.csv", persons)
	eng := compare.New(c.db)
	base, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if linked, method := c.linkOf(base.RunID, id, name); linked != x || method != "fuzzy" {
		t.Fatalf("the base linked the record of %s to %s (%s), want %s fuzzy", id, linked, method, x)
	}
	again := slices.Clone(persons)
	for i, p := range again {
		if p[0] == r0 {
			again[i][1] = renamed
		}
	}
	c.extract("户籍人口_三.csv", again)
	inc, full := equalsFull(t, c.db, eng, base.RunID)
	for _, run := range []int64{inc, full} {
		if linked, method := c.linkOf(run, id, name); method != "review" {
			t.Errorf("run %d: the record of %s linked to %s (%s) once %s is renamed, want review", run, id, linked, method, r0)
		}
	}
}

// extract imports the county's extract with the persons added, each on a
// copy of one of its rows.
func (c *mangledCounty) extract(file string, persons [][2]string) {
	t := c.t
	t.Helper()
	all := slices.Clone(c.rows)
	for i, p := range persons {
		row := slices.Clone(c.rows[c.head+30+i])
		row[c.idCol], row[c.nameCol] = p[0], p[1]
		all = append(all, row)
	}
	dir := t.TempDir()
	writeCSV(t, filepath.Join(dir, file), all)
	req := imports.Request{Kind: source.Hukou, Region: fixture.County, Path: filepath.Join(dir, file), TempDir: dir}
	if _, err := imports.New(c.db).Import(context.Background(), fixture.Actor, req, nil); err != nil {
		t.Fatal(err)
	}
}

// linkOf is what a run made of the record of an ID (and name, when given).
func (c *mangledCounty) linkOf(run int64, id, name string) (linked, method string) {
	pgtest.MustScan(c.t, c.db.QueryRow(context.Background(), `SELECT coalesce(id_number, ''), method FROM run_link
		WHERE run_id = $1 AND id_norm = $2 AND ($3 = '' OR name = $3)`, run, id, name), &linked, &method)
	return linked, method
}
