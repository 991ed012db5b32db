package dynamic_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/dynamic"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/job"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/registry"
	"github.com/canbao/canbao/internal/source"
)

const (
	residentHeader = "公民身份号码,姓名,性别,出生日期,居住地址,居住地区划代码,户籍地区划代码"
	studentHeader  = "公民身份号码,姓名,学校名称"
	otherCounty    = "440982101201" // 化州: the residents' hukou
)

func resident(id, name, region string) string {
	b := id[6:14]
	return fmt.Sprintf("%s,%s,女,%s-%s-%s,某街%s号,%s,%s", id, name, b[:4], b[4:6], b[6:], id[14:17], region, otherCounty)
}

// loadTaken is load with the day the extract was taken (数据日期);
// it returns the batch, or the import's error.
func (w *world) loadTaken(t *testing.T, kind source.Kind, taken string, header string, rows ...string) (int64, error) {
	t.Helper()
	w.n++
	path := filepath.Join(w.dir, fmt.Sprintf("%s-%d.csv", kind, w.n))
	if err := os.WriteFile(path, []byte(header+"\n"+strings.Join(rows, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	date, err := imports.ParseExtractDate(taken)
	if err != nil {
		t.Fatal(err)
	}
	var res imports.Result
	req := imports.Request{Kind: kind, Region: county, Path: path, FileName: filepath.Base(path), TempDir: w.dir, Force: true, ExtractDate: date}
	_, err = w.im.Job(w.clerk, req, 0, &res).Run(context.Background(), &job.Progress{})
	return res.BatchID, err
}

func (w *world) mustLoadTaken(t *testing.T, kind source.Kind, taken string, header string, rows ...string) int64 {
	t.Helper()
	b, err := w.loadTaken(t, kind, taken, header, rows...)
	if err != nil {
		t.Fatalf("import of %s: %v", taken, err)
	}
	return b
}

// seedEntries adds registry entries with the fields given.
func (w *world) seedEntries(t *testing.T, entries map[string]map[registry.Field]string) {
	t.Helper()
	var es []registry.Entry
	for id, v := range entries {
		es = append(es, registry.Entry{ID: id, Values: v})
	}
	ctx := context.Background()
	tx, err := w.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := registry.Apply(ctx, tx, registry.ChangeSet{Source: registry.Source{Kind: registry.Comparison, ID: 1},
		Effective: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), Persons: registry.NewEntries(es...)}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// fullEvents returns every event of a batch, by ID number.
func (w *world) fullEvents(t *testing.T, batch int64) map[string][]dynamic.Event {
	t.Helper()
	page, err := w.store.Events(context.Background(), w.clerk,
		list.Query{Page: 1, Size: 200, Filters: map[string][]string{"batch": {fmt.Sprint(batch)}}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]dynamic.Event{}
	for _, e := range page.Items {
		out[e.IDNumber] = append(out[e.IDNumber], e)
	}
	return out
}

// describe is an event as the tests compare it: label, state, values,
// effective date and hold.
func describe(es []dynamic.Event) string {
	var out []string
	for _, e := range es {
		s := fmt.Sprintf("%s %s %s→%s %s", e.Label(), e.State, e.Old, e.New, e.Effective.Format("2006-01-02"))
		if e.HoldReason != "" {
			s += " " + e.HoldReason
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

// TestResidenceEvents: a newer 居住人口 extract gives moves in, moves out
// and changes of residence region, dated by the day it was taken; they
// keep the registry's residence, move the managed region of a person
// without a living hukou, never touch a hukou's facts, and wait for a
// clerk when the person is still enrolled here or recorded dead.
func TestResidenceEvents(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var (
		same    = makeID("19900101", 61)          // listed in both, unchanged
		gone    = makeID("19900102", 63)          // gone, not enrolled: move out
		moved   = makeID("19900103", 65)          // another village: region
		still   = makeID("19900104", 67)          // gone while enrolled here: held
		fresh   = makeID("19900105", 69)          // new, unknown to the registry
		local   = makeID("19900106", 71)          // new, a local hukou person: hukou untouched
		left    = makeID("19900107", 73)          // new, hukou 迁出: managed where they live now
		insured = makeID("19900108", 75)          // new, known from enrollment only: identity from the residence record
		dead    = makeID("19900109", 77)          // new, recorded dead: held
		bad     = damaged(makeID("19900110", 79)) // damaged ID: never a move
		blank   = makeID("19900111", 57)          // new, a hukou person without 人口状态: as 正常
	)
	resident := func(id, name, region string) string { return resident(id, name, region) }
	w.seedEntries(t, map[string]map[registry.Field]string{
		gone:  {registry.Name: "甲", registry.IdentityKind: string(source.Resident), registry.RegionCode: village, registry.Residence: village},
		moved: {registry.Name: "乙", registry.IdentityKind: string(source.Resident), registry.RegionCode: village, registry.Residence: village},
		still: {registry.Name: "丙", registry.IdentityKind: string(source.Resident), registry.RegionCode: village, registry.Residence: village},
		local: {registry.Name: "丁", registry.IdentityKind: string(source.Hukou), registry.RegionCode: village, registry.HukouRegion: village,
			registry.Household: "H1", registry.PopStatus: "正常"},
		left: {registry.Name: "戊", registry.IdentityKind: string(source.Hukou), registry.RegionCode: village, registry.HukouRegion: village,
			registry.Household: "H2", registry.PopStatus: "迁出"},
		blank:   {registry.Name: "辛", registry.IdentityKind: string(source.Hukou), registry.RegionCode: village, registry.HukouRegion: village},
		insured: {registry.Name: "己旧", registry.IdentityKind: string(source.Enrollment), registry.RegionCode: village},
		dead: {registry.Name: "庚", registry.IdentityKind: string(source.Resident), registry.RegionCode: village, registry.PopStatus: "死亡",
			registry.DeathDate: "2026-01-02"},
	})
	w.load(t, source.Enrollment, enrollHeader, enroll(still, "丙", "正常参保", "参保缴费"))
	first := w.mustLoadTaken(t, source.Resident, "2026-03-31", residentHeader, resident(same, "同", village), resident(gone, "甲", village),
		resident(moved, "乙", village), resident(still, "丙", village), bad+",坏,女,1990-01-10,某街,"+village+","+otherCounty)
	if evs := w.fullEvents(t, first); len(evs) != 0 {
		t.Errorf("the first residence extract gave events: %v", evs)
	}
	nb := w.mustLoadTaken(t, source.Resident, "2026-06-30", residentHeader, resident(same, "同", village), resident(moved, "乙", village2),
		resident(fresh, "新", village), resident(local, "丁", village2), resident(left, "戊", village2), resident(insured, "己", village),
		resident(dead, "庚", village), resident(blank, "辛", village2))
	evs := w.fullEvents(t, nb)
	for id, want := range map[string]string{
		same:    "",
		bad:     "",
		gone:    "迁出（居住） auto " + village + "→不在新居住人口数据中 2026-06-30",
		moved:   "居住地变更 auto " + village + "→" + village2 + " 2026-06-30",
		still:   "迁出（居住） pending " + village + "→不在新居住人口数据中 2026-06-30 仍在本地参保，请核实后确认",
		fresh:   "迁入（居住） auto →" + village + " 2026-06-30",
		local:   "迁入（居住） auto →" + village2 + " 2026-06-30",
		left:    "迁入（居住） auto →" + village2 + " 2026-06-30",
		insured: "迁入（居住） auto →" + village + " 2026-06-30",
		dead:    "迁入（居住） pending →" + village + " 2026-06-30 登记库记载该人员已死亡，请核实后确认",
		blank:   "迁入（居住） auto →" + village2 + " 2026-06-30",
	} {
		if got := describe(evs[id]); got != want {
			t.Errorf("events of %s: got %q, want %q", id, got, want)
		}
	}
	for _, c := range []struct{ id, col, want string }{
		{gone, "residence", dynamic.ResidenceLeft}, {gone, "region_code", village},
		{moved, "residence", village2}, {moved, "region_code", village2},
		{still, "residence", village},
		{fresh, "residence", village}, {fresh, "region_code", village}, {fresh, "identity_kind", string(source.Resident)},
		{fresh, "name", "新"}, {fresh, "hukou_region", otherCounty}, {fresh, "birth", "1990-01-05"},
		{local, "residence", village2}, {local, "region_code", village}, {local, "hukou_region", village}, {local, "household", "H1"},
		{local, "identity_kind", string(source.Hukou)},
		{left, "residence", village2}, {left, "region_code", village2}, {left, "hukou_region", village}, {left, "pop_status", "迁出"},
		{insured, "identity_kind", string(source.Resident)}, {insured, "name", "己"}, {insured, "residence", village},
		{dead, "residence", ""}, {dead, "region_code", village},
		{blank, "residence", village2}, {blank, "region_code", village},
	} {
		if got := w.field(t, c.id, c.col); got != c.want {
			t.Errorf("%s of %s = %q, want %q", c.col, c.id, got, c.want)
		}
	}
	if n := w.count(t, `SELECT count(*) FROM person WHERE id_number = $1`, bad); n != 0 {
		t.Errorf("a damaged ID reached the registry")
	}

	// The clerk confirms the held move out: the residence is left.
	if err := w.store.Confirm(ctx, w.clerk, evs[still][0].ID); err != nil {
		t.Fatal(err)
	}
	if got := w.field(t, still, "residence"); got != dynamic.ResidenceLeft {
		t.Errorf("confirmed move out: residence %q", got)
	}

	// The person's timeline names the residence extract.
	page, err := registry.NewStore(w.db).Timeline(ctx, w.clerk, moved, list.Query{Page: 1, Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range page.Items {
		lines = append(lines, fmt.Sprintf("%s %s→%s %s %s", registry.FieldLabel(e.Field), e.OldValue, e.NewValue,
			e.Effective.Format("2006-01-02"), e.SourceName))
	}
	want := []string{ // newest first
		fmt.Sprintf("居住登记 %s→%s 2026-06-30 居住人口-%d.csv", village, village2, w.n),
		fmt.Sprintf("管理区划 %s→%s 2026-06-30 居住人口-%d.csv", village, village2, w.n),
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}

	// The list filters by the extract's kind.
	for src, n := range map[string]int{"居住人口": 9, "户籍人口": 0} {
		page, err := w.store.Events(ctx, w.clerk, list.Query{Page: 1, Size: 50, Filters: map[string][]string{"source": {src}}})
		if err != nil || page.Total != n {
			t.Errorf("events of %s extracts: %d (%v), want %d", src, page.Total, err, n)
		}
	}
	if _, err := w.store.Events(ctx, w.clerk, list.Query{Page: 1, Size: 50, Filters: map[string][]string{"source": {"户口本"}}}); err == nil ||
		!strings.Contains(err.Error(), "未知的数据类型") {
		t.Errorf("an unknown extract kind as filter: %v", err)
	}
}

// TestResidenceEventsSamePlace: what reads as a change but is none gives
// no event, a person listed twice one, and a change of residence leaves
// the managed region of a person with a living hukou where the hukou is.
func TestResidenceEventsSamePlace(t *testing.T) {
	w := newWorld(t)
	var (
		vague = makeID("19910101", 11) // a village, then a blank code (read as the county): no move
		wider = makeID("19910102", 13) // a village, then its township: no move
		twice = makeID("19910103", 15) // new, listed twice: one move in
		local = makeID("19910104", 17) // living hukou here, residence moves: region stays
		again = makeID("19910105", 19) // listed twice in both, moved: one change
	)
	township := village[:9]
	w.seedEntries(t, map[string]map[registry.Field]string{
		vague: {registry.Name: "甲", registry.IdentityKind: string(source.Resident), registry.RegionCode: village, registry.Residence: village},
		wider: {registry.Name: "乙", registry.IdentityKind: string(source.Resident), registry.RegionCode: village, registry.Residence: village},
		local: {registry.Name: "丁", registry.IdentityKind: string(source.Hukou), registry.RegionCode: village, registry.HukouRegion: village,
			registry.Household: "H1", registry.PopStatus: "正常"},
		again: {registry.Name: "戊", registry.IdentityKind: string(source.Resident), registry.RegionCode: village, registry.Residence: village},
	})
	w.mustLoadTaken(t, source.Resident, "2026-03-31", residentHeader, resident(vague, "甲", village), resident(wider, "乙", village),
		resident(local, "丁", village), resident(again, "戊", village), resident(again, "戊", village))
	nb := w.mustLoadTaken(t, source.Resident, "2026-06-30", residentHeader, resident(vague, "甲", ""), resident(wider, "乙", township),
		resident(twice, "丙", village), resident(twice, "丙", village), resident(local, "丁", village2),
		resident(again, "戊", village2), resident(again, "戊", village2))
	evs := w.fullEvents(t, nb)
	for id, want := range map[string]string{
		vague: "",
		wider: "",
		twice: "迁入（居住） auto →" + village + " 2026-06-30",
		local: "居住地变更 auto " + village + "→" + village2 + " 2026-06-30",
		again: "居住地变更 auto " + village + "→" + village2 + " 2026-06-30",
	} {
		if got := describe(evs[id]); got != want {
			t.Errorf("events of %s: got %q, want %q", id, got, want)
		}
	}
	for _, c := range []struct{ id, col, want string }{
		{vague, "region_code", village}, {vague, "residence", village},
		{wider, "region_code", village}, {wider, "residence", village},
		{local, "region_code", village}, {local, "residence", village2}, {local, "hukou_region", village},
		{again, "region_code", village2}, {again, "residence", village2},
	} {
		if got := w.field(t, c.id, c.col); got != c.want {
			t.Errorf("%s of %s = %q, want %q", c.col, c.id, got, c.want)
		}
	}
}

// damaged is id with a wrong check character.
func damaged(id string) string {
	c := byte('0')
	if id[17] == '0' {
		c = '1'
	}
	return id[:17] + string(c)
}

func (w *world) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := w.db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSchoolEvents: a newer 在校学生 extract gives school starts (with the
// school's name; a change of school is a start at the new one) and ends,
// dated by the day it was taken; the registry's
// 在校情况 follows, for a person it knew nothing of as a student too, and
// a student new to the registry is added from the record.
func TestSchoolEvents(t *testing.T) {
	w := newWorld(t)
	var (
		stays  = makeID("20080101", 81)
		leaves = makeID("20080102", 83) // known, never recorded as a student
		starts = makeID("20090103", 85) // known
		newbie = makeID("20100104", 87) // unknown to the registry
		gone   = makeID("20080105", 89) // unknown, gone: nothing to record
		moves  = makeID("20080106", 91) // another school: a start there
		blank  = makeID("20080107", 93) // the school's name left blank: no change
	)
	w.seedRegistry(t, map[string]string{stays: "学甲", leaves: "学乙", starts: "学丙", moves: "学己"})
	w.mustLoadTaken(t, source.Student, "2025-09-01", studentHeader, stays+",学甲,高州一中", leaves+",学乙,高州一中", gone+",学戊,高州二中",
		moves+",学己,高州一中", blank+",学庚,高州二中")
	nb := w.mustLoadTaken(t, source.Student, "2026-03-01", studentHeader, stays+",学甲,高州一中", starts+",学丙,高州中学", newbie+",学丁,",
		moves+",学己,高州中学", blank+",学庚,")
	evs := w.fullEvents(t, nb)
	for id, want := range map[string]string{
		stays:  "",
		blank:  "",
		moves:  "入学 auto 高州一中→高州中学 2026-03-01",
		leaves: "离校 auto 高州一中→不在新在校学生数据中 2026-03-01",
		gone:   "离校 auto 高州二中→不在新在校学生数据中 2026-03-01",
		starts: "入学 auto →高州中学 2026-03-01",
		newbie: "入学 auto → 2026-03-01",
	} {
		if got := describe(evs[id]); got != want {
			t.Errorf("events of %s: got %q, want %q", id, got, want)
		}
	}
	for _, c := range []struct{ id, col, want string }{
		{stays, "school", ""}, {leaves, "school", dynamic.SchoolLeft}, {starts, "school", "在读（高州中学）"},
		{newbie, "school", "在读"}, {newbie, "name", "学丁"}, {newbie, "identity_kind", string(source.Student)},
		{newbie, "region_code", county}, {moves, "school", "在读（高州中学）"},
	} {
		if got := w.field(t, c.id, c.col); got != c.want {
			t.Errorf("%s of %s = %q, want %q", c.col, c.id, got, c.want)
		}
	}
	if n := w.count(t, `SELECT count(*) FROM person WHERE id_number = $1`, gone); n != 0 {
		t.Error("a student gone from the list, unknown to the registry, was added to it")
	}
	// Each change is in the person's history, from the student extract.
	for _, id := range []string{leaves, starts} {
		if n := w.count(t, `SELECT count(*) FROM person_event WHERE id_number = $1 AND field = 'school' AND source_kind = 'extract'
			AND source_id = $2 AND effective = '2026-03-01'`, id, nb); n != 1 {
			t.Errorf("%d school events of %s in the registry's history", n, id)
		}
	}
	// The events list offers the new kinds.
	page, err := w.store.Events(context.Background(), w.clerk, list.Query{Page: 1, Size: 50, Filters: map[string][]string{"kind": {"school_end"}}})
	if err != nil || page.Total != 2 {
		t.Errorf("school ends listed: %d (%v)", page.Total, err)
	}
}

// TestExtractDate: the day an extract was taken is stored with its batch
// (the import day when not given), refused in the future or before the
// extract it replaces, and dates a newer extract's events: a baby born
// between the two extracts is a birth on its birthday, a person born
// before the older one a move in on the newer one's day.
func TestExtractDate(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	t.Run("Parse", func(t *testing.T) {
		for in, want := range map[string]string{"": "", "2026-06-30": "2026-06-30", "2026/6/3": "2026-06-03", "20260101": "2026-01-01",
			"明天": "无法识别", time.Now().AddDate(0, 0, 2).Format("2006-01-02"): "晚于今天"} {
			d, err := imports.ParseExtractDate(in)
			got := ""
			if err != nil {
				got = err.Error()
			} else if !d.IsZero() {
				got = d.Format("2006-01-02")
			}
			if !strings.Contains(got, want) || (want == "" && got != "") {
				t.Errorf("ParseExtractDate(%q) = %q, want %q", in, got, want)
			}
		}
	})
	var (
		a    = makeID("19800101", 91)
		baby = makeID("20260501", 93) // born between the extracts
		kid  = makeID("20260201", 95) // born before the older one
	)
	old := w.mustLoadTaken(t, source.Hukou, "2026-03-31", hukouHeader, hukou(a, "张一", "H1", village, "正常"))
	// Older than the extract it would replace: refused, nothing replaced.
	_, err := w.loadTaken(t, source.Hukou, "2026-03-30", hukouHeader, hukou(a, "张一", "H1", village, "正常"), hukou(kid, "迁来", "H3", village, "正常"))
	if err == nil || !strings.Contains(err.Error(), "早于它将替代的现有户籍人口数据") || !strings.Contains(err.Error(), "2026-03-31") {
		t.Fatalf("an older extract: %v", err)
	}
	if n := w.count(t, `SELECT count(*) FROM import_batch WHERE superseded_by IS NOT NULL OR (status = 'done' AND id <> $1)`, old); n != 0 {
		t.Errorf("the refused import replaced or added %d batches", n)
	}
	// The upload form asks the same before the file is imported.
	for date, refused := range map[string]bool{"2026-03-30": true, "2026-03-31": false, "": false} {
		d, _ := imports.ParseExtractDate(date)
		err := w.im.CheckExtractDate(ctx, source.Hukou, county, "", d)
		if (err != nil) != refused || (refused && !strings.Contains(err.Error(), "早于它将替代")) {
			t.Errorf("check of %q before the import: %v", date, err)
		}
	}
	if err := w.im.CheckExtractDate(ctx, source.Hukou, county, "另一来源", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("an extract of another source: %v", err)
	}
	nb := w.mustLoadTaken(t, source.Hukou, "2026-06-30", hukouHeader, hukou(a, "张一", "H1", village, "正常"),
		hukou(baby, "新生", "H1", village, "正常"), hukou(kid, "迁来", "H3", village, "正常"))
	evs := w.fullEvents(t, nb)
	if got := describe(evs[baby]); got != "出生 auto →"+village+" 2026-05-01" {
		t.Errorf("baby: %s", got)
	}
	if got := describe(evs[kid]); got != "迁入 auto →"+village+" 2026-06-30" {
		t.Errorf("kid: %s", got)
	}
	// Without a date the import day is taken; the list shows each.
	today := w.mustLoadTaken(t, source.Hukou, "", hukouHeader, hukou(a, "张一", "H1", village, "正常"), hukou(baby, "新生", "H1", village, "正常"))
	page, err := w.im.List(ctx, w.clerk, imports.Filter{}, list.Query{Page: 1, Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	dates := map[int64]string{}
	for _, b := range page.Items {
		dates[b.ID] = b.ExtractDate.Format("2006-01-02")
	}
	if dates[old] != "2026-03-31" || dates[nb] != "2026-06-30" || dates[today] != source.Day(time.Now()).Format("2006-01-02") {
		t.Errorf("extract dates %v", dates)
	}
}
