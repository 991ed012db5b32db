package compare_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/registry"
	"github.com/canbao/canbao/internal/source"
)

// TestIncrementalEqualsFull changes a compared county — a newer 户籍人口
// extract with persons removed (the lines after them shifted), renamed,
// dead, reordered, added and one with only an address changed; the
// 在校学生 extract withdrawn; a second death extract; a reviewer's
// decision; a registry entry changed by hand — and checks that an
// incremental run reads only part of the records yet writes the same
// run_person, run_link, run_review, run_gone and run_summary rows as a
// full run from the same base, row for row.
func TestIncrementalEqualsFull(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	gen := fixture.ImportCounty(t, db, 700, 21, "csv")
	reviewItems(t, db)
	eng := compare.New(db)
	req := compare.Request{Region: fixture.County, AsOf: fixture.AsOf}
	base, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	snapshotMatches(t, db, base.RunID)

	// Nothing changed yet: an incremental run equals its base.
	inc := req
	inc.Incremental = true
	same, err := eng.Run(ctx, fixture.Actor, inc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !same.Incremental {
		t.Fatalf("incremental run without changes ran in full: %s", same.Note)
	}
	baseRead(t, same, "快照")
	snapshotMatches(t, db, same.RunID)
	for _, tab := range runTables {
		if a, b := runRows(t, db, tab, base.RunID), runRows(t, db, tab, same.RunID); !slices.Equal(a, b) && tab != "run_person_changed" {
			t.Errorf("%s: an unchanged county's incremental run differs from its base:\n%s", tab, firstDiff(a, b))
		}
	}

	changeCounty(t, db, gen)
	equalsFull(t, db, eng, base.RunID)
}

// TestIncrementalWithoutDigests: batches imported before records had a
// digest of their typed columns (row_hash NULL) are matched by their
// cells, and a base run saved before runs had snapshots is read from its
// run_person rows, with the same result.
func TestIncrementalWithoutDigests(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	gen := fixture.ImportCounty(t, db, 300, 9, "csv")
	reviewItems(t, db)
	base, err := compare.New(db).Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `UPDATE source_record SET row_hash = NULL`); err != nil {
		t.Fatal(err)
	}
	if tag, err := db.Exec(ctx, `DELETE FROM run_snapshot WHERE run_id = $1`, base.RunID); err != nil || tag.RowsAffected() == 0 {
		t.Fatalf("delete the base's snapshot: %v %v", tag, err)
	}
	changeCounty(t, db, gen)
	equalsFull(t, db, compare.New(db), base.RunID)
}

// equalsFull runs an incremental comparison of the changed county and a
// full one from the same base, checks that they wrote the same rows, and
// returns both runs.
func equalsFull(t *testing.T, db *pgxpool.Pool, eng *compare.Engine, baseID int64) (incID, fullID int64) {
	t.Helper()
	ctx := context.Background()
	req := compare.Request{Region: fixture.County, AsOf: fixture.AsOf}
	// The incremental run's base (the region's last run: baseID or a
	// run on top of it) is read from its snapshot when it has one.
	var last int64
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT max(id) FROM comparison_run WHERE region_code = $1 AND status = 'done'`, fixture.County), &last)
	from := "逐行"
	if _, ok, err := compare.SnapshotMatchesRows(ctx, db, last); err != nil {
		t.Fatal(err)
	} else if ok {
		from = "快照"
	}
	// A run's results never change once it is done: the base reads the
	// same after runs on top of it (whatever they share with it).
	before := map[string][]string{}
	for _, tab := range runTables {
		before[tab] = runRows(t, db, tab, baseID)
	}
	defer func() {
		for _, tab := range runTables {
			if a := runRows(t, db, tab, baseID); !slices.Equal(before[tab], a) {
				t.Errorf("%s: the base run reads differently after the runs on top of it:\n%s", tab, firstDiff(before[tab], a))
			}
		}
	}()
	incReq := req
	incReq.Incremental = true
	res, err := eng.Run(ctx, fixture.Actor, incReq, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Incremental {
		t.Fatalf("incremental run fell back to a full one: %s", res.Note)
	}
	if res.Read*2 > res.Records {
		t.Errorf("incremental run read %d of %d records", res.Read, res.Records)
	}
	t.Logf("incremental: %s; %d of %d records read", res.Note, res.Read, res.Records)
	baseRead(t, res, from)
	snapshotMatches(t, db, res.RunID)

	// The full run from the same base: the incremental run is hidden from
	// it while it runs, so it compares with the same previous run.
	if _, err := db.Exec(ctx, `UPDATE comparison_run SET status = 'failed' WHERE id = $1`, res.RunID); err != nil {
		t.Fatal(err)
	}
	full, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `UPDATE comparison_run SET status = 'done' WHERE id = $1`, res.RunID); err != nil {
		t.Fatal(err)
	}
	if full.Incremental || full.Read != full.Records {
		t.Fatalf("full run: %+v", full)
	}
	snapshotMatches(t, db, full.RunID)
	if res.Records != full.Records || res.Linked != full.Linked || res.Review != full.Review || res.Unmatched != full.Unmatched || res.Persons != full.Persons {
		t.Errorf("counts: incremental %+v, full %+v", res, full)
	}
	for _, tab := range runTables {
		a, b := runRows(t, db, tab, res.RunID), runRows(t, db, tab, full.RunID)
		if !slices.Equal(a, b) {
			t.Errorf("%s: incremental (%d rows) and full (%d rows) differ:\n%s", tab, len(a), len(b), firstDiff(a, b))
		}
	}
	// The changes did change the results.
	if a, b := runRows(t, db, "run_summary", baseID), runRows(t, db, "run_summary", full.RunID); slices.Equal(a, b) {
		t.Error("the county's changes left the summary as it was")
	}
	var events int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM person_event WHERE source_kind = 'compare' AND source_id = $1`, res.RunID), &events)
	if events == 0 {
		t.Error("the incremental run recorded no registry change")
	}
	var fullEvents int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM person_event WHERE source_kind = 'compare' AND source_id = $1`, full.RunID), &fullEvents)
	if fullEvents != 0 {
		t.Errorf("the full run after the incremental one still changed %d registry fields", fullEvents)
	}
	return res.RunID, full.RunID
}

// withCheck completes the first 17 characters of an ID with its check
// character.
func withCheck(body string) string { return body + string(idcard.CheckChar(body)) }

// readHukou reads the county's 户籍人口 extract: its rows, the header's
// index among them and a column's index by part of its header.
func readHukou(t *testing.T, gen demo.Result) (rows [][]string, head int, col func(string) int) {
	t.Helper()
	var path string
	for _, f := range gen.Files {
		if f.Kind == string(source.Hukou) {
			path = f.Path
		}
	}
	rows = readAnyCSV(t, path)
	for i, r := range rows {
		if slices.ContainsFunc(r, func(c string) bool { return strings.Contains(c, "身份") }) {
			head = i
			break
		}
	}
	col = func(name string) int {
		for i, c := range rows[head] {
			if strings.Contains(c, name) {
				return i
			}
		}
		t.Fatalf("no column %s in %v", name, rows[head])
		return -1
	}
	return rows, head, col
}

// runTables are the queries the equality test compares, each a run's rows
// in a stable order, run ids left out; a person's records sorted.
var runTables = []string{"run_person", "run_person_changed", "run_link", "run_review", "run_gone", "run_summary"}

var runQueries = map[string]string{
	"run_person": `SELECT id_number, name, region_code, in_universe, pension, medical, flags, survey,
		(SELECT array_agg(r.batch_id::text || ':' || r.line ORDER BY r.batch_id, r.line) FROM run_records($1) r WHERE r.id_number = p.id_number)
		FROM run_persons($1) p ORDER BY id_number`,
	"run_person_changed": `SELECT id_number, changed FROM run_persons($1) ORDER BY id_number`,
	"run_link": `SELECT batch_id, line, id_number, method, name_diff, reason, kind, id_norm, id_damage, name, region_code
		FROM run_link WHERE run_id = $1 ORDER BY batch_id, line`,
	"run_review":  `SELECT batch_id, line, candidates, scores FROM run_review WHERE run_id = $1 ORDER BY batch_id, line`,
	"run_gone":    `SELECT id_number, name, region_code FROM run_gone WHERE run_id = $1 ORDER BY id_number`,
	"run_summary": `SELECT region_code, metric, n FROM run_summary WHERE run_id = $1 ORDER BY region_code, metric`,
}

func runRows(t *testing.T, db *pgxpool.Pool, table string, runID int64) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), runQueries[table], runID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(v...))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func firstDiff(a, b []string) string {
	var out []string
	for i := 0; i < max(len(a), len(b)) && len(out) < 6; i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			out = append(out, fmt.Sprintf("  row %d:\n    incremental %s\n    full        %s", i, x, y))
		}
	}
	return strings.Join(out, "\n")
}

// changeCounty changes the county after its first comparison.
func changeCounty(t *testing.T, db *pgxpool.Pool, gen demo.Result) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	rows, head, col := readHukou(t, gen)
	idCol, nameCol, statusCol, addrCol := col("身份"), col("姓名"), col("人口状态"), col("地址")
	data := rows[head+1:]
	if len(data) < 200 {
		t.Fatalf("hukou extract of %d rows", len(data))
	}
	var deaths [][]string
	changed := slices.Clone(data)
	changed[8] = slices.Clone(changed[8])
	changed[8][nameCol] += "华" // renamed
	changed[25] = slices.Clone(changed[25])
	changed[25][nameCol] = "改名" + changed[25][nameCol]
	changed[30] = slices.Clone(changed[30])
	changed[30][statusCol] = "死亡"
	changed[50], changed[51] = changed[51], changed[50] // reordered, unchanged
	changed[60] = slices.Clone(changed[60])
	changed[60][addrCol] += "附1号" // a cell no comparison reads: the same record
	for _, k := range []int{90, 91} {
		born := slices.Clone(changed[k])
		id := idcard.Parse(born[idCol]).Norm
		if len(id) == 18 {
			body := id[:14] + "9" + id[15:17]
			born[idCol] = withCheck(body)
			born[nameCol] = "新生" + born[nameCol]
			changed = append(changed, born)
		}
	}
	for _, k := range []int{120, 121} {
		deaths = append(deaths, []string{changed[k][idCol], changed[k][nameCol], "2026-01-15"})
	}
	changed = slices.Delete(changed, 40, 41)
	changed = slices.Delete(changed, 17, 18)
	changed = slices.Delete(changed, 5, 6)
	writeCSV(t, filepath.Join(dir, "户籍人口_新.csv"), append(slices.Clone(rows[:head+1]), changed...))
	im := imports.New(db)
	imp := func(kind source.Kind, name, src string) {
		req := imports.Request{Kind: kind, Region: fixture.County, Path: filepath.Join(dir, name), TempDir: dir, Source: src}
		if _, err := im.Import(ctx, fixture.Actor, req, nil); err != nil {
			t.Fatalf("import %s: %v", name, err)
		}
	}
	imp(source.Hukou, "户籍人口_新.csv", "")
	writeCSV(t, filepath.Join(dir, "死亡_医院.csv"), append([][]string{{"公民身份号码", "姓名", "死亡日期"}}, deaths...))
	imp(source.Death, "死亡_医院.csv", "医院")
	var student, superseded int64
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT id FROM import_batch WHERE kind = '在校学生' AND status = 'done' ORDER BY id LIMIT 1`), &student)
	admin := fixture.Actor
	admin.Role = actor.Admin
	if err := im.Withdraw(ctx, admin, student); err != nil {
		t.Fatal(err)
	}
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM import_batch WHERE kind = '户籍人口' AND superseded_by IS NOT NULL`), &superseded)
	if superseded != 1 {
		t.Fatalf("%d superseded 户籍人口 batches", superseded)
	}

	// A reviewer decides the first record of the queue.
	eng := compare.New(db)
	latest, ok, err := eng.Latest(ctx, fixture.Actor)
	if err != nil || !ok {
		t.Fatal(err)
	}
	queue, err := eng.ReviewQueue(ctx, fixture.Actor, latest.ID, fixture.County, list.Parse(url.Values{}, list.Spec{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(queue.Items) == 0 {
		t.Fatal("no record to review in the generated county")
	}
	it := queue.Items[0]
	if err := eng.Decide(ctx, fixture.Actor, latest.ID, it.BatchID, it.Line, 0); err != nil {
		t.Fatal(err)
	}

	// A clerk renames someone the extracts do not touch; the next
	// comparison sets the name back, incremental or not.
	var id string
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT id_number FROM person ORDER BY id_number OFFSET 300 LIMIT 1`), &id)
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := registry.Apply(ctx, tx, registry.ChangeSet{Source: registry.Source{Kind: registry.Manual, ID: 1},
		Effective: fixture.AsOf, Persons: registry.NewEntries(registry.Entry{ID: id, Values: map[registry.Field]string{registry.Name: "手改姓名"}})}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// reviewItems imports enrollment records without an ID under names two
// persons share, for the review queue, and returns the file's text.
func reviewItems(t *testing.T, db *pgxpool.Pool) string {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT s.name FROM source_record s JOIN import_batch b ON b.id = s.batch_id
		WHERE b.kind = '户籍人口' AND s.id_damage IS NULL AND s.name IS NOT NULL
		GROUP BY s.name HAVING count(DISTINCT s.id_norm) = 2 ORDER BY s.name LIMIT 3`)
	if err != nil {
		t.Fatal(err)
	}
	body := "公民身份号码,姓名,险种类型,参保状态\n"
	n := 0
	for rows.Next() {
		var name string
		pgtest.MustScan(t, rows, &name)
		body += "," + name + ",390,1\n"
		n++
	}
	rows.Close()
	if n == 0 {
		t.Fatal("no two persons share a name in the generated county")
	}
	importReview(t, db, body)
	return body
}

// importReview imports an enrollment file of the source 复核.
func importReview(t *testing.T, db *pgxpool.Pool, body string) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "review.csv")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	req := imports.Request{Kind: source.Enrollment, Region: fixture.County, Path: p, TempDir: dir, Source: "复核"}
	if _, err := imports.New(db).Import(context.Background(), fixture.Actor, req, nil); err != nil {
		t.Fatal(err)
	}
}

// readAnyCSV reads a generated CSV file, UTF-8 (with or without BOM) or
// GB18030.
func readAnyCSV(t testing.TB, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	if !utf8.Valid(b) {
		if b, err = simplifiedchinese.GB18030.NewDecoder().Bytes(b); err != nil {
			t.Fatal(err)
		}
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func writeCSV(t testing.TB, path string, rows [][]string) {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestIncrementalFallsBack: without a base, with another as-of date, or
// with most persons touched, an incremental run runs in full and records
// why; with nothing given it keeps the base's as-of date.
func TestIncrementalFallsBack(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fixture.ImportCounty(t, db, 80, 5, "csv")
	eng := compare.New(db)
	check := func(req compare.Request, incremental bool, note string) compare.RunResult {
		t.Helper()
		res, err := eng.Run(ctx, fixture.Actor, req, nil)
		if err != nil {
			t.Fatal(err)
		}
		var mode, stored string
		pgtest.MustScan(t, db.QueryRow(ctx, `SELECT mode, mode_note FROM comparison_run WHERE id = $1`, res.RunID), &mode, &stored)
		if res.Incremental != incremental || !strings.Contains(res.Note, note) || stored != res.Note || (mode == "incremental") != incremental {
			t.Errorf("%+v: incremental %v, note %q (stored %s %q), want %v and %q", req, res.Incremental, res.Note, mode, stored, incremental, note)
		}
		return res
	}
	check(compare.Request{Region: fixture.County, AsOf: fixture.AsOf, Incremental: true}, false, "还没有完成的比对")
	check(compare.Request{Region: fixture.County, AsOf: fixture.AsOf.AddDate(0, 1, 0), Incremental: true}, false, "基准日")
	res := check(compare.Request{Region: fixture.County, Incremental: true}, true, "变动人员")
	var asOf time.Time
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT as_of FROM comparison_run WHERE id = $1`, res.RunID), &asOf)
	if !asOf.Equal(fixture.AsOf.AddDate(0, 1, 0)) {
		t.Errorf("an incremental run without a date compared as of %v", asOf)
	}
	// Every person touched: the 户籍人口 extract withdrawn.
	var hukou int64
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT id FROM import_batch WHERE kind = '户籍人口'`), &hukou)
	admin := fixture.Actor
	admin.Role = actor.Admin
	if err := imports.New(db).Withdraw(ctx, admin, hukou); err != nil {
		t.Fatal(err)
	}
	check(compare.Request{Region: fixture.County, Incremental: true}, false, "超过")
}
