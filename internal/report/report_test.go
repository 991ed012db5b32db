package report_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/indicator"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/report"
)

// TestCountiesSumToCity: what each county sees as its 合计 is its row in
// the city's table, and the city's rows add up to its 合计.
func TestCountiesSumToCity(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	runID := loadTiny(t, db)
	approve(t, db, runID, p3, "甲三", villA, "个人未参保")
	st := report.NewStore(db)
	// the daily snapshot's step: the current run, once
	for _, want := range []int{1, 0} {
		if n, err := st.PrepareMissing(ctx, nil); err != nil || n != want {
			t.Fatalf("PrepareMissing prepared %d runs (%v), want %d", n, err, want)
		}
	}
	day := time.Now()
	for _, table := range []string{"basic1", "basic2"} {
		cityT, err := st.Basic(ctx, city, table, "4409", day)
		if err != nil {
			t.Fatal(err)
		}
		total := row(t, cityT, "4409")
		for i, c := range cityT.Columns {
			if !total.Cells[i].Known || c.Manual {
				continue
			}
			var sum int64
			for _, r := range cityT.Rows[1:] {
				sum += r.Cells[i].N
			}
			if sum != total.Cells[i].N {
				t.Errorf("%s column %d: rows add up to %d, 合计 %d", table, c.No, sum, total.Cells[i].N)
			}
		}
		for _, county := range []string{countyA, countyB} {
			clerk := actor.Actor{Username: "c" + county, Role: actor.County, Region: county, IP: "local"}
			own, err := st.Basic(ctx, clerk, table, county, day)
			if err != nil {
				t.Fatal(err)
			}
			got, want := own.Rows[0], row(t, cityT, county)
			for i, c := range own.Columns {
				if got.Cells[i].Show(c.Kind) != want.Cells[i].Show(c.Kind) {
					t.Errorf("%s column %d: county %s sees %s, the city's row says %s", table, c.No, county,
						got.Cells[i].Show(c.Kind), want.Cells[i].Show(c.Kind))
				}
			}
			if _, err := st.Basic(ctx, clerk, table, "4409", day); err == nil {
				t.Errorf("county %s read the city's table", county)
			}
		}
	}
}

// TestProgressByHand: rates from the indicator package, entries summed or
// the region's own, every save in the history.
func TestProgressByHand(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	runID := loadTiny(t, db)
	approve(t, db, runID, p3, "甲三", villA, "个人未参保")
	st := report.NewStore(db)
	now := time.Now()
	period := now.Format("2006-01")
	save := func(region string, v map[string]string) {
		t.Helper()
		if _, err := st.Save(ctx, city, "progress", region, period, v); err != nil {
			t.Fatal(err)
		}
	}
	save("4409", map[string]string{"p.1": "是", "p.12": "10.5", "p.29": "3"})
	save(countyA, map[string]string{"p.1": "否", "p.12": "2", "p.29": "2"})
	save(countyA, map[string]string{"p.29": "4", "p.12": ""}) // a correction and a clearing
	if _, err := st.Save(ctx, city, "progress", countyB, period, map[string]string{"p.1": "可能"}); err == nil {
		t.Error("是/否 accepted 可能")
	}
	if _, err := st.Save(ctx, city, "progress", countyB, period, map[string]string{"p.12": "-1"}); err == nil {
		t.Error("a negative amount was accepted")
	}
	tb, err := st.Progress(ctx, city, "4409", period, now)
	if err != nil {
		t.Fatal(err)
	}
	// no snapshot yet: the rates have no data, the entries show
	if got := values(tb, row(t, tb, "4409"), 1, 22); got != "1=是 22=无数据" {
		t.Errorf("before any snapshot: %s, want 1=是 22=无数据", got)
	}
	if _, err := indicator.Snapshot(ctx, db, now); err != nil {
		t.Fatal(err)
	}
	if tb, err = st.Progress(ctx, city, "4409", period, now); err != nil {
		t.Fatal(err)
	}
	// 常住人口 = the universe: A 4 (p1–p4), B 2 (p5, p6). 登记入库 = not a
	// survey target (p1, p4) or approved (p3): A 3, B 0. 入户率 and 完成率:
	// the round lists p3 only (A), visited and approved.
	want := map[string]string{
		"4409":  "1=是 12=10.5 13=100.0 15=无数据 17=100.0 18=100.0 22=50.0 29=7",
		countyA: "1=否 12=无数据 13=100.0 15=无数据 17=100.0 18=100.0 22=75.0 29=4",
		countyB: "1=无数据 12=无数据 13=100.0 15=无数据 17=无数据 18=无数据 22=0.0 29=无数据",
	}
	for code, w := range want {
		if got := values(tb, row(t, tb, code), 1, 12, 13, 15, 17, 18, 22, 29); got != w {
			t.Errorf("progress %s:\n got %s\nwant %s", code, got, w)
		}
	}
	hist, err := st.History(ctx, city, "progress", countyA, period)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, h := range hist {
		lines = append(lines, h.Item+":"+h.Old+">"+h.New)
	}
	if got := strings.Join(lines, " "); got != "p.29:2>4 p.12:2> p.29:>2 p.12:>2 p.1:>否" {
		t.Errorf("history of A: %s", got)
	}
	var audited int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = $1`, report.AuditEntry), &audited)
	if audited != 3 {
		t.Errorf("%d saves audited, want 3", audited)
	}
	leader := actor.Actor{Username: "leader", Role: actor.Leader, Region: "4409", IP: "local"}
	if _, err := st.Save(ctx, leader, "progress", "4409", period, map[string]string{"p.1": "否"}); err == nil {
		t.Error("a leader saved an entry")
	}
	if _, err := st.Progress(ctx, leader, "4409", period, now); err != nil {
		t.Errorf("a leader cannot read the progress table: %v", err)
	}
}

func TestBulletins(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	runID := loadTiny(t, db)
	approve(t, db, runID, p3, "甲三", villA, "个人未参保")
	// the round runs from ten days ago to nine days ahead: half its time is
	// gone; B's target p5 is not visited yet.
	if _, err := db.Exec(ctx, `UPDATE survey_round SET created_at = now() - interval '10 days', deadline = current_date + 9`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `
		WITH h AS (INSERT INTO survey_household (round_id, code, household, region_code, added_run)
		           SELECT id, 'HB', 'B001', $1, run_id FROM survey_round RETURNING id, round_id, added_run)
		INSERT INTO survey_member (household_id, round_id, id_number, name, target, added_run)
		SELECT id, round_id, $2, '乙五', true, added_run FROM h`, villB, p5); err != nil {
		t.Fatal(err)
	}
	st := report.NewStore(db)
	now := time.Now()
	if _, err := indicator.Snapshot(ctx, db, now); err != nil {
		t.Fatal(err)
	}
	first, err := st.CreateBulletin(ctx, city, "4409", "第一期通报", "")
	if err != nil {
		t.Fatal(err)
	}
	second, err := st.CreateBulletin(ctx, city, "4409", "第二期通报", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.GetBulletin(ctx, city, first, now)
	if err != nil {
		t.Fatal(err)
	}
	if b.Number != 1 || b.Issued || len(b.Data.Lines) != 5 {
		t.Fatalf("draft: number %d issued %v lines %d (茂名 has 5 counties)", b.Number, b.Issued, len(b.Data.Lines))
	}
	// A: 1 of 1 confirmed, B: 0 of 1; expected about half → B is behind.
	// The three counties without data follow, unranked and not behind.
	a, bb := b.Data.Lines[0], b.Data.Lines[1]
	for _, l := range b.Data.Lines[2:] {
		if l.Rank != 0 || l.Behind {
			t.Errorf("%s without data: rank %d, behind %v", l.Name, l.Rank, l.Behind)
		}
	}
	if a.Code != countyA || a.Rank != 1 || a.Behind || bb.Code != countyB || bb.Rank != 2 || !bb.Behind {
		t.Errorf("ranking: %s rank %d behind %v; %s rank %d behind %v", a.Code, a.Rank, a.Behind, bb.Code, bb.Rank, bb.Behind)
	}
	if e := b.Data.Expected; e < 0.45 || e > 0.6 {
		t.Errorf("expected progress %.2f, want about 0.5", e)
	}
	if err := st.IssueBulletin(ctx, city, first, now); err != nil {
		t.Fatal(err)
	}
	if err := st.IssueBulletin(ctx, city, first, now); err == nil {
		t.Error("issued twice")
	}
	if _, err := db.Exec(ctx, `UPDATE report_bulletin SET title = 'x' WHERE id = $1`, first); err == nil {
		t.Error("an issued bulletin was changed")
	}
	// B's member is approved now: the draft moves, the issued one does not.
	approve(t, db, runID, p5, "乙五", villB, "缴费中断")
	if _, err := indicator.Snapshot(ctx, db, now); err != nil {
		t.Fatal(err)
	}
	issued, err := st.GetBulletin(ctx, city, first, now)
	if err != nil {
		t.Fatal(err)
	}
	draft, err := st.GetBulletin(ctx, city, second, now)
	if err != nil {
		t.Fatal(err)
	}
	rate := func(l report.BulletinLine) string { return l.Values["survey_rate"].Percent() }
	if got := rate(issued.Data.Total); got != "50.0%" {
		t.Errorf("issued bulletin's 完成率 %s, want the frozen 50.0%%", got)
	}
	if draft.Data.PrevNumber != 1 || draft.Number != 2 {
		t.Errorf("second bulletin: number %d, previous %d", draft.Number, draft.Data.PrevNumber)
	}
	tb := report.BulletinTable(draft)
	if got := values(tb, tb.Rows[0], 3, 4); !strings.HasPrefix(got, "3=") || !strings.Contains(got, "4=+") {
		t.Errorf("progress since the first bulletin: %s", got)
	}
	leader := actor.Actor{Username: "leader", Role: actor.Leader, Region: "4409", IP: "local"}
	if _, err := st.CreateBulletin(ctx, leader, "4409", "x", ""); err == nil {
		t.Error("a leader created a bulletin")
	}
	if list, err := st.Bulletins(ctx, leader); err != nil || len(list) != 2 {
		t.Errorf("a leader lists %d bulletins (%v), want 2", len(list), err)
	}
}
