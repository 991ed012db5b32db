package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/canbao/canbao/internal/indicator"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/report"
)

// sofficeCSV converts an xlsx file to CSV with LibreOffice headless and
// returns its rows.
func sofficeCSV(t *testing.T, xlsx []byte) [][]string {
	t.Helper()
	bin, err := exec.LookPath("soffice")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("soffice missing (.ci/run installs libreoffice-calc-nogui)")
		}
		t.Skip("soffice not installed (apt-get install libreoffice-calc-nogui)")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "t.xlsx")
	if err := os.WriteFile(in, xlsx, 0o644); err != nil {
		t.Fatal(err)
	}
	// its own profile: parallel conversions must not share one
	cmd := exec.Command(bin, "-env:UserInstallation=file://"+filepath.Join(dir, "profile"), "--headless",
		"--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", dir, in)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "t.csv"))
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// rowStarting finds the first CSV row whose first cell is first.
func rowStarting(rows [][]string, first string) []string {
	for _, r := range rows {
		if len(r) > 0 && r[0] == first {
			return r
		}
	}
	return nil
}

func TestExportsOpenInLibreOffice(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	runID := loadTiny(t, db)
	approve(t, db, runID, p3, "甲三", villA, "个人未参保")
	st := report.NewStore(db)
	mustPrepare(t, st, runID)
	day := time.Now()
	period := day.Format("2006-01")
	// a value that would be a formula if written as one
	if _, err := st.Save(ctx, city, "progress", "4409", period, map[string]string{"p.9": "=1+1", "p.1": "是", "p.29": "3"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Save(ctx, city, "progress", countyA, period, map[string]string{"p.29": "2.5"}); err != nil {
		t.Fatal(err)
	}
	if _, err := indicator.Snapshot(ctx, db, day); err != nil {
		t.Fatal(err)
	}
	prog, err := st.Progress(ctx, city, "4409", period, day)
	if err != nil {
		t.Fatal(err)
	}
	one, err := st.Basic(ctx, city, "basic1", "4409", day)
	if err != nil {
		t.Fatal(err)
	}
	two, err := st.Basic(ctx, city, "basic2", "4409", day)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range []report.Table{prog, one, two} {
		t.Run(tb.Key, func(t *testing.T) {
			var buf bytes.Buffer
			if err := report.WriteXLSX(tb, &buf); err != nil {
				t.Fatal(err)
			}
			// merged header cells, as excelize reads them back
			f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			merged, err := f.GetMergeCells("Sheet1")
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]string{}
			for _, m := range merged {
				have[m.GetStartAxis()+":"+m.GetEndAxis()] = m.GetCellValue()
			}
			levels := tb.Levels()
			for _, h := range tb.Header() {
				if h.RowSpan == 1 && h.ColSpan == 1 {
					continue
				}
				a, _ := excelize.CoordinatesToCellName(h.Col+1, 4+h.Row)
				b, _ := excelize.CoordinatesToCellName(h.Col+h.ColSpan, 4+h.Row+h.RowSpan-1)
				if have[a+":"+b] != h.Text {
					t.Errorf("merge %s:%s = %q, want %q", a, b, have[a+":"+b], h.Text)
				}
			}
			_ = f.Close()
			rows := sofficeCSV(t, buf.Bytes())
			if len(rows) < 4+levels || rows[0][0] != tb.Title {
				t.Fatalf("title row %v", rows[0])
			}
			jia := rowStarting(rows, "甲栏")
			var want []string
			for _, c := range tb.Columns {
				want = append(want, strconv.Itoa(c.No))
			}
			if jia == nil || !slices.Equal(jia[1:1+len(want)], want) {
				t.Errorf("甲栏 row %v, want %v", jia, want)
			}
			// the data rows: 合计 first, then a row per child, each value as the page shows it
			for i, r := range tb.Rows {
				got := rows[4+levels+i]
				if got[0] != r.Name {
					t.Errorf("row %d named %q, want %q", i, got[0], r.Name)
					continue
				}
				for j, c := range tb.Columns {
					if w := r.Cells[j].Show(c.Kind); got[j+1] != w {
						t.Errorf("%s column %d: %q, want %q", r.Name, c.No, got[j+1], w)
					}
				}
			}
			if !slices.ContainsFunc(rows, func(r []string) bool {
				return strings.Contains(r[0], "“本省”") && strings.Contains(r[0], "本报表区划")
			}) {
				t.Error("the note on 本省 is missing from the file")
			}
		})
	}
	// spot checks against hand-counted values
	if r := rowStarting(sofficeCSV(t, mustXLSX(t, one)), "合计"); at(one, r, 1) != "5" || at(one, r, 4) != "无数据" || at(one, r, 5) != "4" ||
		!strings.Contains(r[len(r)-1], "(2) ≥ (3) 通过：(2)=2 (3)=1") || !strings.Contains(r[len(r)-1], "(1) = (2) − (3) + (4) + (5) 未校验") {
		t.Errorf("table 一 合计 in the file: %v, want (1)=5 (4)=无数据 (5)=4 and the checks", r)
	}
	r := rowStarting(sofficeCSV(t, mustXLSX(t, prog)), "合计")
	if at(prog, r, 1) != "是" || at(prog, r, 9) != "=1+1" || at(prog, r, 29) != "5.5" {
		t.Errorf("progress 合计 in the file: %v, want 是, =1+1 as text and 5.5 training sessions", r)
	}
}

func mustXLSX(t *testing.T, tb report.Table) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.WriteXLSX(tb, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// at is the CSV cell of column number no in row r of tb.
func at(tb report.Table, r []string, no int) string {
	for i, c := range tb.Columns {
		if c.No == no && i+1 < len(r) {
			return r[i+1]
		}
	}
	return "(none)"
}
