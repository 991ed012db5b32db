package compare_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/source"
)

// TestContestedInOneRound: a record the base linked to a person by name
// alone (its ID blank or beyond repair) goes to review once a newer
// 户籍人口 extract adds a namesake. The person it leaves is touched before
// anything is linked (touchContested), so the incremental run links in
// one round, and still writes what a full run writes.
func TestContestedInOneRound(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	gen := fixture.ImportCounty(t, db, 300, 9, "csv")
	eng := compare.New(db)
	base, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var batch int64
	var name, left string
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT batch_id, name, id_number FROM run_link
		WHERE run_id = $1 AND method = 'name' ORDER BY batch_id, line LIMIT 1`, base.RunID), &batch, &name, &left)

	// And a record with a valid ID whose name disagrees with its person's.
	var other, own string
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT name, id_number FROM run_link
		WHERE run_id = $1 AND id_damage IS NULL AND name_diff AND id_number = id_norm AND name <> $2 ORDER BY batch_id, line LIMIT 1`,
		base.RunID, name), &other, &own)

	// The newer extract: the old one, one person renamed (a change the
	// registry records), a namesake of the first record's born the same
	// day as the person it was linked to, and one of the second's born the
	// same day as its ID's person.
	rows, head, col := readHukou(t, gen)
	idCol, nameCol := col("身份"), col("姓名")
	rows[head+20] = slices.Clone(rows[head+20])
	rows[head+20][nameCol] += "华"
	born := slices.Clone(rows[head+10])
	body := left[:14] + "9" + left[15:17]
	born[idCol], born[nameCol] = withCheck(body), name
	twin := slices.Clone(rows[head+12])
	body = own[:14] + "8" + own[15:17]
	twin[idCol], twin[nameCol] = withCheck(body), other
	dir := t.TempDir()
	writeCSV(t, filepath.Join(dir, "户籍人口_新.csv"), append(rows, born, twin))
	req := imports.Request{Kind: source.Hukou, Region: fixture.County, Path: filepath.Join(dir, "户籍人口_新.csv"), TempDir: dir}
	if _, err := imports.New(db).Import(ctx, fixture.Actor, req, nil); err != nil {
		t.Fatal(err)
	}

	inc, _ := equalsFull(t, db, eng, base.RunID)
	var note, method string
	var now *string
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT mode_note FROM comparison_run WHERE id = $1`, inc), &note)
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT l.method, l.id_number FROM run_link l
		JOIN source_record s ON s.batch_id = l.batch_id AND s.line = l.line
		WHERE l.run_id = $1 AND s.name = $2 AND s.id_norm IS DISTINCT FROM $3 AND l.kind = (SELECT kind FROM import_batch WHERE id = $4)
		ORDER BY l.batch_id, l.line LIMIT 1`, inc, name, born[idCol], batch), &method, &now)
	if method != "review" || now != nil {
		t.Errorf("the record linked by name to %s: %s %v after its namesake came, want review", idcard.Mask(left), method, now)
	}
	if !strings.Contains(note, "1 轮") {
		t.Errorf("the incremental run took more than one round: %s", note)
	}
}

// TestDecisionOnSupersededBatch: a reviewer decided a record, and a newer
// extract of its source (the record in it unchanged) supersedes the batch.
// A decision holds for its batch's line only, so the record is in review
// again, in a full run as in an incremental one: the base's link, the
// decision's, is not taken over (see reuseLinks).
func TestDecisionOnSupersededBatch(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	gen := fixture.ImportCounty(t, db, 300, 9, "csv")
	body := reviewItems(t, db)
	eng := compare.New(db)
	req := compare.Request{Region: fixture.County, AsOf: fixture.AsOf}
	first, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	var batch int64
	var line int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT r.batch_id, r.line FROM run_review r JOIN import_batch b ON b.id = r.batch_id
		WHERE r.run_id = $1 AND b.source = '复核' ORDER BY r.line LIMIT 1`, first.RunID), &batch, &line)
	if err := eng.Decide(ctx, fixture.Actor, first.RunID, batch, line, 0); err != nil {
		t.Fatal(err)
	}
	base, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	var method string
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT method FROM run_link WHERE run_id = $1 AND batch_id = $2 AND line = $3`,
		base.RunID, batch, line), &method)
	if method != "reviewed" {
		t.Fatalf("the decided record: %s", method)
	}

	// The newer 复核 file (one more record) and, for a change the registry
	// records, a newer 户籍人口 extract with one person renamed.
	rows, head, col := readHukou(t, gen)
	rows[head+20] = slices.Clone(rows[head+20])
	rows[head+20][col("姓名")] += "华"
	dir := t.TempDir()
	writeCSV(t, filepath.Join(dir, "户籍人口_新.csv"), rows)
	hukou := imports.Request{Kind: source.Hukou, Region: fixture.County, Path: filepath.Join(dir, "户籍人口_新.csv"), TempDir: dir}
	if _, err := imports.New(db).Import(ctx, fixture.Actor, hukou, nil); err != nil {
		t.Fatal(err)
	}
	importReview(t, db, body+",无此人,390,1\n")
	var superseded int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM import_batch WHERE id = $1 AND superseded_by IS NOT NULL`, batch), &superseded)
	if superseded != 1 {
		t.Fatal("the newer 复核 file did not supersede the decided batch")
	}

	inc, _ := equalsFull(t, db, eng, base.RunID)
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT l.method FROM run_link l JOIN import_batch b ON b.id = l.batch_id
		WHERE l.run_id = $1 AND b.source = '复核' AND l.line = $2`, inc, line), &method)
	if method != "review" {
		t.Errorf("the record decided in the superseded batch: %s, want review", method)
	}
}
