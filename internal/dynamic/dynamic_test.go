package dynamic_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/dynamic"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/job"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/registry"
	"github.com/canbao/canbao/internal/source"
)

const (
	county   = "440981"
	village  = "440981107204"
	village2 = "440981107205"
)

// makeID builds a valid citizen ID of 高州 born on birth (YYYYMMDD).
func makeID(birth string, seq int) string {
	first := fmt.Sprintf("%s%s%03d", county, birth, seq)
	return first + string(idcard.CheckChar(first))
}

// world is a test database with the 茂名 regions and two users.
type world struct {
	db       *pgxpool.Pool
	store    *dynamic.Store
	im       *imports.Importer
	dir      string
	clerk    actor.Actor
	reviewer actor.Actor
	n        int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	db, _ := pgtest.New(t)
	fixture.Regions(t, db, "4409")
	w := &world{db: db, store: dynamic.New(db), dir: t.TempDir()}
	w.im = imports.New(db).Then(w.store.AfterImport)
	w.clerk = w.user(t, "clerk", actor.County)
	w.reviewer = w.user(t, "reviewer", actor.County)
	return w
}

func (w *world) user(t *testing.T, name string, role actor.Role) actor.Actor {
	t.Helper()
	var id int64
	err := w.db.QueryRow(context.Background(), `INSERT INTO app_user (username, display_name, role, region_code, password_hash)
		VALUES ($1, $1, $2, $3, 'x') RETURNING id`, name, role, county).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return actor.Actor{UserID: id, Username: name, Role: role, Region: county, RegionName: "高州市", IP: "test"}
}

// load writes rows as a CSV extract of kind and imports it through an
// import job, whose follow-up derives the events.
func (w *world) load(t *testing.T, kind source.Kind, header string, rows ...string) int64 {
	t.Helper()
	w.n++
	path := filepath.Join(w.dir, fmt.Sprintf("%s-%d.csv", kind, w.n))
	if err := os.WriteFile(path, []byte(header+"\n"+strings.Join(rows, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var res imports.Result
	req := imports.Request{Kind: kind, Region: county, Path: path, FileName: filepath.Base(path), TempDir: w.dir, Force: true}
	spec := w.im.Job(w.clerk, req, 0, &res)
	if _, err := spec.Run(context.Background(), &job.Progress{}); err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	return res.BatchID
}

const (
	hukouHeader  = "公民身份号码,姓名,性别,出生日期,户号,与户主关系,户籍地区划代码,人口状态"
	deathHeader  = "公民身份号码,姓名,死亡日期"
	enrollHeader = "公民身份号码,姓名,险种类型,参保地区划代码,参保状态,缴费状态,参保日期"
)

func hukou(id, name, household, region, status string) string {
	b := id[6:14]
	return fmt.Sprintf("%s,%s,男,%s-%s-%s,%s,户主,%s,%s", id, name, b[:4], b[4:6], b[6:], household, region, status)
}

func enroll(id, name, status, pay string) string {
	return fmt.Sprintf("%s,%s,居民医疗,%s,%s,%s,2015-01-01", id, name, village, status, pay)
}

// seedRegistry adds persons as a comparison would.
func (w *world) seedRegistry(t *testing.T, ids map[string]string) {
	t.Helper()
	var es []registry.Entry
	for id, name := range ids {
		es = append(es, registry.Entry{ID: id, Values: map[registry.Field]string{registry.Name: name, registry.PopStatus: "正常",
			registry.IdentityKind: string(source.Hukou), registry.RegionCode: village, registry.HukouRegion: village}})
	}
	ctx := context.Background()
	tx, err := w.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := registry.Apply(ctx, tx, registry.ChangeSet{Source: registry.Source{Kind: registry.Comparison, ID: 1},
		Effective: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC), Persons: registry.NewEntries(es...)}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

type got struct {
	kind  dynamic.Kind
	state dynamic.State
	old   string
	new   string
}

// events returns every event of a batch by ID number.
func (w *world) events(t *testing.T, batch int64) map[string][]got {
	t.Helper()
	page, err := w.store.Events(context.Background(), w.clerk,
		list.Query{Page: 1, Size: 200, Filters: map[string][]string{"batch": {fmt.Sprint(batch)}}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]got{}
	for _, e := range page.Items {
		out[e.IDNumber] = append(out[e.IDNumber], got{e.Kind, e.State, e.Old, e.New})
	}
	return out
}

func (w *world) field(t *testing.T, id, column string) string {
	t.Helper()
	var v string
	if err := w.db.QueryRow(context.Background(), `SELECT coalesce(`+column+`::text, '') FROM person WHERE id_number = $1`, id).Scan(&v); err != nil {
		t.Fatalf("%s of %s: %v", column, id, err)
	}
	return v
}

func (w *world) eventID(t *testing.T, batch int64, id string, kind dynamic.Kind) int64 {
	t.Helper()
	var n int64
	if err := w.db.QueryRow(context.Background(), `SELECT id FROM extract_event WHERE batch_id = $1 AND id_number = $2 AND kind = $3`,
		batch, id, kind).Scan(&n); err != nil {
		t.Fatalf("event %s %s: %v", id, kind, err)
	}
	return n
}

func want(t *testing.T, evs map[string][]got, id string, g ...got) {
	t.Helper()
	if fmt.Sprint(evs[id]) != fmt.Sprint(g) {
		t.Errorf("events of %s: got %v, want %v", id, evs[id], g)
	}
}

// TestEventsOfEachKind: a newer hukou, death and enrollment extract each
// give their events, the unambiguous ones reach the registry at once, the
// ambiguous ones wait for a clerk, who confirms or rejects them.
func TestEventsOfEachKind(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	today := source.Day(time.Now()) // the day in China, as the extracts are dated
	var (
		a  = makeID("19800101", 11) // unchanged; then a death record while the hukou says 正常
		b  = makeID("19810101", 13) // 人口状态 死亡
		c  = makeID("19820101", 15) // gone from the hukou extract while still enrolled
		d  = makeID("19830101", 17) // 迁出
		e  = makeID("19840101", 19) // another household; enrollment interrupted
		f  = makeID("19850101", 21) // another hukou region; enrollment resumed
		g  = makeID(today.Format("20060102"), 23)
		h  = makeID("19900101", 25) // moved in; enrollment started
		x  = makeID("19400101", 27) // a death record whose date is corrected
		bs = map[string]string{a: "张一", b: "李二", c: "王三", d: "赵四", e: "钱五", f: "孙六", x: "周七"}
	)
	w.seedRegistry(t, bs)
	w.load(t, source.Enrollment, enrollHeader, enroll(a, "张一", "正常参保", "参保缴费"), enroll(b, "李二", "正常参保", "参保缴费"),
		enroll(c, "王三", "正常参保", "参保缴费"), enroll(e, "钱五", "正常参保", "参保缴费"), enroll(f, "孙六", "暂停参保", "暂停缴费"))
	w.load(t, source.Hukou, hukouHeader, hukou(a, "张一", "H1", village, "正常"), hukou(b, "李二", "H2", village, "正常"),
		hukou(c, "王三", "H3", village, "正常"), hukou(d, "赵四", "H4", village, "正常"), hukou(e, "钱五", "H5", village, "正常"),
		hukou(f, "孙六", "H6", village, "正常"))
	w.load(t, source.Death, deathHeader, x+",周七,2026-08-01")

	// The newer hukou extract.
	hb := w.load(t, source.Hukou, hukouHeader, hukou(a, "张一", "H1", village, "正常"), hukou(b, "李二", "H2", village, "死亡"),
		hukou(d, "赵四", "H4", village, "迁出"), hukou(e, "钱五", "H9", village, "正常"),
		hukou(f, "孙六", "H6", village2, "正常"), hukou(g, "新生", "H1", village, "正常"), hukou(h, "迁入", "H7", village, "正常"))
	evs := w.events(t, hb)
	want(t, evs, a)
	want(t, evs, b, got{dynamic.Death, dynamic.Auto, "正常", "死亡"})
	want(t, evs, c, got{dynamic.MoveOut, dynamic.Pending, "正常", "不在新户籍数据中"})
	want(t, evs, d, got{dynamic.MoveOut, dynamic.Auto, "正常", "迁出"})
	want(t, evs, e, got{dynamic.Household, dynamic.Auto, "H5", "H9"})
	want(t, evs, f, got{dynamic.Region, dynamic.Auto, village, village2})
	want(t, evs, g, got{dynamic.Birth, dynamic.Auto, "", village})
	want(t, evs, h, got{dynamic.MoveIn, dynamic.Auto, "", village})
	for id, v := range map[string][2]string{b: {"pop_status", "死亡"}, c: {"pop_status", "正常"}, d: {"pop_status", "迁出"},
		e: {"household", "H9"}, f: {"hukou_region", village2}, g: {"name", "新生"}, h: {"household", "H7"}} {
		if got := w.field(t, id, v[0]); got != v[1] {
			t.Errorf("%s of %s = %q, want %q", v[0], bs[id], got, v[1])
		}
	}
	if got := w.field(t, g, "birth"); got != today.Format("2006-01-02") {
		t.Errorf("birth of the newborn = %q", got)
	}

	// The newer death extract: a new death of someone the hukou still
	// lists as living is held; a corrected date of someone it does not is applied.
	db := w.load(t, source.Death, deathHeader, x+",周七,2026-07-20", a+",张一,2026-09-01")
	evs = w.events(t, db)
	want(t, evs, a, got{dynamic.Death, dynamic.Pending, "", "2026-09-01"})
	want(t, evs, x, got{dynamic.DeathFix, dynamic.Auto, "2026-08-01", "2026-07-20"})
	if got := w.field(t, x, "death_date"); got != "2026-07-20" {
		t.Errorf("death date after the correction = %q", got)
	}

	// The newer enrollment extract.
	eb := w.load(t, source.Enrollment, enrollHeader, enroll(a, "张一", "正常参保", "参保缴费"), enroll(c, "王三", "正常参保", "参保缴费"),
		enroll(e, "钱五", "暂停参保", "暂停缴费"), enroll(f, "孙六", "正常参保", "参保缴费"), enroll(h, "迁入", "正常参保", "参保缴费"))
	evs = w.events(t, eb)
	want(t, evs, a)
	want(t, evs, b, got{dynamic.EnrollEnd, dynamic.Auto, "正常参保", "不在新参保数据中"})
	want(t, evs, e, got{dynamic.EnrollPause, dynamic.Auto, "正常参保", "参保中断"})
	want(t, evs, f, got{dynamic.EnrollResume, dynamic.Auto, "参保中断", "正常参保"})
	want(t, evs, h, got{dynamic.EnrollStart, dynamic.Auto, "", "正常参保"})
	for id, v := range map[string]string{b: "居民医疗:参保终止", e: "居民医疗:参保中断", f: "居民医疗:正常参保", h: "居民医疗:正常参保"} {
		if got := w.field(t, id, "enrollment"); got != v {
			t.Errorf("enrollment of %s = %q, want %q", bs[id], got, v)
		}
	}

	// A clerk confirms the move out and rejects the death.
	if err := w.store.Confirm(ctx, w.clerk, w.eventID(t, hb, c, dynamic.MoveOut)); err != nil {
		t.Fatal(err)
	}
	if err := w.store.Reject(ctx, w.clerk, w.eventID(t, db, a, dynamic.Death)); err != nil {
		t.Fatal(err)
	}
	if got := w.field(t, c, "pop_status"); got != "迁出" {
		t.Errorf("confirmed move out: pop_status %q", got)
	}
	if got := w.field(t, a, "pop_status"); got != "正常" {
		t.Errorf("rejected death: pop_status %q", got)
	}
	want(t, w.events(t, hb), c, got{dynamic.MoveOut, dynamic.Applied, "正常", "不在新户籍数据中"})
	if err := w.store.Confirm(ctx, w.clerk, w.eventID(t, hb, c, dynamic.MoveOut)); err == nil {
		t.Error("an event was confirmed twice")
	}
	// A leader may read but not decide; another county sees nothing.
	leader := w.clerk
	leader.Role = actor.Leader
	if err := w.store.Confirm(ctx, leader, w.eventID(t, db, x, dynamic.DeathFix)); err == nil {
		t.Error("a leader confirmed an event")
	}
	other := w.clerk
	other.Region = "440982"
	if page, err := w.store.Events(ctx, other, list.Query{Page: 1, Size: 10}); err != nil || page.Total != 0 {
		t.Errorf("another county sees %d events (%v)", page.Total, err)
	}
	// The registry's history names the extract and who confirmed.
	var src int64
	var by *int64
	if err := w.db.QueryRow(ctx, `SELECT source_id, actor_id FROM person_event WHERE id_number = $1 AND field = 'pop_status' AND source_kind = 'extract'`,
		c).Scan(&src, &by); err != nil {
		t.Fatal(err)
	}
	if src != hb || by == nil || *by != w.clerk.UserID {
		t.Errorf("move out recorded from batch %d by %v, want %d by %d", src, by, hb, w.clerk.UserID)
	}
}

// TestDeathThenLateCorrection: a death arrives with one date and is
// corrected a month later, once from the death extract and once by hand;
// the history keeps both dates in order and every status says what
// happened.
func TestDeathThenLateCorrection(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	z := makeID("19350101", 31) // known from enrollment only: no hukou says 正常
	m := makeID("19360101", 33)
	w.seedRegistry(t, map[string]string{z: "吴八", m: "郑九"})
	w.load(t, source.Death, deathHeader, makeID("19300101", 35)+",某甲,2026-05-01")
	b1 := w.load(t, source.Death, deathHeader, makeID("19300101", 35)+",某甲,2026-05-01", z+",吴八,2026-10-01")
	b2 := w.load(t, source.Death, deathHeader, makeID("19300101", 35)+",某甲,2026-05-01", z+",吴八,2026-09-15")
	want(t, w.events(t, b1), z, got{dynamic.Death, dynamic.Auto, "", "2026-10-01"})
	want(t, w.events(t, b2), z, got{dynamic.DeathFix, dynamic.Auto, "2026-10-01", "2026-09-15"})
	if got := w.field(t, z, "pop_status") + " " + w.field(t, z, "death_date"); got != "死亡 2026-09-15" {
		t.Errorf("after the correction: %s", got)
	}
	page, err := registry.NewStore(w.db).Timeline(ctx, w.clerk, z, list.Query{Page: 1, Size: 50})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range page.Items { // newest first
		lines = append(lines, fmt.Sprintf("%s %s→%s %s %s#%d %s", e.Field, e.OldValue, e.NewValue, e.Effective.Format("2006-01-02"),
			e.Source.Kind, e.Source.ID, e.SourceName))
	}
	wantLines := []string{
		fmt.Sprintf("death_date 2026-10-01→2026-09-15 2026-09-15 extract#%d 死亡信息-3.csv", b2),
		fmt.Sprintf("death_date →2026-10-01 2026-10-01 extract#%d 死亡信息-2.csv", b1),
		fmt.Sprintf("pop_status 正常→死亡 2026-10-01 extract#%d 死亡信息-2.csv", b1),
	}
	if strings.Join(lines, "\n") != strings.Join(wantLines, "\n") {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(wantLines, "\n"))
	}

	// By hand: a 注销登记 for death, approved, then its date corrected by
	// a second one a month later.
	first, err := w.store.Register(ctx, w.clerk, dynamic.ChangeRequest{IDNumber: m, Kind: dynamic.Cancel, CancelReason: dynamic.CancelDeath,
		Effective: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Reason: "家属报告死亡"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.store.Approve(ctx, w.reviewer, first, ""); err != nil {
		t.Fatal(err)
	}
	second, err := w.store.Register(ctx, w.clerk, dynamic.ChangeRequest{IDNumber: m, Kind: dynamic.Cancel, CancelReason: dynamic.CancelDeath,
		Effective: time.Date(2026, 9, 15, 0, 0, 0, 0, time.UTC), Reason: "死亡证明所载日期为9月15日，更正"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.store.Approve(ctx, w.reviewer, second, "核对死亡证明无误"); err != nil {
		t.Fatal(err)
	}
	rows, err := w.db.Query(ctx, `SELECT field || ' ' || coalesce(old_value, '') || '→' || new_value || ' ' || effective || ' ' || source_id
		FROM person_event WHERE id_number = $1 AND source_kind = 'manual' ORDER BY id`, m)
	if err != nil {
		t.Fatal(err)
	}
	var hist []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		hist = append(hist, s)
	}
	wantHist := []string{
		fmt.Sprintf("pop_status 正常→死亡 2026-10-01 %d", first),
		fmt.Sprintf("death_date →2026-10-01 2026-10-01 %d", first),
		fmt.Sprintf("death_date 2026-10-01→2026-09-15 2026-09-15 %d", second),
	}
	if strings.Join(hist, "\n") != strings.Join(wantHist, "\n") {
		t.Errorf("manual history:\n%s\nwant:\n%s", strings.Join(hist, "\n"), strings.Join(wantHist, "\n"))
	}
	for _, id := range []int64{first, second} {
		c, err := w.store.Change(ctx, w.reviewer, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.State != dynamic.ChangeApproved || c.MadeName != "clerk" || c.DecidedName != "reviewer" {
			t.Errorf("change %d: %s made by %s decided by %s", id, c.State, c.MadeName, c.DecidedName)
		}
	}
}

// TestMakerChecker: a change reaches the registry only when someone other
// than its maker approves it; the maker's attempt is refused in Chinese
// and audited; bad input is refused with nothing stored.
func TestMakerChecker(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	p := makeID("19700101", 41)
	w.seedRegistry(t, map[string]string{p: "冯十"})
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	id, err := w.store.Register(ctx, w.clerk, dynamic.ChangeRequest{IDNumber: p, Kind: dynamic.Correct, Name: "冯拾", Phone: "13800138000",
		Address: "镇江镇镇江村3号", Effective: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Reason: "户口簿姓名为冯拾",
		DocumentName: "户口簿.pdf", DocumentData: pdf})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.field(t, p, "name"); got != "冯十" {
		t.Fatalf("the change reached the registry before approval: %s", got)
	}
	err = w.store.Approve(ctx, w.clerk, id, "")
	if err == nil || !strings.Contains(err.Error(), "不能审核自己登记的变更") {
		t.Fatalf("maker approving own change: %v", err)
	}
	var refused int
	if err := w.db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = $1 AND result = 'rejected' AND username = 'clerk'`,
		dynamic.AuditChangeApprov).Scan(&refused); err != nil || refused != 1 {
		t.Errorf("refusal audited %d times (%v)", refused, err)
	}
	township := w.user(t, "township", actor.Township)
	if err := w.store.Approve(ctx, township, id, ""); err == nil {
		t.Error("a township clerk approved a change")
	}
	if err := w.store.Approve(ctx, w.reviewer, id, "核对无误"); err != nil {
		t.Fatal(err)
	}
	for col, v := range map[string]string{"name": "冯拾", "phone": "13800138000", "address": "镇江镇镇江村3号"} {
		if got := w.field(t, p, col); got != v {
			t.Errorf("%s = %q, want %q", col, got, v)
		}
	}
	doc, err := w.store.Document(ctx, w.reviewer, id)
	if err != nil || string(doc.Content) != string(pdf) || doc.ContentType != "application/pdf" || len(doc.SHA256) != 64 {
		t.Errorf("document: %v %q %s", err, doc.ContentType, doc.SHA256)
	}
	var approvals int
	if err := w.db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action IN ($1, $2) AND result = 'ok'`,
		dynamic.AuditChangeCreate, dynamic.AuditChangeApprov).Scan(&approvals); err != nil || approvals != 2 {
		t.Errorf("maker and checker audited %d times (%v)", approvals, err)
	}

	bad := []struct {
		name string
		req  dynamic.ChangeRequest
		msg  string
	}{
		{"NothingNew", dynamic.ChangeRequest{Kind: dynamic.Correct, Name: "冯拾"}, "没有需要变更的内容"},
		{"NoReason", dynamic.ChangeRequest{Kind: dynamic.Correct, Phone: "13900139000", Reason: " "}, "请填写变更原因"},
		{"BadPhone", dynamic.ChangeRequest{Kind: dynamic.Correct, Phone: "电话"}, "联系电话格式不正确"},
		{"Future", dynamic.ChangeRequest{Kind: dynamic.Cancel, CancelReason: dynamic.CancelEmigration,
			Effective: time.Now().AddDate(0, 0, 2)}, "生效日期不能晚于今天"},
		{"NoCancelReason", dynamic.ChangeRequest{Kind: dynamic.Cancel}, "请选择注销原因"},
		{"NotAScan", dynamic.ChangeRequest{Kind: dynamic.Correct, Phone: "13900139000", DocumentData: []byte("MZ\x90\x00 an executable")},
			"只接受 PDF、JPEG 或 PNG"},
		{"TooLarge", dynamic.ChangeRequest{Kind: dynamic.Correct, Phone: "13900139000", DocumentData: append(pdf, make([]byte, dynamic.MaxDocument)...)},
			"不能超过 5 MB"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			req := c.req
			req.IDNumber = p
			if req.Reason == "" {
				req.Reason = "测试"
			}
			if req.Effective.IsZero() {
				req.Effective = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
			}
			_, err := w.store.Register(ctx, w.clerk, req)
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("got %v, want %q", err, c.msg)
			}
		})
	}
	var n int
	if err := w.db.QueryRow(ctx, `SELECT count(*) FROM manual_change`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d changes stored after the refusals (%v)", n, err)
	}
}

// TestWithdrawnBatch: a pending event of a batch that was withdrawn can
// only be rejected.
func TestWithdrawnBatch(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := makeID("19800101", 51)
	w.seedRegistry(t, map[string]string{a: "张一"})
	w.load(t, source.Hukou, hukouHeader, hukou(a, "张一", "H1", village, "正常"))
	w.load(t, source.Death, deathHeader, makeID("19300101", 53)+",某甲,2026-05-01")
	db := w.load(t, source.Death, deathHeader, makeID("19300101", 53)+",某甲,2026-05-01", a+",张一,2026-09-01")
	want(t, w.events(t, db), a, got{dynamic.Death, dynamic.Pending, "", "2026-09-01"})
	admin := w.clerk
	admin.Role = actor.Admin
	if err := w.im.Withdraw(ctx, admin, db); err != nil {
		t.Fatal(err)
	}
	ev := w.eventID(t, db, a, dynamic.Death)
	if err := w.store.Confirm(ctx, w.clerk, ev); err == nil || !strings.Contains(err.Error(), "已撤回") {
		t.Errorf("confirming an event of a withdrawn batch: %v", err)
	}
	if err := w.store.Reject(ctx, w.clerk, ev); err != nil {
		t.Errorf("rejecting it: %v", err)
	}
	if got := w.field(t, a, "pop_status"); got != "正常" {
		t.Errorf("pop_status %q", got)
	}
}
