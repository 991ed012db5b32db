package dynamic_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/dynamic"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/job"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/region"
	"github.com/canbao/canbao/internal/source"
)

// benchPersons sizes the county: 1,000,000 persons in 户籍人口 (and as
// many enrollment rows, for the move-out holds to check against).
// CANBAO_BENCH_PERSONS overrides it for a quick run.
func benchPersons() int {
	if n, err := strconv.Atoi(os.Getenv("CANBAO_BENCH_PERSONS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// BenchmarkNewerHukouExtract imports a newer hukou extract of a
// million-person county with about 1% of its persons changed (deaths,
// moves, households, births) and derives its events, applying the clear
// ones to a registry that holds the county: one import job, as a clerk
// starts it. Issue 13 asks for at most 15 s.
func BenchmarkNewerHukouExtract(b *testing.B) {
	ctx := context.Background()
	db, _ := pgtest.New(b)
	fixture.Regions(b, db, "4409")
	dir := b.TempDir()
	n := benchPersons()
	_, villages, err := region.EmbeddedCounty(county)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	first := filepath.Join(dir, "户籍人口.csv")
	if err := writeHukou(first, n, villages); err != nil {
		b.Fatal(err)
	}
	var dv []demo.Village
	for _, v := range villages {
		dv = append(dv, demo.Village{Code: v.Code, Name: v.Name})
	}
	enroll := filepath.Join(dir, "参保信息.csv")
	if _, err := demo.EnrollmentFile(enroll, county, dv, n, 5); err != nil {
		b.Fatal(err)
	}
	store := dynamic.New(db)
	im := imports.New(db).Then(store.AfterImport)
	clerk := fixture.Actor
	for _, f := range []struct {
		path string
		kind source.Kind
	}{{first, source.Hukou}, {enroll, source.Enrollment}} {
		if _, err := im.Import(ctx, clerk, imports.Request{Kind: f.kind, Region: county, Path: f.path, FileName: filepath.Base(f.path), TempDir: dir}, nil); err != nil {
			b.Fatal(err)
		}
	}
	// The registry as a comparison leaves it: every hukou person.
	if _, err := db.Exec(ctx, `
		INSERT INTO person (id_number, name, sex, birth, household, relation, hukou_region, pop_status, identity_kind, region_code,
		                    first_kind, first_source, last_kind, last_source)
		SELECT id_norm, name, sex, birth, household, relation, hukou_region, pop_status, '户籍人口', s.region_code, 'compare', 1, 'compare', 1
		FROM source_record s JOIN import_batch b ON b.id = s.batch_id WHERE b.kind = '户籍人口'`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(ctx, `ANALYZE person`); err != nil {
		b.Fatal(err)
	}
	y, m, d := time.Now().Date()
	files, err := demo.NewerExtracts(ctx, db, demo.NewerOptions{County: county, Kinds: []string{demo.KindHukou}, Rate: 1, Seed: 7,
		Today: time.Date(y, m, d, 0, 0, 0, 0, time.Local)}, dir)
	if err != nil || len(files) != 1 {
		b.Fatalf("newer extract: %v (%d files)", err, len(files))
	}
	b.Logf("county of %d persons and %d enrollment rows imported, newer extract written (%d rows changed, added or dropped) in %v",
		n, n, files[0].Changes, time.Since(start))

	b.ResetTimer()
	var elapsed time.Duration
	var res imports.Result
	for i := 0; i < b.N; i++ {
		t := time.Now()
		req := imports.Request{Kind: source.Hukou, Region: county, Source: files[0].Source, Path: files[0].Path,
			FileName: filepath.Base(files[0].Path), TempDir: dir, Force: true}
		p := &job.Progress{}
		if _, err := im.Job(clerk, req, 0, &res).Run(ctx, p); err != nil {
			b.Fatal(err)
		}
		elapsed = time.Since(t)
		load, _ := os.ReadFile("/proc/loadavg") // the machine may be shared: say how busy it was
		b.Logf("import %v (%v), then %s; load average %s", res.Duration, res.Steps, p.Get().Message, strings.TrimSpace(string(load)))
	}
	b.StopTimer()
	logPlainCopy(b, db, res, files[0].Path)
	// CANBAO_BENCH_EXPLAIN names a file for the derivation's plan (the
	// benchmark log truncates long output).
	if path := os.Getenv("CANBAO_BENCH_EXPLAIN"); path != "" {
		plan, err := dynamic.ExplainDerive(ctx, db, res.BatchID)
		if err == nil {
			err = os.WriteFile(path, []byte(plan+"\n"), 0o644)
		}
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("derivation plan (EXPLAIN ANALYZE, BUFFERS) written to %s", path)
	}
	var events, pending int
	if err := db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'pending') FROM extract_event WHERE batch_id = $1`,
		res.BatchID).Scan(&events, &pending); err != nil {
		b.Fatal(err)
	}
	b.Logf("newer hukou extract of %d rows: imported and %d events derived (%d pending) in %v", res.Read, events, pending, elapsed)
	b.ReportMetric(elapsed.Seconds(), "total-s")
	b.ReportMetric(res.Duration.Seconds(), "import-s")
	b.ReportMetric((elapsed - res.Duration).Seconds(), "derive-s")
	b.ReportMetric(float64(events), "events")
}

// logPlainCopy logs the floor the import is measured against: the same
// file COPYed as CSV into a table of text columns, and the batch's
// converted rows COPYed (binary) into a table like source_record, with no
// checks, partition or bookkeeping.
func logPlainCopy(b *testing.B, db *pgxpool.Pool, res imports.Result, path string) {
	ctx := context.Background()
	conn, err := db.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	pg := conn.Conn().PgConn()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only
	header, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	cols := make([]string, strings.Count(header, ",")+1)
	for i := range cols {
		cols[i] = fmt.Sprintf("c%d text", i)
	}
	var buf bytes.Buffer
	for _, q := range []string{`CREATE TABLE plain_csv (` + strings.Join(cols, ", ") + `)`, `CREATE TABLE plain_rec (LIKE source_record)`} {
		if _, err := pg.Exec(ctx, q).ReadAll(); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := pg.CopyTo(ctx, &buf, fmt.Sprintf(`COPY (SELECT * FROM source_record WHERE batch_id = %d) TO STDOUT (FORMAT binary)`, res.BatchID)); err != nil {
		b.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		b.Fatal(err)
	}
	t := time.Now()
	if _, err := pg.CopyFrom(ctx, f, `COPY plain_csv FROM STDIN (FORMAT csv, HEADER true)`); err != nil {
		b.Fatal(err)
	}
	csvCopy := time.Since(t)
	t = time.Now()
	if _, err := pg.CopyFrom(ctx, &buf, `COPY plain_rec FROM STDIN (FORMAT binary)`); err != nil {
		b.Fatal(err)
	}
	recCopy := time.Since(t)
	b.Logf("plain COPY of the same file as CSV into text columns %v (import/plain = %.1f); of its %d converted rows (binary) %v (import/plain = %.1f)",
		csvCopy, res.Duration.Seconds()/csvCopy.Seconds(), res.Accepted, recCopy, res.Duration.Seconds()/recCopy.Seconds())
	if _, err := pg.Exec(ctx, `DROP TABLE plain_csv; DROP TABLE plain_rec`).ReadAll(); err != nil {
		b.Fatal(err)
	}
}

// writeHukou writes a hukou extract of n persons in households of three:
// valid, distinct IDs (birth days spread over 82 years), villages in turn.
func writeHukou(path string, n int, villages []region.Region) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	_, _ = fmt.Fprintln(w, hukouHeader) // a write error shows at Flush
	base := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC)
	rel := [3]string{"户主", "配偶", "子女"}
	for i := range n {
		born := base.AddDate(0, 0, i%30000)
		first := fmt.Sprintf("%s%s%03d", county, born.Format("20060102"), i/30000)
		id := first + string(idcard.CheckChar(first))
		v := villages[(i/3)%len(villages)].Code
		_, _ = fmt.Fprintf(w, "%s,居民%d,%s,%s,H%07d,%s,%s,正常\n", id, i, []string{"女", "男"}[i%2], born.Format("2006-01-02"), i/3, rel[i%3], v)
	}
	if err := w.Flush(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
