package region

import (
	"bufio"
	"compress/gzip"
	"context"
	"embed"
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The national tables from china-division 2.7.0 ship inside the binary so
// that any city can start without downloading anything.
//
//go:embed divisions/*.csv.gz
var embedded embed.FS

// Embedded returns the shipped national tables.
func Embedded() fs.FS {
	sub, _ := fs.Sub(embedded, "divisions")
	return sub
}

// tables lists the division files in parent-before-child order, with the
// column that names each row's parent.
var tables = []struct {
	name, parentCol string
	level           int
}{
	{"provinces", "", 1},
	{"cities", "provinceCode", 2},
	{"areas", "cityCode", 3},
	{"streets", "areaCode", 4},
	{"villages", "streetCode", 5},
}

// FilesIn lists the division files (csv or csv.gz) in a folder of fsys.
func FilesIn(fsys fs.FS, dir string) ([]string, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if tableOf(e.Name()) >= 0 {
			out = append(out, filepath.ToSlash(filepath.Join(dir, e.Name())))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no provinces/cities/areas/streets/villages .csv(.gz) files", dir)
	}
	return out, nil
}

func tableOf(name string) int {
	base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(name), ".gz"), ".csv")
	for i, t := range tables {
		if base == t.name {
			return i
		}
	}
	return -1
}

// Import loads division files from fsys, keeping only codes inside prefix
// and their ancestors. It upserts, so running it again changes nothing.
func Import(ctx context.Context, db *pgxpool.Pool, fsys fs.FS, files []string, prefix string) (int, error) {
	sort.SliceStable(files, func(i, j int) bool { return tableOf(files[i]) < tableOf(files[j]) })
	var rows [][]any
	for _, f := range files {
		t := tableOf(f)
		if t < 0 {
			return 0, fmt.Errorf("%s: not a division file (provinces, cities, areas, streets, villages)", f)
		}
		got, err := readTable(fsys, f, t, prefix)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", f, err)
		}
		rows = append(rows, got...)
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE region_in (code text, name text, level smallint, parent_code text) ON COMMIT DROP`); err != nil {
		return 0, err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"region_in"}, []string{"code", "name", "level", "parent_code"}, pgx.CopyFromRows(rows)); err != nil {
		return 0, fmt.Errorf("copy regions: %w", err)
	}
	// Rows whose parent is neither loaded nor known are skipped rather than
	// failing the whole load: a partial file set is still useful.
	const upsert = `
		INSERT INTO region (code, name, level, parent_code)
		SELECT i.code, i.name, i.level, i.parent_code FROM region_in i
		WHERE i.parent_code IN (SELECT code FROM region_in UNION ALL SELECT code FROM region)
		ORDER BY i.level, i.code
		ON CONFLICT (code) DO UPDATE
		SET name = excluded.name, level = excluded.level, parent_code = excluded.parent_code
		WHERE (region.name, region.level, region.parent_code) IS DISTINCT FROM (excluded.name, excluded.level, excluded.parent_code)`
	tag, err := tx.Exec(ctx, upsert)
	if err != nil {
		return 0, fmt.Errorf("upsert regions: %w", err)
	}
	return int(tag.RowsAffected()), tx.Commit(ctx)
}

func readTable(fsys fs.FS, name string, t int, prefix string) ([][]any, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(name, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		defer func() { _ = gz.Close() }()
		r = gz
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, err
	}
	codeCol, nameCol, parentCol := index(header, "code"), index(header, "name"), index(header, tables[t].parentCol)
	if codeCol < 0 || nameCol < 0 || (tables[t].parentCol != "" && parentCol < 0) {
		return nil, fmt.Errorf("header %v lacks code, name or %s", header, tables[t].parentCol)
	}
	var rows [][]any
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		code := rec[codeCol]
		if !strings.HasPrefix(code, prefix) && !strings.HasPrefix(prefix, code) {
			continue
		}
		parent := ""
		if parentCol >= 0 {
			parent = rec[parentCol]
		}
		rows = append(rows, []any{code, rec[nameCol], tables[t].level, parent})
	}
}

func index(header []string, col string) int {
	for i, h := range header {
		if strings.TrimPrefix(h, "\uFEFF") == col {
			return i
		}
	}
	return -1
}

// OSFiles turns command-line arguments (folders or files) into an fs.FS
// rooted at / and the file names within it.
func OSFiles(args []string) (fs.FS, []string, error) {
	var files []string
	for _, a := range args {
		abs, err := filepath.Abs(a)
		if err != nil {
			return nil, nil, err
		}
		st, err := os.Stat(abs)
		if err != nil {
			return nil, nil, err
		}
		rel := strings.TrimPrefix(abs, "/")
		if !st.IsDir() {
			files = append(files, rel)
			continue
		}
		in, err := FilesIn(os.DirFS("/"), rel)
		if err != nil {
			return nil, nil, err
		}
		files = append(files, in...)
	}
	return os.DirFS("/"), files, nil
}

// EmbeddedCounty returns a county's name and villages from the shipped
// tables, for tools that run without a database.
func EmbeddedCounty(county string) (string, []Region, error) {
	if LevelOf(county) != 3 {
		return "", nil, fmt.Errorf("%q is not a 6-digit county code", county)
	}
	fsys := Embedded()
	areas, err := readTable(fsys, "areas.csv.gz", 2, county)
	if err != nil {
		return "", nil, err
	}
	name := ""
	for _, a := range areas {
		if a[0] == county {
			name = a[1].(string)
		}
	}
	if name == "" {
		return "", nil, fmt.Errorf("county %s is not in the division tables", county)
	}
	rows, err := readTable(fsys, "villages.csv.gz", 4, county)
	if err != nil {
		return "", nil, err
	}
	var out []Region
	for _, r := range rows {
		if code := r[0].(string); strings.HasPrefix(code, county) {
			out = append(out, Region{Code: code, Name: r[1].(string), Level: 5, ParentCode: r[3].(string)})
		}
	}
	return name, out, nil
}
