package compare_test

import (
	"context"
	"encoding/csv"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/pgtest"
)

var asOf = fixture.AsOf

// county generates and imports a county's extracts, returning the
// database and the generator's result (with its truth files).
func county(t testing.TB, households int, seed int64) (*pgxpool.Pool, demo.Result) {
	t.Helper()
	return countyFormat(t, households, seed, "mixed")
}

// dbExec is what the benchmark's baseline needs of a pool.
type dbExec interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func countyFormat(t testing.TB, households int, seed int64, format string) (*pgxpool.Pool, demo.Result) {
	t.Helper()
	db, _ := pgtest.New(t)
	return db, fixture.ImportCounty(t, db, households, seed, format)
}

func readCSV(t testing.TB, path string) [][]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) > 0 && len(rows[0]) > 0 {
		rows[0][0] = strings.TrimPrefix(rows[0][0], "\uFEFF")
	}
	return rows
}

// TestAccuracyOnGeneratedCounty runs the comparison on a generated county
// of 30,000+ persons and checks links and classifications against the
// generator's ground truth.
func TestAccuracyOnGeneratedCounty(t *testing.T) {
	t.Parallel()
	// The county gains a second 在校学生 extract with the IDs as numbers,
	// read from the workbook LibreOffice wrote from its rows (issue 15).
	db, _ := pgtest.New(t)
	opt := fixture.CountyOptions(t, fixture.AccuracyHouseholds, fixture.AccuracySeed, "mixed")
	opt.RoundedStudents = true
	rounded := filepath.Join("..", "..", "testdata", "rounded", "students.xlsx")
	gen := fixture.ImportCountyWith(t, db, opt, map[string]string{demo.RoundedStudentsFile: rounded})
	ctx := context.Background()
	start := time.Now()
	res, err := compare.New(db).Run(ctx, fixture.Actor, compare.Request{Region: "440981", AsOf: asOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("comparison of %d records, %d persons: %v (linked %d, review %d, unmatched %d)",
		res.Records, res.Persons, time.Since(start), res.Linked, res.Review, res.Unmatched)

	// Links: truth/records.csv says which person each row belongs to.
	links := map[string]string{}
	// Linked records are listed with their person; run_link adds the ones
	// left unmatched or in review.
	rows, err := db.Query(ctx, `
		SELECT b.file_name || ':' || r.line, r.id_number
		FROM run_records($1) r JOIN import_batch b ON b.id = r.batch_id
		UNION ALL
		SELECT b.file_name || ':' || l.line, ''
		FROM run_link l JOIN import_batch b ON b.id = l.batch_id WHERE l.run_id = $1 AND l.id_number IS NULL`, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		links[k] = v
	}
	rows.Close()
	var withID, linked, right, linkedWithID, rightWithID int
	byDirt := map[string]*[3]int{} // dirt kind → records, linked, linked right
	for _, rec := range readCSV(t, gen.TruthRecords)[1:] {
		file, line, truth, dirt := rec[0], rec[1], rec[2], rec[3]
		if truth == "" || dirt == "无效行" {
			continue
		}
		if file == demo.RoundedStudentsFile {
			file = filepath.Base(rounded)
		}
		got, seen := links[file+":"+line]
		if !seen {
			t.Errorf("record %s:%s was not compared", file, line)
			continue
		}
		if dirt != "" {
			n := byDirt[dirt]
			if n == nil {
				n = new([3]int)
				byDirt[dirt] = n
			}
			n[0]++
			if got != "" {
				n[1]++
			}
			if got == truth {
				n[2]++
			}
		}
		blankID := strings.Contains(dirt, "号码为空")
		if got != "" {
			linked++
			if got == truth {
				right++
			}
		}
		if !blankID {
			withID++
			if got != "" {
				linkedWithID++
			}
			if got == truth {
				rightWithID++
			}
		}
	}
	linkPrecision := float64(right) / float64(linked)
	linkRecall := float64(rightWithID) / float64(withID)
	t.Logf("links: %d linked, %d right (precision %.5f); records with an ID: %d, linked right %d (%.5f)",
		linked, right, linkPrecision, withID, rightWithID, linkRecall)

	for _, dirt := range slices.Sorted(maps.Keys(byDirt)) {
		n := byDirt[dirt]
		t.Logf("dirt %s: %d records, %d linked, %d linked right", dirt, n[0], n[1], n[2])
	}
	if n := byDirt["号码被舍入为数值"]; n == nil || n[2] < n[1] || n[0] < 500 {
		t.Errorf("rounded student IDs: %v (records, linked, right); if the generator changed, run testdata/rounded/make.sh", n)
	}

	// Persons: truth/persons.csv has the export's columns.
	got := map[string][]string{}
	prow, err := db.Query(ctx, `SELECT id_number, in_universe, pension, medical, flags, survey FROM run_persons($1)`, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	for prow.Next() {
		var id, pension, medical string
		var universe, survey bool
		var flags int
		if err := prow.Scan(&id, &universe, &pension, &medical, &flags, &survey); err != nil {
			t.Fatal(err)
		}
		got[id] = []string{yn(universe), pension, medical, compare.FlagNames(flags), yn(survey)}
	}
	prow.Close()
	truth := readCSV(t, gen.TruthPersons)
	var total, allRight int
	wrong := map[string]int{}
	cols := []string{"登记对象", "养老参保状态", "医疗参保状态", "问题标记", "入户调查"}
	for _, p := range truth[1:] {
		total++
		g, ok := got[p[0]]
		if !ok {
			wrong["缺失"]++
			continue
		}
		ok = true
		for i, c := range cols {
			if g[i] != p[2+i] {
				wrong[c]++
				ok = false
				if wrong[c] <= 3 {
					t.Logf("person %s %s: %s = %q, truth %q", p[0], p[1], c, g[i], p[2+i])
				}
			}
		}
		if ok {
			allRight++
		}
	}
	personAccuracy := float64(allRight) / float64(total)
	t.Logf("persons: %d in truth, %d found, all five fields right for %d (%.5f); wrong by field: %v",
		total, len(got), allRight, personAccuracy, wrong)
	if total < 30000 {
		t.Errorf("generated county has %d persons, want at least 30000", total)
	}
	if linkPrecision < 0.999 {
		t.Errorf("link precision %.5f < 0.999", linkPrecision)
	}
	if linkRecall < 0.995 {
		t.Errorf("records with an ID linked right %.5f < 0.995", linkRecall)
	}
	if personAccuracy < 0.995 {
		t.Errorf("person classification accuracy %.5f < 0.995", personAccuracy)
	}
}

func yn(b bool) string {
	if b {
		return "是"
	}
	return "否"
}
