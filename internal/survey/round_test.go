package survey_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/source"
	"github.com/canbao/canbao/internal/survey"
)

// staff publishes rounds: a county clerk of the fixture county.
var staff = fixture.Actor

// county imports a generated county of the given size and compares it.
func county(t *testing.T, households int) (*pgxpool.Pool, int64) {
	t.Helper()
	db, _ := pgtest.New(t)
	fixture.ImportCounty(t, db, households, 7, "csv")
	return db, compareNow(t, db)
}

func compareNow(t *testing.T, db *pgxpool.Pool) int64 {
	t.Helper()
	res, err := compare.New(db).Run(context.Background(), staff, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.RunID
}

func publish(t *testing.T, db *pgxpool.Pool, run int64) survey.PublishResult {
	t.Helper()
	res, err := survey.New(db).Publish(context.Background(), staff,
		survey.PublishRequest{Region: fixture.County, RunID: run, Title: "2026 年入户调查"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// importCSV imports rows (header first) as an extract of kind under source.
func importCSV(t *testing.T, db *pgxpool.Pool, kind source.Kind, src string, rows [][]string) {
	t.Helper()
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, ",") + "\n")
	}
	path := filepath.Join(t.TempDir(), src+".csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	req := imports.Request{Kind: kind, Region: fixture.County, Source: src, Path: path, FileName: filepath.Base(path)}
	if _, err := imports.New(db).Import(context.Background(), staff, req, nil); err != nil {
		t.Fatal(err)
	}
}

type member struct {
	household      int64
	id, name       string
	target         bool
	added, dropped int64
}

type household struct {
	id               int64
	code, hh, region string
	targets, persons int
	added            int64
	members          []string
}

// listing reads a round's households and members.
func listing(t *testing.T, db *pgxpool.Pool, round int64) (map[int64]*household, map[string]member) {
	t.Helper()
	ctx := context.Background()
	hs := map[int64]*household{}
	rows, err := db.Query(ctx, `SELECT id, code, household, region_code, targets, persons, added_run FROM survey_household WHERE round_id = $1`, round)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		h := &household{}
		if err := rows.Scan(&h.id, &h.code, &h.hh, &h.region, &h.targets, &h.persons, &h.added); err != nil {
			t.Fatal(err)
		}
		hs[h.id] = h
	}
	ms := map[string]member{}
	rows, err = db.Query(ctx, `SELECT household_id, id_number, name, target, added_run, coalesce(dropped_run, 0) FROM survey_member WHERE round_id = $1`, round)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var m member
		if err := rows.Scan(&m.household, &m.id, &m.name, &m.target, &m.added, &m.dropped); err != nil {
			t.Fatal(err)
		}
		ms[m.id] = m
		hs[m.household].members = append(hs[m.household].members, m.id)
	}
	return hs, ms
}

// registryHouseholds reads the registry's households of the county: 户号
// and household region → members on the register (正常) and all members.
func registryHouseholds(t *testing.T, db *pgxpool.Pool) (normal, all map[[2]string][]string) {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT id_number, household, hukou_region, coalesce(pop_status, '')
		FROM person WHERE coalesce(household, '') <> '' AND hukou_region LIKE '440981%'`)
	if err != nil {
		t.Fatal(err)
	}
	normal, all = map[[2]string][]string{}, map[[2]string][]string{}
	for rows.Next() {
		var id, hh, region, status string
		if err := rows.Scan(&id, &hh, &region, &status); err != nil {
			t.Fatal(err)
		}
		k := [2]string{hh, region}
		all[k] = append(all[k], id)
		if status == "" || status == source.PopNormal {
			normal[k] = append(normal[k], id)
		}
	}
	return normal, all
}

// surveyTargets reads a run's survey targets in the county.
func surveyTargets(t *testing.T, db *pgxpool.Pool, run int64) map[string]bool {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT id_number FROM run_persons($1) WHERE survey AND region_code LIKE '440981%'`, run)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[id] = true
	}
	return out
}

// checkComplete checks a round against the run's targets and the
// registry: every target listed as one, every member of a target's
// household listed (户不漏人), households of one only for targets without
// a 户号, and the counts of every household and of the round.
func checkComplete(t *testing.T, db *pgxpool.Pool, round int64, targets map[string]bool) {
	t.Helper()
	hs, ms := listing(t, db, round)
	normal, all := registryHouseholds(t, db)
	for id := range targets {
		if m, ok := ms[id]; !ok || !m.target {
			t.Errorf("target %s listed %v, as target %v", idcard.Mask(id), ok, m.target)
		}
	}
	var households, persons, ntargets int
	for _, h := range hs {
		households++
		persons += len(h.members)
		n := 0
		for _, id := range h.members {
			if ms[id].target {
				n++
				ntargets++
			}
		}
		if h.persons != len(h.members) || h.targets != n {
			t.Errorf("household %s: counts %d/%d, members %d targets %d", h.code, h.persons, h.targets, len(h.members), n)
		}
		if h.code != survey.TaskCode(h.id) {
			t.Errorf("household %d: code %s, want %s", h.id, h.code, survey.TaskCode(h.id))
		}
		if h.hh == "" {
			if len(h.members) != 1 {
				t.Errorf("household of one %s has %d members", h.code, len(h.members))
			}
			continue
		}
		k := [2]string{h.hh, h.region}
		if len(h.region) != 12 {
			t.Errorf("household %s placed in %s, not a village", h.hh, h.region)
		}
		for _, id := range normal[k] {
			if _, ok := ms[id]; !ok {
				t.Errorf("household %s: member %s missing (户不漏人)", h.hh, idcard.Mask(id))
			}
		}
		for _, id := range h.members {
			if !slices.Contains(all[k], id) {
				t.Errorf("household %s lists %s, who is not of it", h.hh, idcard.Mask(id))
			}
			if !slices.Contains(normal[k], id) && !ms[id].target {
				t.Errorf("household %s lists %s, who left the register", h.hh, idcard.Mask(id))
			}
		}
	}
	var rh, rp, rt int
	if err := db.QueryRow(context.Background(), `SELECT households, persons, targets FROM survey_round WHERE id = $1`, round).Scan(&rh, &rp, &rt); err != nil {
		t.Fatal(err)
	}
	if rh != households || rp != persons || rt != ntargets {
		t.Errorf("round counts %d/%d/%d, listed %d households %d persons %d targets", rh, rp, rt, households, persons, ntargets)
	}
}

func TestPublish(t *testing.T) {
	t.Parallel()
	db, run := county(t, 80)
	ctx := context.Background()
	res := publish(t, db, run)
	targets := surveyTargets(t, db, run)
	if len(targets) == 0 || res.Target != len(targets) || res.Households == 0 || res.Persons <= res.Target {
		t.Fatalf("published %+v for %d targets", res, len(targets))
	}
	checkComplete(t, db, res.Round, targets)
	var singles, hukou int
	if err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE household = ''), count(*) FILTER (WHERE household <> '')
		FROM survey_household WHERE round_id = $1`, res.Round).Scan(&singles, &hukou); err != nil {
		t.Fatal(err)
	}
	if singles == 0 || hukou == 0 {
		t.Errorf("%d households of one, %d with 户号: the fixture has both kinds of target", singles, hukou)
	}
	t.Logf("published %+v: %d households of one", res, singles)
	// Every member carries the run's statuses, and a household with a 户主
	// is headed by them.
	var withRun, wrongStatus, wrongHead int
	if err := db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE (m.name, m.pension, m.medical, m.flags) IS DISTINCT FROM
		(CASE WHEN p.name <> '' THEN p.name ELSE rp.name END, rp.pension, rp.medical, rp.flags))
		FROM survey_member m JOIN run_persons($2) rp ON rp.id_number = m.id_number
		LEFT JOIN person p ON p.id_number = m.id_number
		WHERE m.round_id = $1`, res.Round, run).Scan(&withRun, &wrongStatus); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `SELECT count(*) FROM survey_household h
		WHERE h.round_id = $1 AND EXISTS (SELECT 1 FROM survey_member m WHERE m.household_id = h.id AND m.relation = '户主')
		  AND h.head_name NOT IN (SELECT m.name FROM survey_member m WHERE m.household_id = h.id AND m.relation = '户主')`,
		res.Round).Scan(&wrongHead); err != nil {
		t.Fatal(err)
	}
	if withRun < res.Persons/2 || wrongStatus > 0 || wrongHead > 0 {
		t.Errorf("%d of %d members with the run's statuses, %d of them unlike the run's; %d households not headed by their 户主",
			withRun, res.Persons, wrongStatus, wrongHead)
	}
	var audited int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'survey.publish' AND object = $1 AND result = 'ok'`,
		fmt.Sprintf("round:%d", res.Round)).Scan(&audited); err != nil || audited != 1 {
		t.Errorf("publish audited %d times (%v)", audited, err)
	}

	t.Run("ErrForbidden", func(t *testing.T) {
		clerk := actor.Actor{Username: "clerk", Role: actor.Township, Region: "440981107"}
		_, err := survey.New(db).Publish(ctx, clerk, survey.PublishRequest{Region: "440981107", RunID: run, Title: "x"}, nil)
		if err == nil || !strings.Contains(err.Error(), "没有权限") {
			t.Errorf("township clerk publishes: %v", err)
		}
		other := actor.Actor{Username: "other", Role: actor.County, Region: "440982"}
		_, err = survey.New(db).Publish(ctx, other, survey.PublishRequest{Region: fixture.County, RunID: run, Title: "x"}, nil)
		if err == nil || !strings.Contains(err.Error(), "不存在") {
			t.Errorf("another county publishes here: %v", err)
		}
	})
}

// TestTopUp tops a round up from a later run in which two targets have
// enrolled and a new household has arrived: the two stay listed but are
// no longer targets, the newcomers are added with their household, and
// the forms entered before are untouched.
func TestTopUp(t *testing.T) {
	t.Parallel()
	db, run := county(t, 60)
	ctx := context.Background()
	res := publish(t, db, run)

	// Two targets only for being uninsured (no 信息有误), each with a form.
	rows, err := db.Query(ctx, `SELECT m.id, m.id_number, m.name, m.household_id, h.region_code FROM survey_member m
		JOIN survey_household h ON h.id = m.household_id
		WHERE m.round_id = $1 AND m.target AND m.flags & $2 = 0 ORDER BY m.id LIMIT 2`, res.Round, int(compare.FlagInfoError))
	if err != nil {
		t.Fatal(err)
	}
	type pick struct {
		member, household int64
		id, name, region  string
	}
	var picks []pick
	for rows.Next() {
		var p pick
		if err := rows.Scan(&p.member, &p.id, &p.name, &p.household, &p.region); err != nil {
			t.Fatal(err)
		}
		picks = append(picks, p)
	}
	if len(picks) != 2 {
		t.Fatalf("%d plain targets", len(picks))
	}
	enroll := [][]string{{"公民身份号码", "姓名", "险种类型", "参保地区划代码", "参保状态", "缴费状态", "参保日期"}}
	for i, p := range picks {
		if _, err := db.Exec(ctx, `INSERT INTO survey_form (member_id, household_id, round_id, state, data) VALUES ($1, $2, $3, $4, $5)`,
			p.member, p.household, res.Round, []string{"draft", "returned"}[i], fmt.Sprintf(`{"备注": "form %d"}`, i)); err != nil {
			t.Fatal(err)
		}
		mustRecount(t, db, res.Round)
		enroll = append(enroll,
			[]string{p.id, p.name, "城乡居民基本养老保险", p.region, "正常参保", "参保缴费", "2026-01-01"},
			[]string{p.id, p.name, "城乡居民基本医疗保险", p.region, "正常参保", "参保缴费", "2026-01-01"})
	}
	importCSV(t, db, source.Enrollment, "extra-enroll", enroll)
	// A new household of two in the first pick's village, insured nowhere.
	village := picks[0].region
	newcomers := []string{newID(village[:6]+"19800101", 13), newID(village[:6]+"20050101", 24)}
	importCSV(t, db, source.Hukou, "extra-hukou", [][]string{
		{"公民身份号码", "姓名", "性别", "出生日期", "户号", "与户主关系", "户籍地址", "户籍地区划代码", "人口状态"},
		{newcomers[0], "黎新来", "男", "1980-01-01", "NEW0001", "户主", "新村 1 号", village, "正常"},
		{newcomers[1], "黎新儿", "女", "2005-01-01", "NEW0001", "子", "新村 1 号", village, "正常"},
	})
	var formsBefore string
	if err := db.QueryRow(ctx, `SELECT string_agg(f::text, '|' ORDER BY id) FROM survey_form f`).Scan(&formsBefore); err != nil {
		t.Fatal(err)
	}
	run2 := compareNow(t, db)
	top, err := survey.New(db).Publish(ctx, staff, survey.PublishRequest{Round: res.Round, Region: fixture.County, RunID: run2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	targets := surveyTargets(t, db, run2)
	checkComplete(t, db, res.Round, targets)
	hs, ms := listing(t, db, res.Round)
	for _, p := range picks {
		m := ms[p.id]
		if m.target || m.dropped != run2 || targets[p.id] {
			t.Errorf("enrolled %s: target %v dropped by %d (run %d); target in run2 %v", idcard.Mask(p.id), m.target, m.dropped, run2, targets[p.id])
		}
	}
	for _, id := range newcomers {
		m, ok := ms[id]
		if !ok || !m.target || m.added != run2 || hs[m.household].hh != "NEW0001" || hs[m.household].added != run2 {
			t.Errorf("newcomer %s: listed %v %+v", idcard.Mask(id), ok, m)
		}
	}
	if top.Dropped < 2 || top.NewHouseholds < 1 || top.NewMembers < 2 {
		t.Errorf("top-up %+v", top)
	}
	var formsAfter string
	if err := db.QueryRow(ctx, `SELECT string_agg(f::text, '|' ORDER BY id) FROM survey_form f`).Scan(&formsAfter); err != nil {
		t.Fatal(err)
	}
	if formsAfter != formsBefore {
		t.Errorf("forms changed by the top-up:\n%s\n%s", formsBefore, formsAfter)
	}
	// Listed once: a second top-up from the same run is refused, and the
	// households did not double.
	if _, err := survey.New(db).Publish(ctx, staff, survey.PublishRequest{Round: res.Round, Region: fixture.County, RunID: run2}, nil); err == nil {
		t.Error("top-up from the same run accepted twice")
	}
	if len(hs) != top.Households {
		t.Errorf("%d households listed, %d counted", len(hs), top.Households)
	}
}

// newID makes a valid citizen ID from 14 digits (address and birth) and a
// sequence number.
func newID(first14 string, seq int) string {
	s := fmt.Sprintf("%s%03d", first14, seq)
	return s + string(idcard.CheckChar(s))
}

func TestTaskCode(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	seen := map[string]bool{}
	ids := []int64{887503680, 887503681, 1 << 40}
	for i := int64(1); i < 3000; i++ {
		ids = append(ids, i)
	}
	var sqlCodes []string
	if err := db.QueryRow(context.Background(), `SELECT array_agg(survey_task_code(id) ORDER BY ord) FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, ord)`,
		ids).Scan(&sqlCodes); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		c := survey.TaskCode(id)
		if c != sqlCodes[i] {
			t.Fatalf("TaskCode(%d) = %s, SQL %s", id, c, sqlCodes[i])
		}
		if id < 887503681 {
			if seen[c] {
				t.Fatalf("code %s twice", c)
			}
			seen[c] = true
		}
		if got, ok := survey.NormalizeCode(strings.ToLower(c[:3]) + "-" + c[3:] + " "); !ok || got != c {
			t.Fatalf("NormalizeCode of %s typed loosely: %s %v", c, got, ok)
		}
	}
	// One wrong character or two neighbours swapped is refused.
	const alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	for _, id := range ids[:60] {
		c := survey.TaskCode(id)
		for i := 0; i < 7; i++ {
			for _, r := range alphabet {
				if byte(r) == c[i] {
					continue
				}
				typo := c[:i] + string(r) + c[i+1:]
				if _, ok := survey.NormalizeCode(typo); ok {
					t.Fatalf("%s mistyped as %s accepted", c, typo)
				}
			}
			if i < 5 && c[i] != c[i+1] {
				swap := c[:i] + string(c[i+1]) + string(c[i]) + c[i+2:]
				if _, ok := survey.NormalizeCode(swap); ok {
					t.Fatalf("%s swapped as %s accepted", c, swap)
				}
			}
		}
		if strings.ContainsAny(c, "01OIL") {
			t.Fatalf("code %s has a look-alike", c)
		}
	}
}

// TestTopUpKeepsFound tops up a round after a clerk added a person found
// at the door to a household, and after the registry learned of them as
// an insured member of that household (no survey target in the later
// run): the found member stays listed as a target of the survey, never
// dropped, with their household's counts.
func TestTopUpKeepsFound(t *testing.T) {
	t.Parallel()
	db, run := county(t, 40)
	ctx := context.Background()
	res := publish(t, db, run)
	var household int64
	var hh, village string
	if err := db.QueryRow(ctx, `SELECT id, household, region_code FROM survey_household
		WHERE round_id = $1 AND household <> '' ORDER BY id LIMIT 1`, res.Round).Scan(&household, &hh, &village); err != nil {
		t.Fatal(err)
	}
	clerk := actor.Actor{Username: "clerk", Role: actor.Township, Region: village[:9], IP: "test"}
	id := newID(village[:6]+"19900101", 77)
	found, err := survey.NewForms(db).AddFound(ctx, clerk, household, "黎门前", id, "子")
	if err != nil {
		t.Fatal(err)
	}
	importCSV(t, db, source.Hukou, "found-hukou", [][]string{
		{"公民身份号码", "姓名", "性别", "出生日期", "户号", "与户主关系", "户籍地址", "户籍地区划代码", "人口状态"},
		{id, "黎门前", "男", "1990-01-01", hh, "子", "门前 1 号", village, "正常"},
	})
	importCSV(t, db, source.Enrollment, "found-enroll", [][]string{
		{"公民身份号码", "姓名", "险种类型", "参保地区划代码", "参保状态", "缴费状态", "参保日期"},
		{id, "黎门前", "城乡居民基本养老保险", village, "正常参保", "参保缴费", "2026-01-01"},
		{id, "黎门前", "城乡居民基本医疗保险", village, "正常参保", "参保缴费", "2026-01-01"},
	})
	run2 := compareNow(t, db)
	if surveyTargets(t, db, run2)[id] {
		t.Fatalf("the found person is a target of run %d: the test needs them insured", run2)
	}
	if _, err := survey.New(db).Publish(ctx, staff, survey.PublishRequest{Round: res.Round, Region: fixture.County, RunID: run2}, nil); err != nil {
		t.Fatal(err)
	}
	var target, isFound bool
	var dropped *int64
	var inHousehold int64
	var targets, persons, members, listedTargets int
	if err := db.QueryRow(ctx, `SELECT m.target, m.found, m.dropped_run, m.household_id, h.targets, h.persons,
		(SELECT count(*) FROM survey_member x WHERE x.household_id = h.id), (SELECT count(*) FROM survey_member x WHERE x.household_id = h.id AND x.target)
		FROM survey_member m JOIN survey_household h ON h.id = m.household_id WHERE m.id = $1`, found.ID).
		Scan(&target, &isFound, &dropped, &inHousehold, &targets, &persons, &members, &listedTargets); err != nil {
		t.Fatal(err)
	}
	if !target || !isFound || dropped != nil || inHousehold != household {
		t.Errorf("found member after the top-up: target %v, found %v, dropped by %v, household %d (was %d)", target, isFound, dropped, inHousehold, household)
	}
	if targets != listedTargets || persons != members {
		t.Errorf("household counts %d targets %d persons, listed %d targets %d persons", targets, persons, listedTargets, members)
	}
}
