package compare_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/dynamic"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/job"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/source"
)

// TestIncrementalAfterNewerStudents: a newer 在校学生 extract (students
// gone, persons of 16 and more who were 应参未参 newly listed) derives its
// school events into the registry; an incremental comparison after it
// writes the same rows as a full one, and the new students are no longer
// 应参未参 (DOMAIN §5).
func TestIncrementalAfterNewerStudents(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	gen := fixture.ImportCounty(t, db, 300, 9, "csv")
	eng := compare.New(db)
	req := compare.Request{Region: fixture.County, AsOf: fixture.AsOf}
	base, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}

	var path, src string
	for _, f := range gen.Files {
		if f.Kind == string(source.Student) {
			path, src = f.Path, f.Source
		}
	}
	rows := readAnyCSV(t, path)
	head, m, reason, ok := source.FindHeader(rows, source.Student)
	if !ok {
		t.Fatalf("no header in the student extract: %s", reason)
	}
	idCol, nameCol, schoolCol := m[source.KeyID], m[source.KeyName], m[source.KeySchool]
	if _, ok := m[source.KeySchool]; !ok {
		t.Fatalf("no school column in %v", rows[head])
	}
	data := rows[head+1:]
	if len(data) < 10 {
		t.Fatalf("student extract of %d rows", len(data))
	}
	newer := slices.Clone(data[3:]) // the first three left school
	q, err := db.Query(ctx, `SELECT id_number, name FROM run_persons($1) WHERE pension = '应参未参' ORDER BY id_number LIMIT 3`, base.RunID)
	if err != nil {
		t.Fatal(err)
	}
	var started []string
	for q.Next() {
		var id, name string
		if err := q.Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		r := make([]string, len(rows[head]))
		r[idCol], r[nameCol], r[schoolCol] = id, name, "高州市第一中学"
		newer = append(newer, r)
		started = append(started, id)
	}
	if q.Err() != nil || len(started) != 3 {
		t.Fatalf("persons 应参未参: %v (%v)", started, q.Err())
	}
	dir := t.TempDir()
	writeCSV(t, filepath.Join(dir, "在校学生_新.csv"), append(slices.Clone(rows[:head+1]), newer...))
	res, err := imports.New(db).Import(ctx, fixture.Actor, imports.Request{Kind: source.Student, Region: fixture.County,
		Path: filepath.Join(dir, "在校学生_新.csv"), TempDir: dir, Source: src}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dynamic.New(db).Derive(ctx, fixture.Actor, res.BatchID, &job.Progress{})
	if err != nil {
		t.Fatal(err)
	}
	var starts, ends, history int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE kind = 'school_start'), count(*) FILTER (WHERE kind = 'school_end')
		FROM extract_event WHERE batch_id = $1`, res.BatchID), &starts, &ends)
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM person_event WHERE field = 'school' AND source_id = $1 AND id_number = ANY($2)`,
		res.BatchID, started), &history)
	if d.Prev == 0 || starts != 3 || ends != 3 || history != 3 { // the three rows dropped, three IDs valid and listed once
		t.Fatalf("derived %+v: %d starts, %d ends, %d of the starts in the registry's history", d, starts, ends, history)
	}

	equalsFullAfter(t, db, base.RunID)
	var still int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM run_persons((SELECT max(id) FROM comparison_run))
		WHERE id_number = ANY($1) AND pension = '应参未参'`, started), &still)
	if still != 0 {
		t.Errorf("%d new students still 应参未参", still)
	}
}

// equalsFullAfter runs an incremental comparison and a full one from the
// same base and checks that they wrote the same rows (equalsFull without
// its check that the incremental run changed the registry: school events
// change nothing a comparison writes).
func equalsFullAfter(t *testing.T, db *pgxpool.Pool, baseID int64) {
	t.Helper()
	ctx := context.Background()
	eng := compare.New(db)
	req := compare.Request{Region: fixture.County, AsOf: fixture.AsOf}
	inc := req
	inc.Incremental = true
	res, err := eng.Run(ctx, fixture.Actor, inc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Incremental {
		t.Fatalf("incremental run fell back to a full one: %s", res.Note)
	}
	if res.Read*2 > res.Records {
		t.Errorf("incremental run read %d of %d records", res.Read, res.Records)
	}
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
	if full.Incremental {
		t.Fatalf("full run: %+v", full)
	}
	for _, tab := range runTables {
		a, b := runRows(t, db, tab, res.RunID), runRows(t, db, tab, full.RunID)
		if !slices.Equal(a, b) {
			t.Errorf("%s: incremental (%d rows) and full (%d rows) differ:\n%s", tab, len(a), len(b), firstDiff(a, b))
		}
	}
	if a, b := runRows(t, db, "run_summary", baseID), runRows(t, db, "run_summary", full.RunID); slices.Equal(a, b) {
		t.Error("the newer student extract left the summary as it was")
	}
	// The incremental run is the latest done run again, for the caller.
	if _, err := db.Exec(ctx, `UPDATE comparison_run SET status = 'failed' WHERE id = $1`, full.RunID); err != nil {
		t.Fatal(err)
	}
}

// TestIncrementalAfterNewerResidents: a newer 居住人口 extract (residents
// gone, others moved to another village) derives its residence events
// into the registry, which moves their managed region; an incremental
// comparison after it writes the same rows as a full one.
func TestIncrementalAfterNewerResidents(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	gen := fixture.ImportCounty(t, db, 300, 13, "csv")
	base, err := compare.New(db).Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var path, src string
	for _, f := range gen.Files {
		if f.Kind == string(source.Resident) {
			path, src = f.Path, f.Source
		}
	}
	rows := readAnyCSV(t, path)
	head, m, reason, ok := source.FindHeader(rows, source.Resident)
	if !ok {
		t.Fatalf("no header in the residence extract: %s", reason)
	}
	regCol, ok := m[source.KeyResRegion]
	if !ok {
		t.Fatalf("no residence region column in %v", rows[head])
	}
	data := rows[head+1:]
	if len(data) < 20 {
		t.Fatalf("residence extract of %d rows", len(data))
	}
	newer := slices.Clone(data[3:]) // three moved away
	villages := map[string]bool{}
	for _, r := range data {
		if len(r[regCol]) == 12 {
			villages[r[regCol]] = true
		}
	}
	moved := 0
	for i := range newer {
		if moved == 4 {
			break
		}
		for v := range villages {
			if v != newer[i][regCol] && len(newer[i][regCol]) == 12 {
				newer[i] = slices.Clone(newer[i])
				newer[i][regCol] = v
				moved++
				break
			}
		}
	}
	dir := t.TempDir()
	writeCSV(t, filepath.Join(dir, "居住人口_新.csv"), append(slices.Clone(rows[:head+1]), newer...))
	res, err := imports.New(db).Import(ctx, fixture.Actor, imports.Request{Kind: source.Resident, Region: fixture.County,
		Path: filepath.Join(dir, "居住人口_新.csv"), TempDir: dir, Source: src}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dynamic.New(db).Derive(ctx, fixture.Actor, res.BatchID, &job.Progress{}); err != nil {
		t.Fatal(err)
	}
	var regions, outs, history int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE kind = 'region'), count(*) FILTER (WHERE kind = 'move_out')
		FROM extract_event WHERE batch_id = $1`, res.BatchID), &regions, &outs)
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM person_event WHERE field = 'residence' AND source_id = $1`, res.BatchID), &history)
	if regions == 0 || outs == 0 || history == 0 {
		t.Fatalf("derived %d region changes, %d moves out, %d residence changes in the registry", regions, outs, history)
	}
	equalsFullAfter(t, db, base.RunID)
}
