package imports_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/sheet"
	"github.com/canbao/canbao/internal/source"
)

// testActor imports as the command line does: an administrator of everything.
var testActor = actor.CLI("test")

var update = flag.Bool("update", false, "rewrite golden files and fixtures")

// id18 completes a 17-digit body with its check character.
func id18(body17 string) string { return body17 + string(idcard.CheckChar(body17)) }

func newDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	db, _ := pgtest.New(t)
	fixture.Regions(t, db, "440981")
	return db
}

// fixtures writes the dirty test files under testdata/imports (with -update);
// they are committed so the tests read fixed bytes.
func fixtures(t *testing.T) {
	dir := "../../testdata/imports"
	if !*update {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	a, b, c := id18("44098119800101123"), id18("44098119751231002"), id18("44098120100615004")
	old15 := "440981750304121" // 15-digit form of 44098119750304121?
	hukou := strings.Join([]string{
		"高州市公安局户籍人口信息（2024年6月）,,,,,,,,,,",
		"公民身份号码,姓名,性别,民族,出生日期,户号,与户主关系,户籍地址,户籍地区划代码,人口状态",
		a + ",陈 大文,男,汉族,1980-01-01,H001,户主,镇江镇镇江村1号,440981107204,正常",
		strings.ToLower(b) + ",李秀英,2,汉族,1975/12/31,H001,配偶,镇江镇镇江村1号,440981107204,管理中",
		"",
		"４４０９８１２０１００６１５００" + c[16:] + ",陈小明,,汉族,20100615,H001,子,镇江镇镇江村1号,440981107204,正常",
		old15 + ",黄伟,男,汉族,,H002,户主,镇江镇镇江村2号,440981107,迁出",
		a[:10] + a[11:12] + a[10:11] + a[12:] + ",陈大文,男,汉族,1980-01-01,H003,户主,镇江镇镇江村3号,440981107204,死亡",
		",,,,,,,,,",
		",,男,汉族,1990-01-01,H004,户主,镇江镇镇江村4号,440981107204,正常",
		id18("44098119900202003") + ",张三,男,汉族,1990-02-02,H005,户主,地址,440981107204,正常,多出来的列",
		"4.40981199001011E+17,王五,男,汉族,1990-01-01,H006,户主,地址,4409811072,不明",
		",赵六,女,汉族,1960-13-45,H007,户主,地址,440981107204,正常",
		"合计：10人,,,,,,,,,",
	}, "\r\n") + "\r\n"
	gb, _ := simplifiedchinese.GB18030.NewEncoder().String(hukou)
	if err := os.WriteFile(filepath.Join(dir, "hukou_title_gb18030.csv"), []byte(gb), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := sheet.Create(filepath.Join(dir, "enroll_serial.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]any{
		{"2024年城乡居民养老保险参保名单"},
		{},
		{"身份证号码", "姓名", "险种", "参保地", "参保状态", "缴费状态", "参保时间", "单位"},
		{a, "陈大文", "170", "440981", "1", "1", 42916, ""},
		{b, "李秀英", "城乡居民基本养老保险", "440981000000", "正常参保", "暂停缴费", "2017/6/30", ""},
		{4.40981201006150e17, "陈小明", "居民医保", "440981", "1", "1", "20170630", ""},
		{id18("44098119800101123")[:17] + "0", "陈大文", "职工养老", "440902", "4", "3", 43000.0, "茂名石化"},
		{"", "黄 伟", "新农合", "440981", "2", "1", "2016-01-01", ""},
		{"", "", "170", "440981", "1", "1", "", ""},
		{"=cmd|' /C calc'!A0", "", "170", "440981", "1", "1", "", ""},
	}
	for _, r := range rows {
		if err := w.WriteValues(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestGolden(t *testing.T) {
	fixtures(t)
	cases := []struct {
		file string
		kind source.Kind
	}{
		{"../../testdata/imports/hukou_title_gb18030.csv", source.Hukou},
		{"../../testdata/imports/enroll_serial.xlsx", source.Enrollment},
		{"../../testdata/import/hukou_gb18030.csv", source.Hukou},
		{"../../testdata/import/enroll_utf8bom.csv", source.Enrollment},
		{"../../testdata/import/enroll_title.xlsx", source.Enrollment},
		{"../../testdata/import/resident_utf8.tsv", source.Resident},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			t.Parallel()
			db := newDB(t)
			im := imports.New(db)
			res, err := im.Import(context.Background(), testActor, imports.Request{Kind: c.kind, Region: "440981", Path: c.file}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := dump(t, db, im, res)
			golden := strings.Replace(c.file, "/testdata/import/", "/testdata/imports/", 1) + ".import.golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("import result differs from %s (run with -update to accept):\n%s", golden, got)
			}
		})
	}
}

// dump prints a batch's counts, records and issues in a stable form.
func dump(t *testing.T, db *pgxpool.Pool, im *imports.Importer, res imports.Result) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "read=%d accepted=%d rejected=%d marked=%d source=%s\n", res.Read, res.Accepted, res.Rejected, res.Marked, res.Source)
	rows, err := db.Query(context.Background(), `
		SELECT line, coalesce(id_norm, ''), coalesce(id_damage, 'ok'), coalesce(name, ''), coalesce(sex, ''), coalesce(birth::text, ''),
		       coalesce(region_code, ''), coalesce(hukou_region, ''), coalesce(pop_status, ''), coalesce(scheme, ''),
		       coalesce(enroll_status::text, ''), coalesce(pay_status::text, ''), coalesce(enroll_date::text, ''), split_part(raw, chr(31), 8),
		       array_length(string_to_array(raw, chr(31)), 1)
		FROM source_record WHERE batch_id = $1 ORDER BY line`, res.BatchID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var line, n int
		var f [13]string
		if err := rows.Scan(&line, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9], &f[10], &f[11], &f[12], &n); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "row %d: %s raw=%d\n", line, strings.Join(f[:], "|"), n)
	}
	all, err := im.Issues(context.Background(), testActor, res.BatchID, list.Query{})
	issues := all.Items
	if err != nil {
		t.Fatal(err)
	}
	for _, is := range issues {
		fmt.Fprintf(&b, "issue %d rejected=%v [%s] %q: %s\n", is.Line, is.Rejected, is.Column, is.Value, is.Reason)
	}
	return b.String()
}

func TestReimportRefused(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	im := imports.New(db)
	req := imports.Request{Kind: source.Enrollment, Region: "440981", Path: "../../testdata/import/enroll_utf8bom.csv"}
	first, err := im.Import(context.Background(), testActor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = im.Import(context.Background(), testActor, req, nil)
	if apperr.KindOf(err) != apperr.Conflict || !strings.Contains(apperr.Message(err), fmt.Sprintf("批次 #%d", first.BatchID)) {
		t.Fatalf("second import: %v, want a conflict naming batch #%d", err, first.BatchID)
	}
	var n int
	pgtest.MustScan(t, db.QueryRow(context.Background(), `SELECT count(*) FROM source_record`), &n)
	if n != first.Accepted {
		t.Errorf("%d records after refused reimport, want %d", n, first.Accepted)
	}
	// The same file as another kind is a different extract.
	req.Kind = source.Death
	if _, err := im.Import(context.Background(), testActor, req, nil); err == nil || apperr.KindOf(err) == apperr.Conflict {
		t.Errorf("import as another kind: %v (want a header error, not a duplicate)", err)
	}
}

func TestFailedImportLeavesNoTrace(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	im := imports.New(db)
	path := filepath.Join(t.TempDir(), "big.csv")
	w, _ := sheet.Create(path)
	mustWrite(t, w, []string{"公民身份号码", "姓名", "险种类型", "参保地区划代码", "参保状态", "缴费状态"})
	for i := 0; i < 50000; i++ {
		mustWrite(t, w, []string{id18(fmt.Sprintf("44098119800101%03d", i%1000)), "某某", "170", "440981", "1", "1"})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	prog := &imports.Progress{}
	go func() {
		for prog.Rows.Load() < 5000 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := im.Import(ctx, testActor, imports.Request{Kind: source.Enrollment, Region: "440981", Path: path}, prog)
	if err == nil {
		t.Fatal("import survived cancellation")
	}
	var records, tables, done, failed int
	pgtest.MustScan(t, db.QueryRow(context.Background(), `SELECT count(*) FROM source_record`), &records)
	pgtest.MustScan(t, db.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE tablename LIKE 'source_record_%'`), &tables)
	pgtest.MustScan(t, db.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE status = 'done'), count(*) FILTER (WHERE status = 'failed') FROM import_batch`), &done, &failed)
	if records != 0 || tables != 0 || done != 0 {
		t.Errorf("failed import left records=%d tables=%d done batches=%d", records, tables, done)
	}
	if failed != 1 {
		t.Errorf("%d failed batch rows, want 1 recording the attempt", failed)
	}
	// The same file imports fine afterwards.
	res, err := im.Import(context.Background(), testActor, imports.Request{Kind: source.Enrollment, Region: "440981", Path: path}, nil)
	if err != nil || res.Accepted != 50000 {
		t.Fatalf("retry: %+v %v", res, err)
	}
}

func TestSupersedeAndWithdraw(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	im := imports.New(db)
	dir := t.TempDir()
	write := func(name string, n int) string {
		p := filepath.Join(dir, name)
		w, _ := sheet.Create(p)
		mustWrite(t, w, []string{"公民身份号码", "姓名", "险种类型", "参保状态"})
		for i := 0; i < n; i++ {
			mustWrite(t, w, []string{id18(fmt.Sprintf("44098119800101%03d", i)), "某某", "390", "1"})
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ctx := context.Background()
	old, err := im.Import(ctx, testActor, imports.Request{Kind: source.Enrollment, Region: "440981", Path: write("a.csv", 3)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := im.Import(ctx, testActor, imports.Request{Kind: source.Enrollment, Region: "440981", Path: write("b.csv", 4), Source: "另一来源"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	newer, err := im.Import(ctx, testActor, imports.Request{Kind: source.Enrollment, Region: "440981", Path: write("c.csv", 5)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(newer.Superseded) != 1 || newer.Superseded[0] != old.BatchID || newer.Source != "居民医疗" {
		t.Fatalf("newer superseded %v (source %s), want only #%d", newer.Superseded, newer.Source, old.BatchID)
	}
	county := actor.Actor{UserID: 0, Username: "county", Role: actor.County, Region: "440981"}
	b, _ := im.Get(ctx, county, other.BatchID)
	if b.SupersededBy != nil {
		t.Error("a batch of another source was superseded")
	}
	// Only an administrator withdraws, and only inside their region; both
	// refusals are audited.
	if err := im.Withdraw(ctx, county, newer.BatchID); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("county clerk withdraws: %v, want forbidden", err)
	}
	townAdmin := actor.Actor{Username: "town-admin", Role: actor.Admin, Region: "440981107"}
	if err := im.Withdraw(ctx, townAdmin, newer.BatchID); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("admin of a township withdraws a county batch: %v, want not found", err)
	}
	if n := auditCount(t, db, "import.withdraw", "rejected"); n != 2 {
		t.Errorf("%d rejected withdrawals audited, want 2", n)
	}
	admin := actor.Actor{Username: "admin", Role: actor.Admin, Region: "4409"}
	if err := im.Withdraw(ctx, admin, newer.BatchID); err != nil {
		t.Fatal(err)
	}
	if n := auditCount(t, db, "import.withdraw", "ok"); n != 1 {
		t.Errorf("%d withdrawals audited, want 1", n)
	}
	b, _ = im.Get(ctx, county, old.BatchID)
	if b.SupersededBy != nil || b.StatusLabel() != "有效" {
		t.Errorf("withdrawing the newer batch did not restore the older: %+v", b)
	}
	b, _ = im.Get(ctx, county, newer.BatchID)
	if b.Status != "withdrawn" {
		t.Errorf("status %s", b.Status)
	}
	if recs, _ := im.Records(ctx, testActor, newer.BatchID, "", list.Query{Page: 1, Size: 10}); recs.Total != 5 || len(recs.Items) != 5 {
		t.Errorf("withdrawn batch rows must stay viewable: %d", recs.Total)
	}
	if _, err := im.Get(ctx, actor.Actor{Role: actor.Township, Region: "440981107"}, newer.BatchID); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("batch visible outside its region: %v", err)
	}
}

func TestErrorReport(t *testing.T) {
	t.Parallel()
	fixtures(t)
	db := newDB(t)
	im := imports.New(db)
	res, err := im.Import(context.Background(), testActor, imports.Request{Kind: source.Enrollment, Region: "440981", Path: "../../testdata/imports/enroll_serial.xlsx"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.xlsx")
	w, _ := sheet.Create(path)
	if err := im.WriteReport(context.Background(), testActor, res.BatchID, w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rows, _, err := sheet.Open(path, sheet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		lines = append(lines, strings.Join(rows.Values(), "|"))
	}
	if len(lines) < 3 || lines[0] != strings.Join(imports.ReportHeader, "|") {
		t.Fatalf("report = %q", lines)
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{"拒绝", "身份证号码和姓名均为空", "'=cmd", "科学计数法"} {
		if !strings.Contains(all, want) {
			t.Errorf("report lacks %q:\n%s", want, all)
		}
	}
}

// A file where every row carries a problem keeps every issue, without
// holding them in memory.
func TestEveryRowBadKeepsEveryIssue(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	im := imports.New(db)
	path := filepath.Join(t.TempDir(), "bad.csv")
	w, _ := sheet.Create(path)
	mustWrite(t, w, []string{"公民身份号码", "姓名", "险种类型", "参保日期"})
	const n = 30000
	for i := 0; i < n; i++ {
		id := id18(fmt.Sprintf("44098119800101%03d", i%1000))
		if i%2 == 0 {
			mustWrite(t, w, []string{id, "某某", "170", "上月底"}) // unreadable date: accepted, marked
		} else {
			mustWrite(t, w, []string{"", "", "170", "2017-06-30", "错位"}) // nothing usable and a shifted column: rejected
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := im.Import(context.Background(), testActor, imports.Request{Kind: source.Enrollment, Region: "440981", Path: path, TempDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != n/2 || res.Rejected != n/2 || res.Marked != n/2 {
		t.Fatalf("%+v", res)
	}
	issues, err := im.Issues(context.Background(), testActor, res.BatchID, list.Query{Page: 1, Size: 10})
	if err != nil || issues.Total != n || len(issues.Items) != 10 {
		t.Fatalf("issues: total %d (%v), want %d", issues.Total, err, n)
	}
}

// auditCount counts the audit lines of action with result.
func auditCount(t testing.TB, db *pgxpool.Pool, action, result string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = $1 AND result = $2`, action, result).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// mustWrite appends row to a test file, failing t on error, so a fixture is
// never silently short.
func mustWrite(t testing.TB, w sheet.Writer, row []string) {
	t.Helper()
	if err := w.Write(row); err != nil {
		t.Fatal(err)
	}
}

// TestImportOutsideRegionRefusedAndAudited: the importer checks the actor's
// role and region itself instead of trusting its caller.
func TestImportOutsideRegionRefusedAndAudited(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	im := imports.New(db)
	ctx := context.Background()
	req := imports.Request{Kind: source.Enrollment, Region: "440981", Path: "../../testdata/import/enroll_utf8bom.csv"}
	town := actor.Actor{Username: "town", Role: actor.Township, Region: "440981107"}
	if _, err := im.Import(ctx, town, req, nil); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("township clerk imports: %v, want forbidden", err)
	}
	townAdmin := actor.Actor{Username: "town-admin", Role: actor.Admin, Region: "440981107"}
	if _, err := im.Import(ctx, townAdmin, req, nil); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("import into the county by a township's admin: %v, want not found", err)
	}
	var batches int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM import_batch`).Scan(&batches); err != nil {
		t.Fatal(err)
	}
	if batches != 0 {
		t.Errorf("%d batches after refused imports", batches)
	}
	if n := auditCount(t, db, "import.create", "rejected"); n != 2 {
		t.Errorf("%d refused imports audited, want 2", n)
	}
}

// TestFailedAuditFailsCommand: a change whose audit line cannot be written
// does not happen, and a refusal whose audit line cannot be written is
// reported as the internal error it is.
func TestFailedAuditFailsCommand(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	im := imports.New(db)
	ctx := context.Background()
	res, err := im.Import(ctx, testActor, imports.Request{Kind: source.Enrollment, Region: "440981", Path: "../../testdata/import/enroll_utf8bom.csv"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `
		CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit unavailable'; END $$;
		CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit();`); err != nil {
		t.Fatal(err)
	}
	if err := im.Withdraw(ctx, testActor, res.BatchID); err == nil || apperr.KindOf(err) != apperr.Internal {
		t.Fatalf("withdraw without audit: %v, want an internal error", err)
	}
	if b, err := im.Get(ctx, testActor, res.BatchID); err != nil || b.Status != "done" {
		t.Errorf("batch after a withdrawal that could not be audited: %v %s, want done", err, b.Status)
	}
	county := actor.Actor{Role: actor.County, Region: "440981"}
	if err := im.Withdraw(ctx, county, res.BatchID); apperr.KindOf(err) != apperr.Internal {
		t.Errorf("refusal without audit: %v, want an internal error", err)
	}
}
