package compare_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/pgtest"
)

// memSheet keeps an export's rows.
type memSheet struct{ rows [][]string }

func (m *memSheet) Write(row []string) error { m.rows = append(m.rows, row); return nil }
func (m *memSheet) WriteValues(row []any) error {
	r := make([]string, len(row))
	for i, v := range row {
		r[i] = fmt.Sprint(v)
	}
	return m.Write(r)
}
func (m *memSheet) Close() error { return nil }

// setDiff counts the rows q returns for one run and not the other (both
// ways); q takes the run as $1 and must not return it.
func setDiff(t *testing.T, db *pgxpool.Pool, q string, a, b int64) int {
	t.Helper()
	var n int
	pgtest.MustScan(t, db.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM (`+q+` EXCEPT ALL `+strings.ReplaceAll(q, "$1", "$2")+`) x) + (SELECT count(*) FROM (`+strings.ReplaceAll(q, "$1", "$2")+` EXCEPT ALL `+q+`) y)`, a, b), &n)
	return n
}

// TestSparseTwinReadsAlike: a sparse run (one that stores only the persons
// unlike its anchor's, migration 000029) reads everywhere as the full run
// it was made from: its persons and records, the result lists and their
// counts, a person's records and history, the export and the diffs. A
// record carrying one person's valid ID that a reviewer linked to another
// is derived for the other, not for the ID's owner.
func TestSparseTwinReadsAlike(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fixture.ImportCounty(t, db, 1500, 21, "csv")
	// A reviewer linked a 参保 record with owner's valid ID to other: in
	// both runs, and kept by neither as a row of its own in the twin.
	var owner, other string
	var batch int64
	var line int
	pgtest.MustScan(t, db.QueryRow(ctx, `
		WITH r AS (SELECT s.batch_id, s.line, s.id_norm, count(*) OVER (PARTITION BY s.id_norm) AS n
		           FROM source_record s JOIN import_batch b ON b.id = s.batch_id
		           WHERE b.kind = '参保信息' AND s.id_key IS NOT NULL)
		SELECT batch_id, line, id_norm FROM r WHERE n = 1 ORDER BY id_norm DESC LIMIT 1`), &batch, &line, &owner)
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT id_norm FROM source_record s JOIN import_batch b ON b.id = s.batch_id
		WHERE b.kind = '户籍人口' AND s.id_key IS NOT NULL AND s.id_norm <> $1 ORDER BY id_norm DESC LIMIT 1`, owner), &other)
	if _, err := db.Exec(ctx, `INSERT INTO link_decision (batch_id, line, id_number, decided_name) VALUES ($1, $2, $3, '审核员')`,
		batch, line, other); err != nil {
		t.Fatal(err)
	}

	eng := compare.New(db)
	req := compare.Request{Region: fixture.County, AsOf: fixture.AsOf}
	a, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	fixture.ImportNewer(t, db, 5, demo.KindHukou, demo.KindDeath, demo.KindResidence, demo.KindStudent)
	req.AsOf = fixture.AsOf.AddDate(0, 1, 0)
	b, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	tw := pgtest.SparseTwin(t, db, a.RunID, b.RunID)
	c := tw.Run
	if tw.Stored == 0 || tw.Stored > b.Persons/4 || tw.Gone == 0 {
		t.Fatalf("the twin stores %d of %d persons, %d gone: not a sparse run worth testing", tw.Stored, b.Persons, tw.Gone)
	}
	t.Logf("twin #%d of run #%d on #%d: %d of %d persons stored (%d only for their records), %d gone",
		c, b.RunID, a.RunID, tw.Stored, b.Persons, tw.Kept, tw.Gone)
	var stored int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM run_person_row WHERE run_id = $1 AND id_number IN ($2, $3)`, c, owner, other), &stored)
	if stored != 0 {
		t.Fatalf("the twin stores %d of the reviewed record's two persons: their records are not derived, the case proves nothing", stored)
	}

	// The functions: persons and records as sets.
	const persons = `SELECT id_number, name, region_code, in_universe, pension, medical, flags, survey, changed FROM run_persons($1)`
	if n := setDiff(t, db, persons, b.RunID, c); n != 0 {
		t.Errorf("run_persons: %d rows differ between the run and its twin", n)
	}
	if n := setDiff(t, db, `SELECT * FROM run_records($1)`, b.RunID, c); n != 0 {
		t.Errorf("run_records: %d rows differ between the run and its twin", n)
	}
	for _, run := range []int64{b.RunID, c} {
		if n := setDiff(t, db, `SELECT * FROM run_records($1)`, run, 0); n == 0 {
			t.Fatalf("run_records(%d) is empty", run)
		}
		var n int
		bulk := `SELECT * FROM run_records_all($1)`
		pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM ((SELECT * FROM run_records($1) EXCEPT ALL `+bulk+`)
			UNION ALL (`+bulk+` EXCEPT ALL SELECT * FROM run_records($1))) d`, run), &n)
		if n != 0 {
			t.Errorf("run_records_all(%d) differs from run_records in %d rows", run, n)
		}
	}
	var arrays int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM (
		(SELECT p.id_number, x.b, x.l FROM run_person_row p, unnest(p.record_batches, p.record_lines) x(b, l) WHERE p.run_id = $1
		 EXCEPT ALL SELECT * FROM run_records($1))
		UNION ALL
		(SELECT * FROM run_records($1) EXCEPT ALL
		 SELECT p.id_number, x.b, x.l FROM run_person_row p, unnest(p.record_batches, p.record_lines) x(b, l) WHERE p.run_id = $1)) d`,
		b.RunID), &arrays)
	if arrays != 0 {
		t.Errorf("run_records of a full run differs from its rows' arrays in %d records", arrays)
	}
	var toOwner, toOther int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE id_number = $2), count(*) FILTER (WHERE id_number = $3)
		FROM run_records($1) WHERE batch_id = $4 AND line = $5`, c, owner, other, batch, line), &toOwner, &toOther)
	if toOwner != 0 || toOther != 1 {
		t.Errorf("the reviewed record is derived %d times for its ID's owner and %d for the person it was linked to, want 0 and 1", toOwner, toOther)
	}

	// The result lists and their counts, by every way a page is read.
	var name string
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT left(name, 1) FROM run_persons($1) ORDER BY id_number LIMIT 1`, b.RunID), &name)
	for _, m := range compare.Metrics {
		for _, lq := range []struct {
			search string
			q      list.Query
		}{
			{"", list.Query{Page: 1, Size: 50}},
			{"", list.Query{Page: 3, Size: 20}},
			{"", list.Query{Page: 2, Size: 20, After: []string{"440981", ""}}},
			{name, list.Query{Page: 1, Size: 50}},
			{"4409", list.Query{Page: 2, Size: 10}},
		} {
			pb, err := eng.Persons(ctx, fixture.Actor, b.RunID, fixture.County, m, lq.search, lq.q)
			if err != nil {
				t.Fatal(err)
			}
			pc, err := eng.Persons(ctx, fixture.Actor, c, fixture.County, m, lq.search, lq.q)
			if err != nil {
				t.Fatal(err)
			}
			if pb.Total != pc.Total || !reflect.DeepEqual(pb.Items, pc.Items) {
				t.Errorf("%s %q %+v: %d persons (%d listed) in the run, %d (%d) in its twin", m.Key, lq.search, lq.q, pb.Total, len(pb.Items), pc.Total, len(pc.Items))
			}
		}
	}

	// A person's records and history: the reviewed record's two persons,
	// persons stored by the twin and persons it takes from the anchor.
	ids := []string{owner, other}
	rows, err := db.Query(ctx, `(SELECT id_number FROM run_person_row WHERE run_id = $1 ORDER BY id_number LIMIT 10)
		UNION ALL (SELECT id_number FROM run_persons($1) WHERE NOT changed ORDER BY id_number DESC LIMIT 30)`, c)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		pgtest.MustScan(t, rows, &id)
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		rb, err := eng.LinkedRecords(ctx, fixture.Actor, b.RunID, id)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := eng.LinkedRecords(ctx, fixture.Actor, c, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(rb) == 0 || !reflect.DeepEqual(rb, rc) {
			t.Errorf("%s: %d records in the run, %d in its twin", id, len(rb), len(rc))
		}
		hist, err := eng.Results(ctx, fixture.Actor, id)
		if err != nil {
			t.Fatal(err)
		}
		byRun := map[int64]compare.PersonResult{}
		for _, r := range hist {
			byRun[r.RunID] = r
		}
		inB, okB := byRun[b.RunID]
		inC, okC := byRun[c]
		inC.RunID = b.RunID
		if !okB || !okC || inB != inC {
			t.Errorf("%s: history says %+v (%v) for the run, %+v (%v) for its twin", id, inB, okB, inC, okC)
		}
	}

	// The export and the diffs.
	var eb, ec memSheet
	if _, err := eng.Export(ctx, fixture.Actor, b.RunID, fixture.County, &eb); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Export(ctx, fixture.Actor, c, fixture.County, &ec); err != nil {
		t.Fatal(err)
	}
	if len(eb.rows) < 2 || !reflect.DeepEqual(eb.rows, ec.rows) {
		t.Errorf("export: %d rows of the run, %d of its twin, or they differ", len(eb.rows), len(ec.rows))
	}
	for _, d := range [][4]int64{{a.RunID, b.RunID, a.RunID, c}, {b.RunID, a.RunID, c, a.RunID}} {
		q := list.Query{Page: 1, Size: 200}
		db1, err := eng.Diff(ctx, fixture.Actor, d[0], d[1], fixture.County, q)
		if err != nil {
			t.Fatal(err)
		}
		dc, err := eng.Diff(ctx, fixture.Actor, d[2], d[3], fixture.County, q)
		if err != nil {
			t.Fatal(err)
		}
		if db1.Total == 0 || db1.Total != dc.Total || !reflect.DeepEqual(db1.Items, dc.Items) {
			t.Errorf("diff %d→%d: %d rows, of the twin %d→%d: %d", d[0], d[1], db1.Total, d[2], d[3], dc.Total)
		}
	}
}
