package report_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/report"
	"github.com/canbao/canbao/internal/source"
)

var (
	asOf = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	city = actor.Actor{UserID: 0, Username: "city", Role: actor.City, Region: "4409", RegionName: "茂名市", IP: "local"}
	// the two counties and a village of each
	countyA, countyB = "440981", "440982"
	villA, villB     = "440981107204", "440982100201"
)

// id makes a valid ID of county born on birth (YYYYMMDD) with sequence seq.
func id(county, birth, seq string) string {
	s := county + birth + seq
	return s + string(idcard.CheckChar(s))
}

// The tiny data set: six persons of the city, two counties. Expected values
// in the tests below are counted by hand from these lines.
var (
	p1 = id(countyA, "19860101", "011")  // A, hukou; 职工养老 + 职工医疗 in A
	p2 = id(countyA, "19960101", "021")  // A, hukou; 居民养老 only → medical 应参未参, survey
	p3 = id(countyA, "19760101", "031")  // A, hukou; nothing → pension and medical 应参未参, survey
	p4 = id("450102", "19810101", "041") // no hukou here; five employee schemes in A → 非本省户籍
	p5 = id(countyB, "20060101", "051")  // B, hukou; 居民医疗 + 新农合 (跨制度-医疗), pension 应参未参, survey
	p6 = id(countyB, "19700101", "061")  // B, hukou; 职工养老 in A and in B, 居民养老 → 跨制度 and 跨地区 pension; medical 应参未参, survey
)

// loadTiny imports the data set and runs the city's comparison.
func loadTiny(t *testing.T, db *pgxpool.Pool) int64 {
	t.Helper()
	ctx := context.Background()
	fixture.Regions(t, db, "4409")
	dir := t.TempDir()
	hukou := "公民身份号码,姓名,性别,出生日期,户号,与户主关系,户籍地区划代码,人口状态\n" +
		p1 + ",甲一,男,1986-01-01,A001,户主," + villA + ",正常\n" +
		p2 + ",甲二,男,1996-01-01,A001,子," + villA + ",正常\n" +
		p3 + ",甲三,男,1976-01-01,A002,户主," + villA + ",正常\n" +
		p5 + ",乙五,男,2006-01-01,B001,子," + villB + ",正常\n" +
		p6 + ",乙六,男,1970-01-01,B001,户主," + villB + ",正常\n"
	enroll := "公民身份号码,姓名,险种类型,参保地区划代码,参保状态,缴费状态\n" +
		p1 + ",甲一,110," + countyA + ",1,1\n" +
		p1 + ",甲一,310," + countyA + ",1,1\n" +
		p2 + ",甲二,170," + countyA + ",1,1\n" +
		p4 + ",丁四,110," + countyA + ",1,1\n" +
		p4 + ",丁四,310," + countyA + ",1,1\n" +
		p4 + ",丁四,410," + countyA + ",1,1\n" +
		p4 + ",丁四,210," + countyA + ",1,1\n" +
		p4 + ",丁四,510," + countyA + ",1,1\n" +
		p5 + ",乙五,390," + countyB + ",1,1\n" +
		p5 + ",乙五,新农合," + countyB + ",1,1\n" +
		p6 + ",乙六,110," + countyA + ",1,1\n" +
		p6 + ",乙六,110," + countyB + ",1,1\n" +
		p6 + ",乙六,170," + countyB + ",1,1\n"
	for _, f := range []struct {
		kind       source.Kind
		name, body string
	}{{source.Hukou, "hukou.csv", hukou}, {source.Enrollment, "enroll.csv", enroll}} {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, []byte(f.body), 0o644); err != nil {
			t.Fatal(err)
		}
		req := imports.Request{Kind: f.kind, Region: "4409", Path: p, TempDir: dir}
		if _, err := imports.New(db).Import(ctx, city, req, nil); err != nil {
			t.Fatal(err)
		}
	}
	res, err := compare.New(db).Run(ctx, city, compare.Request{Region: "4409", AsOf: asOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.RunID
}

// approve files an approved survey form for a target member with reason.
func approve(t *testing.T, db *pgxpool.Pool, runID int64, idNumber, name, village, reason string) {
	t.Helper()
	ctx := context.Background()
	var round, hh, member int64
	err := db.QueryRow(ctx, `INSERT INTO survey_round (region_code, title, run_id) VALUES ('4409', '第一轮', $1) RETURNING id`, runID).Scan(&round)
	if err == nil {
		err = db.QueryRow(ctx, `INSERT INTO survey_household (round_id, code, household, region_code, added_run) VALUES ($1, $2, $2, $3, $4) RETURNING id`,
			round, "H"+idNumber, village, runID).Scan(&hh)
	}
	if err == nil {
		err = db.QueryRow(ctx, `INSERT INTO survey_member (household_id, round_id, id_number, name, target, added_run) VALUES ($1, $2, $3, $4, true, $5) RETURNING id`,
			hh, round, idNumber, name, runID).Scan(&member)
	}
	if err == nil {
		_, err = db.Exec(ctx, `INSERT INTO survey_form (member_id, household_id, round_id, state, reason, reviewed_at) VALUES ($1, $2, $3, 'approved', $4, '2026-07-01 10:00+08')`,
			member, hh, round, reason)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// row finds a table's row by region code (the 合计 row by Total).
func row(t *testing.T, tb report.Table, code string) report.Row {
	t.Helper()
	for _, r := range tb.Rows {
		if r.Code == code && !r.Rest {
			return r
		}
	}
	t.Fatalf("no row %s in %s", code, tb.Key)
	return report.Row{}
}

// values prints a row's cells by column number: "1=5 2=2 ...".
func values(tb report.Table, r report.Row, nos ...int) string {
	var out []string
	for _, no := range nos {
		for i, c := range tb.Columns {
			if c.No == no {
				out = append(out, strconv.Itoa(no)+"="+r.Cells[i].Show(c.Kind))
			}
		}
	}
	return strings.Join(out, " ")
}

func TestBasicTablesByHand(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	runID := loadTiny(t, db)
	approve(t, db, runID, p3, "甲三", villA, "个人未参保")
	approve(t, db, runID, p2, "甲二", villA, "其他：外出务工")
	st := report.NewStore(db)
	day := time.Now() // runs count from their start: the run above started today

	// Until a job prepares the run's rows the table says so and counts
	// nothing, and its lists are refused.
	pending, err := st.Basic(ctx, city, "basic1", "4409", day)
	if err != nil {
		t.Fatal(err)
	}
	if pending.Preparing != runID || len(pending.Rows) != 0 {
		t.Fatalf("before preparation: preparing %d with %d rows, want run %d and none", pending.Preparing, len(pending.Rows), runID)
	}
	if _, _, err := st.Persons(ctx, city, "b1.1", "4409", day, list.Query{Page: 1, Size: 10}); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("list before preparation: %v, want a conflict", err)
	}
	// Three preparations at once: one writes, the others wait for it and
	// write nothing; a later one returns at once.
	var wg sync.WaitGroup
	wrote := make(chan bool, 3)
	for range 3 {
		wg.Go(func() {
			w, err := st.Prepare(ctx, runID, nil)
			if err != nil {
				t.Error(err)
			}
			wrote <- w
		})
	}
	wg.Wait()
	close(wrote)
	n := 0
	for w := range wrote {
		if w {
			n++
		}
	}
	if w, err := st.Prepare(ctx, runID, nil); err != nil || w || n != 1 {
		t.Fatalf("preparations that wrote: %d at once and %v later (%v), want 1 and false", n, w, err)
	}
	var persons, universe int
	if err := db.QueryRow(ctx, `SELECT (SELECT count(*) FROM report_person WHERE run_id = $1),
		(SELECT count(*) FROM run_persons($1) WHERE in_universe)`, runID).Scan(&persons, &universe); err != nil {
		t.Fatal(err)
	}
	if persons != universe || universe == 0 {
		t.Fatalf("report rows %d for %d persons in the universe", persons, universe)
	}

	one, err := st.Basic(ctx, city, "basic1", "4409", day)
	if err != nil {
		t.Fatal(err)
	}
	nos := []int{1, 2, 3, 4, 5, 6, 7, 8, 10, 14, 15, 16, 9, 20}
	want := map[string]string{
		"4409":  "1=5 2=2 3=1 4=无数据 5=4 6=2 7=2 8=1 10=1 14=3 15=0 16=1 9=无数据 20=无数据",
		countyA: "1=3 2=2 3=1 4=无数据 5=2 6=2 7=1 8=0 10=0 14=2 15=0 16=0 9=无数据 20=无数据",
		countyB: "1=2 2=0 3=0 4=无数据 5=2 6=0 7=1 8=1 10=1 14=1 15=0 16=1 9=无数据 20=无数据",
	}
	for code, w := range want {
		if got := values(one, row(t, one, code), nos...); got != w {
			t.Errorf("table 一, %s:\n got %s\nwant %s", code, got, w)
		}
	}
	if !row(t, one, "4409").Total || one.Rows[0].Name != "合计" {
		t.Errorf("the first row is %q, want 合计", one.Rows[0].Name)
	}
	checks := row(t, one, "4409").Checks
	if len(checks) != 3 || !checks[0].Passed || checks[1].Known || !checks[2].Passed {
		t.Errorf("checks of 合计 without (4): %+v", checks)
	}

	// (4) entered as 0 for the city: (1) = (2) − (3) + (4) + (5) is 5 = 2 − 1 + 0 + 4.
	if _, err := st.Save(ctx, city, "basic1", "4409", day.Format("2006-01"), map[string]string{"b1.4": "0"}); err != nil {
		t.Fatal(err)
	}
	one, err = st.Basic(ctx, city, "basic1", "4409", day)
	if err != nil {
		t.Fatal(err)
	}
	if c := row(t, one, "4409").Checks[1]; !c.Known || !c.Passed {
		t.Errorf("(1) = (2) − (3) + (4) + (5) with (4)=0: %+v, want passed", c)
	}
	// (4) = 1 entered for county A adds to the city's (4): 5 ≠ 2 − 1 + 1 + 4.
	if _, err := st.Save(ctx, city, "basic1", countyA, day.Format("2006-01"), map[string]string{"b1.4": "1"}); err != nil {
		t.Fatal(err)
	}
	one, err = st.Basic(ctx, city, "basic1", "4409", day)
	if err != nil {
		t.Fatal(err)
	}
	if c := row(t, one, "4409").Checks[1]; !c.Known || c.Passed || !strings.Contains(c.Detail, "(4)=1") || !strings.Contains(c.Detail, "相差 -1") {
		t.Errorf("(1) = (2) − (3) + (4) + (5) with (4)=1: %+v, want failed with the numbers", c)
	}
	if got := values(one, row(t, one, countyA), 4); got != "4=1" {
		t.Errorf("county A's (4): %s, want 4=1", got)
	}

	two, err := st.Basic(ctx, city, "basic2", "4409", day)
	if err != nil {
		t.Fatal(err)
	}
	nos2 := []int{1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14, 15, 16, 17, 26}
	want2 := map[string]string{
		"4409":  "1=1 2=0 3=1 4=1 5=0 6=0 10=0 11=0 12=2 13=0 14=0 15=1 16=1 17=0 26=1",
		countyA: "1=1 2=0 3=1 4=0 5=0 6=0 10=0 11=0 12=1 13=0 14=0 15=0 16=1 17=0 26=1",
		countyB: "1=0 2=0 3=0 4=1 5=0 6=0 10=0 11=0 12=1 13=0 14=0 15=1 16=0 17=0 26=0",
	}
	for code, w := range want2 {
		if got := values(two, row(t, two, code), nos2...); got != w {
			t.Errorf("table 二, %s:\n got %s\nwant %s", code, got, w)
		}
	}

	// Every figure is the length of its list.
	for _, tb := range []report.Table{one, two} {
		for _, r := range tb.Rows {
			for i, c := range r.Cells {
				if c.Link == "" {
					continue
				}
				p, _, err := st.Persons(ctx, city, tb.Columns[i].Key, r.Code, day, list.Query{Page: 1, Size: 1000})
				if err != nil {
					t.Fatal(err)
				}
				if int64(len(p.Items)) != c.N || int64(p.Total) != c.N {
					t.Errorf("%s %s column %d: figure %d, list of %d (total %d)", tb.Key, r.Code, tb.Columns[i].No, c.N, len(p.Items), p.Total)
				}
			}
		}
	}
}

// mustPrepare prepares run's report rows, as the job does.
func mustPrepare(t *testing.T, st *report.Store, runID int64) {
	t.Helper()
	if _, err := st.Prepare(context.Background(), runID, nil); err != nil {
		t.Fatal(err)
	}
}

// TestSurveyColumnsFollowForms: the server's store keeps the survey
// columns' rows between requests; every change that moves them (a form
// approved, an approved form superseded, a member no longer a target) is
// seen by the next table and its list, and a draft saved is not a change.
func TestSurveyColumnsFollowForms(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	runID := loadTiny(t, db)
	st := report.NewCachedStore(db)
	mustPrepare(t, st, runID)
	day := time.Now()
	version := func() int64 {
		var n int64
		if err := db.QueryRow(ctx, `SELECT n FROM report_survey_version`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	check := func(step, want string) {
		t.Helper()
		one, err := st.Basic(ctx, city, "basic1", "4409", day)
		if err != nil {
			t.Fatal(err)
		}
		two, err := st.Basic(ctx, city, "basic2", "4409", day)
		if err != nil {
			t.Fatal(err)
		}
		got := values(one, row(t, one, "4409"), 6) + " " + values(one, row(t, one, countyA), 6) + " " +
			values(two, row(t, two, "4409"), 16, 26)
		if got != want {
			t.Errorf("%s: got %s, want %s", step, got, want)
		}
		p, _, err := st.Persons(ctx, city, "b1.6", "4409", day, list.Query{Page: 1, Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		if "6="+strconv.Itoa(p.Total) != values(one, row(t, one, "4409"), 6) || len(p.Items) != p.Total {
			t.Errorf("%s: list of column 6 has %d of %d persons, figure %s", step, len(p.Items), p.Total, values(one, row(t, one, "4409"), 6))
		}
	}
	check("no forms", "6=0 6=0 16=0 26=0")
	approve(t, db, runID, p3, "甲三", villA, "个人未参保")
	check("one approved", "6=1 6=1 16=1 26=0")
	approve(t, db, runID, p2, "甲二", villA, "其他：外出务工")
	check("two approved", "6=2 6=2 16=1 26=1")

	// An approved form superseded (an edit after approval) no longer
	// counts; the new draft that supersedes it is no change.
	if _, err := db.Exec(ctx, `UPDATE survey_form SET state = 'superseded' WHERE state = 'approved' AND reason = '个人未参保'`); err != nil {
		t.Fatal(err)
	}
	before := version()
	tag, err := db.Exec(ctx, `INSERT INTO survey_form (member_id, household_id, round_id, state)
		SELECT m.id, m.household_id, m.round_id, 'draft' FROM survey_member m WHERE m.id_number = $1`, p3)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("draft: %v %v", tag, err)
	}
	if v := version(); v != before {
		t.Errorf("a draft saved moved the version from %d to %d", before, v)
	}
	check("one superseded", "6=1 6=1 16=0 26=1")
	// A member who is no longer a target leaves column 6, not the reasons.
	if _, err := db.Exec(ctx, `UPDATE survey_member SET target = false WHERE id_number = $1`, p2); err != nil {
		t.Fatal(err)
	}
	check("no longer a target", "6=0 6=0 16=0 26=1")
}
