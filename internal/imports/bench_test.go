package imports_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/source"

	"github.com/xuri/excelize/v2"
)

// benchRows is the size of the generated enrollment file (the issue's
// figure); CANBAO_BENCH_ROWS overrides it for a quick run.
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("CANBAO_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

var (
	benchFilesOnce sync.Map // extension → path
	benchDir       string
)

// benchFile generates (once per run) an enrollment file of benchRows rows.
func benchFile(b *testing.B, ext string) string {
	if p, ok := benchFilesOnce.Load(ext); ok {
		return p.(string)
	}
	if benchDir == "" {
		benchDir, _ = os.MkdirTemp("", "canbao-bench-")
	}
	path := filepath.Join(benchDir, "参保信息_bench"+ext)
	vs := villages(b)
	if _, err := demo.EnrollmentFile(path, "440981", vs, benchRows(), 7); err != nil {
		b.Fatal(err)
	}
	benchFilesOnce.Store(ext, path)
	return path
}

func villages(b *testing.B) []demo.Village {
	var out []demo.Village
	for i := 1; i <= 30; i++ {
		out = append(out, demo.Village{Code: fmt.Sprintf("440981107%03d", 200+i), Name: fmt.Sprintf("第%d村委会", i)})
	}
	return out
}

// resetPeak clears the process's peak RSS (Linux clear_refs 5), so the
// figure read afterwards belongs to the measured work alone.
func resetPeak(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Fatal(err)
	}
}

// peakMiB reads VmHWM, the peak resident set size.
func peakMiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// cleanBatches removes earlier rounds' batches so each round imports the
// file as a fresh extract, and checkpoints so no earlier write is pending.
func cleanBatches(b *testing.B, db *pgxpool.Pool) {
	ctx := context.Background()
	exec := func(q string, args ...any) {
		if _, err := db.Exec(ctx, q, args...); err != nil {
			b.Fatal(err)
		}
	}
	exec(`DELETE FROM import_batch WHERE status <> 'done'`)
	// Each round imports as a fresh extract: drop the previous batch.
	rows, err := db.Query(ctx, `SELECT id FROM import_batch`)
	if err != nil {
		b.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	for _, id := range ids {
		exec(fmt.Sprintf(`DROP TABLE IF EXISTS source_record_%d`, id))
		exec(`DELETE FROM import_issue WHERE batch_id = $1`, id)
		exec(`UPDATE import_batch SET superseded_by = NULL`)
		exec(`DELETE FROM import_batch WHERE id = $1`, id)
	}
	exec(`CHECKPOINT`)
}

func importOnce(b *testing.B, db *pgxpool.Pool, path string) (imports.Result, time.Duration) {
	ctx := context.Background()
	start := time.Now()
	res, err := imports.New(db).Import(ctx, testActor, imports.Request{Kind: source.Enrollment, Region: "440981", Path: path}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return res, time.Since(start)
}

// bareCopy is the baseline: PostgreSQL's own COPY of the same CSV into a
// bare table of text columns, streamed from the file.
func bareCopy(b *testing.B, db *pgxpool.Pool, path string) time.Duration {
	ctx := context.Background()
	cols := make([]string, 8)
	for i := range cols {
		cols[i] = fmt.Sprintf("c%d text", i)
	}
	if _, err := db.Exec(ctx, `DROP TABLE IF EXISTS bare`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(ctx, `CREATE TABLE bare (`+strings.Join(cols, ", ")+`)`); err != nil {
		b.Fatal(err)
	}
	conn, err := db.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if _, err := db.Exec(ctx, `CHECKPOINT`); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if _, err := conn.Conn().PgConn().CopyFrom(ctx, bufio.NewReaderSize(f, 1<<20), `COPY bare FROM STDIN WITH (FORMAT csv, HEADER true)`); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkImportCSV imports a 1,000,000-row enrollment CSV end to end
// (read, validate, stage, commit) and compares it with a bare COPY.
func BenchmarkImportCSV(b *testing.B) {
	db := newDB(b)
	path := benchFile(b, ".csv")
	b.ResetTimer()
	var rate, ratio, peak float64
	for i := 0; i < b.N; i++ {
		base := bareCopy(b, db, path)
		cleanBatches(b, db)
		resetPeak(b)
		res, d := importOnce(b, db, path)
		peak = peakMiB()
		rate = float64(res.Read) / d.Seconds()
		ratio = base.Seconds() / d.Seconds()
		b.Logf("csv: %d rows in %v (%.0f rows/s); bare COPY %v (%.0f rows/s); ratio %.2f; peak RSS %.0f MiB",
			res.Read, d, rate, base, float64(res.Read)/base.Seconds(), ratio, peak)
	}
	b.ReportMetric(rate, "rows/s")
	b.ReportMetric(ratio, "ratio-vs-COPY")
	b.ReportMetric(peak, "peak-MiB")
}

// BenchmarkImportXLSX imports the same rows as .xlsx and compares it with a
// bare excelize streaming read of the file.
func BenchmarkImportXLSX(b *testing.B) {
	db := newDB(b)
	path := benchFile(b, ".xlsx")
	b.ResetTimer()
	var rate, ratio, peak float64
	for i := 0; i < b.N; i++ {
		base := bareExcelize(b, path)
		cleanBatches(b, db)
		resetPeak(b)
		res, d := importOnce(b, db, path)
		peak = peakMiB()
		rate = float64(res.Read) / d.Seconds()
		ratio = base.Seconds() / d.Seconds()
		b.Logf("xlsx: %d rows in %v (%.0f rows/s); bare excelize read %v; ratio %.2f; peak RSS %.0f MiB",
			res.Read, d, rate, base, ratio, peak)
	}
	b.ReportMetric(rate, "rows/s")
	b.ReportMetric(ratio, "ratio-vs-excelize")
	b.ReportMetric(peak, "peak-MiB")
}

func bareExcelize(b *testing.B, path string) time.Duration {
	start := time.Now()
	f, err := excelize.OpenFile(path)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	rows, err := f.Rows(f.GetSheetName(0))
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for rows.Next() {
		if _, err := rows.Columns(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := rows.Close(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}
