package compare_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/source"
	"github.com/jackc/pgx/v5/pgxpool"
)

func id18(body17 string) string { return body17 + string(idcard.CheckChar(body17)) }

// wrongCheck returns id with its last character changed, so the check fails.
func wrongCheck(id string) string {
	c := byte('0')
	if id[17] == '0' {
		c = '1'
	}
	return id[:17] + string(c)
}

// TestLinkEachDamageKind links one record of each kind of damage against a
// small household register and checks where each one went.
func TestLinkEachDamageKind(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fixture.Regions(t, db, "440981")
	chen := id18("44098119800101123")  // 陈大文
	li := id18("44098119751231002")    // 李秀英
	wang := id18("44098119900202003")  // 王伟
	zhang := id18("44098119900202005") // 张伟, born the same day as 王伟
	liu1 := id18("44098119600303001")  // 刘芳
	liu2 := id18("44098119610404002")  // 刘芳, same name
	zhou := id18("44098119700505004")  // 周八, nameless in 户籍
	dir := t.TempDir()
	hukou := "公民身份号码,姓名,户籍地区划代码,人口状态\n" +
		strings.Join([]string{chen + ",陈大文", li + ",李秀英", wang + ",王伟", zhang + ",张伟", liu1 + ",刘芳", liu2 + ",刘芳"}, ",440981107204,正常\n") +
		",440981107204,正常\n" + zhou + ",,440981107204,正常\n"
	swap := li[:10] + li[11:12] + li[10:11] + li[12:] // two neighbouring digits swapped
	enroll := "公民身份号码,姓名,险种类型,参保状态\n" + strings.Join([]string{
		wrongCheck(chen) + ",陈大文,390,1",                     // line 2: wrong check → 陈大文
		swap + ",李秀英,390,1",                                 // line 3: swap → 李秀英
		"4.40981199002020E+17,王伟,390,1",                     // line 4: mangled; 王伟 and 张伟 share the 15 digits, the name decides
		",李秀英,390,1",                                        // line 5: blank ID, unique name → 李秀英
		",刘芳,390,1",                                         // line 6: blank ID, two 刘芳 → review
		chen + ",陈大雯,390,1",                                 // line 7: valid ID, homophone name → 陈大文, 信息有误
		zhang + ",王伟,390,1",                                 // line 8: valid ID of 张伟 but 王伟's name → 王伟
		",赵六,390,1",                                         // line 9: blank ID, nobody of that name → unmatched
		wrongCheck(id18("44098119990909009")) + ",孙七,390,1", // line 10: nobody one typo away → unmatched
		zhou + ",周八,390,1",                                  // line 11: a name cannot disagree with none → 周八
	}, "\n") + "\n"
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	im := imports.New(db)
	for _, f := range []struct {
		kind source.Kind
		path string
	}{{source.Hukou, write("h.csv", hukou)}, {source.Enrollment, write("e.csv", enroll)}} {
		if _, err := im.Import(ctx, fixture.Actor, imports.Request{Kind: f.kind, Region: "440981", Path: f.path, TempDir: dir}, nil); err != nil {
			t.Fatal(err)
		}
	}
	eng := compare.New(db)
	res, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: "440981", AsOf: asOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{2: chen, 3: li, 4: wang, 5: li, 6: "review", 7: chen, 8: wang, 9: "", 10: "", 11: zhou}
	got := links(t, eng, res.RunID)
	for line, w := range want {
		if got[line] != w {
			t.Errorf("e.csv line %d linked to %q, want %q", line, got[line], w)
		}
	}
	var flags int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT flags FROM run_persons($1) WHERE id_number = $2`, res.RunID, chen), &flags)
	if flags&int(compare.FlagInfoError) == 0 {
		t.Errorf("陈大文's flags %q lack 信息有误", compare.FlagNames(flags))
	}

	// A reviewer's decision holds on the next run.
	var batch int64
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT id FROM import_batch WHERE file_name = 'e.csv'`), &batch)
	item, err := eng.ReviewItem(ctx, fixture.Actor, res.RunID, batch, 6)
	if err != nil || len(item.Candidates) != 2 {
		t.Fatalf("review item: %+v %v", item, err)
	}
	choice := -1
	for i, c := range item.Candidates {
		if c.IDNumber == liu2 {
			choice = i
		}
	}
	if err := eng.Decide(ctx, fixture.Actor, res.RunID, batch, 6, choice); err != nil {
		t.Fatal(err)
	}
	if err := eng.Decide(ctx, fixture.Actor, res.RunID, batch, 6, len(item.Candidates)); err == nil {
		t.Error("a choice outside the candidates was accepted")
	}
	if item, _ = eng.ReviewItem(ctx, fixture.Actor, res.RunID, batch, 6); !item.Decided || item.Choice != choice {
		t.Errorf("the decision reads back as %v/%d, want candidate %d", item.Decided, item.Choice, choice)
	}
	res2, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: "440981", AsOf: asOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := links(t, eng, res2.RunID); got[6] != liu2 || res2.Review != 0 {
		t.Errorf("after review line 6 → %q (review %d), want %s", got[6], res2.Review, liu2)
	}
}

// links maps e.csv's lines to the person each was linked to ("review" for
// the queue, "" for unmatched).
func links(t *testing.T, eng *compare.Engine, runID int64) map[int]string {
	t.Helper()
	out := map[int]string{}
	for _, review := range []bool{false, true} {
		page, err := eng.Records(context.Background(), fixture.Actor, runID, "440981", review, "", list.Query{Page: 1, Size: 100})
		recs := page.Items
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.FileName == "e.csv" {
				out[r.Line] = map[bool]string{true: "review", false: ""}[review]
			}
		}
	}
	return fillLinked(t, eng, runID, out)
}

func fillLinked(t *testing.T, eng *compare.Engine, runID int64, out map[int]string) map[int]string {
	for _, m := range compare.Metrics[:1] {
		page, err := eng.Persons(context.Background(), fixture.Actor, runID, "440981", m, "", list.Query{Page: 1, Size: 100})
		persons := page.Items
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range persons {
			records, err := eng.LinkedRecords(context.Background(), fixture.Actor, runID, p.IDNumber)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				checkResultScope(t, eng, runID, p.IDNumber, len(records))
			}
			for _, r := range records {
				if r.FileName == "e.csv" {
					out[r.Line] = p.IDNumber
				}
			}
		}
	}
	return out
}

// checkResultScope: the county sees a person's results and records, another
// county neither.
func checkResultScope(t *testing.T, eng *compare.Engine, runID int64, id string, records int) {
	t.Helper()
	ctx := context.Background()
	if res, err := eng.Results(ctx, fixture.Actor, id); err != nil || len(res) == 0 || res[0].RunID != runID || records == 0 {
		t.Errorf("own county: %d results (%v), %d records", len(res), err, records)
	}
	sibling := actor.Actor{Role: actor.County, Region: "440982"}
	if res, err := eng.Results(ctx, sibling, id); err != nil || len(res) != 0 {
		t.Errorf("another county reads %d results of %s (%v)", len(res), id, err)
	}
	if recs, err := eng.LinkedRecords(ctx, sibling, runID, id); err != nil || len(recs) != 0 {
		t.Errorf("another county reads %d records of %s (%v)", len(recs), id, err)
	}
}

// TestSummaryEqualsLists checks the invariant the pages rely on: every
// summary number equals a count of run_persons with its metric's predicate.
func TestSummaryEqualsLists(t *testing.T) {
	t.Parallel()
	db, _ := county(t, 300, 3)
	ctx := context.Background()
	res, err := compare.New(db).Run(ctx, fixture.Actor, compare.Request{Region: "440981", AsOf: asOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(ctx, `SELECT DISTINCT region_code FROM run_summary WHERE run_id = $1`, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	var regions []string
	for rows.Next() {
		var r string
		pgtest.MustScan(t, rows, &r)
		regions = append(regions, r)
	}
	rows.Close()
	checked := 0
	for _, r := range regions {
		for _, m := range compare.Metrics {
			var summary, count int
			pgtest.MustScan(t, db.QueryRow(ctx, `SELECT coalesce((SELECT n FROM run_summary WHERE run_id = $1 AND region_code = $2 AND metric = $3), 0)`,
				res.RunID, r, m.Key), &summary)
			if err := db.QueryRow(ctx, `SELECT count(*) FROM run_persons($1) WHERE region_code LIKE $2 || '%' AND (`+m.Where+`)`,
				res.RunID, r).Scan(&count); err != nil {
				t.Fatal(err)
			}
			if summary != count {
				t.Errorf("region %s %s: summary %d, list %d", r, m.Label, summary, count)
			}
			checked++
		}
	}
	if len(regions) < 10 {
		t.Errorf("only %d regions summarized", len(regions))
	}
	t.Logf("%d numbers in %d regions equal their lists", checked, len(regions))
}

// TestLinkIssue9 links the records of issue 9's findings: a mangled ID
// written out in full (its check passing by chance, and failing), a name
// differing by a polyphonic character, and an ID with an unknown province.
func TestLinkIssue9(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fixture.Regions(t, db, "440981")
	liang := id18("44098119541011378") // 梁秀英
	if liang[15:] == "000" || idcard.Parse(liang[:15]+"000").Damage != idcard.OK {
		t.Fatalf("the example no longer passes its check by chance: %s", liang)
	}
	lin := id18("44098119800606123")  // 林志强, whose padded number fails its check
	meng := id18("44098119880808004") // 孟亮
	he := id18("44098119911201007")   // 何丽
	twin := id18("44098119541011370") // 梁秀兰: same first 15 digits as 梁秀英, another name
	ye := id18("44098119850505006")   // 叶伟: 叶's rare reading xié is 谢's, 谢伟 is another person
	if idcard.Parse(lin[:15]+"000").Damage != idcard.Mangled {
		t.Fatalf("%s000 should fail its check", lin[:15])
	}
	badRegion := "0" + he[1:] // one wrong digit in the province: 04
	if d := idcard.Parse(badRegion).Damage; d != idcard.BadRegion {
		t.Fatalf("%s parses as %v, want BadRegion", badRegion, d)
	}
	dir := t.TempDir()
	hukou := "公民身份号码,姓名,户籍地区划代码,人口状态\n" + strings.Join([]string{
		liang + ",梁秀英", lin + ",林志强", meng + ",孟亮", he + ",何丽", twin + ",梁秀兰", ye + ",叶伟"}, ",440981107204,正常\n") + ",440981107204,正常\n"
	enroll := "公民身份号码,姓名,险种类型,参保状态\n" + strings.Join([]string{
		liang[:15] + "000,梁秀英,390,1",  // line 2: mangled in full, check passing → 梁秀英
		lin[:15] + "000,林志强,390,1",    // line 3: mangled in full, check failing → 林志强
		meng + ",孟靓,390,1",            // line 4: 靓 also reads liàng → 孟亮
		badRegion + ",何丽,390,1",       // line 5: unknown province, one typo from 何丽 → 何丽
		"990426199112010074,赵六,390,1", // line 6: unknown province, nobody near → unmatched
		wrongCheck(ye) + ",谢伟,390,1",  // line 7: one typo from 叶伟's ID, but a surname's rare reading is no link
	}, "\n") + "\n"
	importText(t, db, dir, source.Hukou, "h.csv", hukou)
	importText(t, db, dir, source.Enrollment, "e.csv", enroll)
	eng := compare.New(db)
	res, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: "440981", AsOf: asOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{2: liang, 3: lin, 4: meng, 5: he, 6: "", 7: "review"}
	got := links(t, eng, res.RunID)
	for line, w := range want {
		if got[line] != w {
			t.Errorf("e.csv line %d linked to %q, want %q", line, got[line], w)
		}
	}
	for _, id := range []string{liang, lin, meng, he} {
		var flags int
		if err := db.QueryRow(ctx, `SELECT flags FROM run_persons($1) WHERE id_number = $2`, res.RunID, id).Scan(&flags); err != nil {
			t.Fatal(err)
		}
		if flags&int(compare.FlagInfoError) == 0 {
			t.Errorf("%s's flags %q lack 信息有误", id, compare.FlagNames(flags))
		}
	}
	var phantoms int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM run_persons($1) WHERE id_number = $2`, res.RunID, liang[:15]+"000"), &phantoms)
	if phantoms != 0 || res.Persons != 6 {
		t.Errorf("the mangled number became a person of its own (%d persons, phantom rows %d)", res.Persons, phantoms)
	}
}

// TestLinkIssue15 links the records of issue 15: spreadsheet numbers
// rounded (not truncated) to 15 digits, given names typed in the wrong
// order, and two wrong digits in the sequence part.
func TestLinkIssue15(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fixture.Regions(t, db, "440981")
	huang := id18("44098119970813074") // 黄小红: 4.40981199708131E+17 when rounded
	if huang != "440981199708130741" {
		t.Fatalf("the issue's example is %s", huang)
	}
	next := id18("44098119970813110")  // 黄志明: first 15 digits …131, the rounded number's own
	zhang := id18("44098119850505007") // 张三丰
	chen := id18("44098119880303012")  // 陈伟
	wu1 := id18("44098119900101004")   // 吴芳
	wu2 := id18("44098119900101026")   // 吴芳 too: same region, birth date and name
	twoWrong := func(id string) string {
		b := []byte(id)
		b[14], b[15] = '0'+(b[14]-'0'+3)%10, '0'+(b[15]-'0'+4)%10
		if idcard.Parse(string(b)).Damage != idcard.BadCheck {
			b[16] = '0' + (b[16]-'0'+1)%10
		}
		if idcard.Parse(string(b)).Damage != idcard.BadCheck {
			t.Fatalf("cannot damage %s", id)
		}
		return string(b)
	}
	dir := t.TempDir()
	hukou := "公民身份号码,姓名,户籍地区划代码,人口状态\n" + strings.Join([]string{
		huang + ",黄小红", next + ",黄志明", zhang + ",张三丰", chen + ",陈伟", wu1 + ",吴芳", wu2 + ",吴芳"}, ",440981107204,正常\n") + ",440981107204,正常\n"
	enroll := "公民身份号码,姓名,险种类型,参保状态\n" + strings.Join([]string{
		"4.40981199708131E+17,黄小红,390,1", // line 2: rounded up → 黄小红, not 黄志明 whose 15 digits it shows
		"440981199708131000,黄小红,390,1",   // line 3: the same written out in full → 黄小红
		"4.40981199708131E+17,黄志明,390,1", // line 4: 黄志明's own 15 digits → 黄志明
		zhang + ",张丰三,390,1",             // line 5: valid ID, given name in another order → 张三丰
		twoWrong(chen) + ",陈伟,390,1",     // line 6: two wrong sequence digits, one 陈伟 born that day here → 陈伟
		twoWrong(wu1) + ",吴芳,390,1",      // line 7: two 吴芳 born that day → not linked
		twoWrong(chen) + ",陈大伟,390,1",    // line 8: the name disagrees → not linked to 陈伟
	}, "\n") + "\n"
	importText(t, db, dir, source.Hukou, "h.csv", hukou)
	importText(t, db, dir, source.Enrollment, "e.csv", enroll)
	eng := compare.New(db)
	res, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: "440981", AsOf: asOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := links(t, eng, res.RunID)
	want := map[int]string{2: huang, 3: huang, 4: next, 5: zhang, 6: chen}
	for line, w := range want {
		if got[line] != w {
			t.Errorf("e.csv line %d linked to %q, want %q", line, got[line], w)
		}
	}
	for _, line := range []int{7, 8} {
		if id := got[line]; id != "review" && id != "" {
			t.Errorf("e.csv line %d linked to %s, want review or unmatched", line, id)
		}
	}
	for _, id := range []string{huang, next, zhang, chen} {
		var flags int
		if err := db.QueryRow(ctx, `SELECT flags FROM run_persons($1) WHERE id_number = $2`, res.RunID, id).Scan(&flags); err != nil {
			t.Fatal(err)
		}
		if flags&int(compare.FlagInfoError) == 0 {
			t.Errorf("%s's flags %q lack 信息有误", id, compare.FlagNames(flags))
		}
	}
}

// importText writes body as the CSV file name in dir and imports it as an
// extract of kind for 440981.
func importText(t *testing.T, db *pgxpool.Pool, dir string, kind source.Kind, name, body string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	req := imports.Request{Kind: kind, Region: "440981", Path: p, TempDir: dir}
	if _, err := imports.New(db).Import(context.Background(), fixture.Actor, req, nil); err != nil {
		t.Fatal(err)
	}
}
