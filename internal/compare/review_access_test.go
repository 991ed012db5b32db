package compare_test

import (
	"context"
	"testing"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/source"
)

// TestDecideRefusesHiddenCandidate: a reviewer of one township may not
// choose, by a crafted index, a candidate of another township that the
// review page hid from them; the refusal is audited and nothing decided.
func TestDecideRefusesHiddenCandidate(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fixture.Regions(t, db, "440981")
	here := id18("44098119600303001")  // 刘芳 of 440981107, the reviewer's township
	there := id18("44098119610404002") // 刘芳 of 440981101
	dir := t.TempDir()
	hukou := "公民身份号码,姓名,户籍地区划代码,人口状态\n" +
		here + ",刘芳,440981107204,正常\n" + there + ",刘芳,440981101201,正常\n"
	enroll := "公民身份号码,姓名,险种类型,参保状态,参保地区划代码\n,刘芳,390,1,440981107204\n" // line 2: two 刘芳 → review
	importText(t, db, dir, source.Hukou, "h.csv", hukou)
	importText(t, db, dir, source.Enrollment, "e.csv", enroll)
	eng := compare.New(db)
	res, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: "440981", AsOf: asOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var batch int64
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT id FROM import_batch WHERE file_name = 'e.csv'`), &batch)
	town := actor.Actor{Username: "townadmin", Role: actor.Admin, Region: "440981107"}
	item, err := eng.ReviewItem(ctx, town, res.RunID, batch, 2)
	if err != nil || len(item.Candidates) != 2 {
		t.Fatalf("review item: %+v %v", item, err)
	}
	hidden, shown := -1, -1
	for i, c := range item.Candidates {
		switch c.IDNumber {
		case there:
			hidden = i
		case here:
			shown = i
		}
	}
	if hidden < 0 || shown < 0 {
		t.Fatalf("candidates %+v lack one of the two 刘芳", item.Candidates)
	}

	if err := eng.Decide(ctx, town, res.RunID, batch, 2, hidden); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("choosing the other township's candidate: %v, want not found", err)
	}
	var refused, decided int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'compare.review' AND result = 'rejected' AND username = 'townadmin'`), &refused)
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM link_decision`), &decided)
	if refused != 1 || decided != 0 {
		t.Errorf("after the refusal: %d refusals audited, %d decisions; want 1 and 0", refused, decided)
	}

	// The candidate of their own township, and the other one for the
	// county clerk who sees both, are accepted.
	if err := eng.Decide(ctx, town, res.RunID, batch, 2, shown); err != nil {
		t.Errorf("choosing the own township's candidate: %v", err)
	}
	if err := eng.Decide(ctx, fixture.Actor, res.RunID, batch, 2, hidden); err != nil {
		t.Errorf("the county clerk choosing either candidate: %v", err)
	}
	var chosen string
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT id_number FROM link_decision WHERE batch_id = $1 AND line = 2`, batch), &chosen)
	if chosen != there {
		t.Errorf("decision reads %s, want the county clerk's choice %s", chosen, there)
	}
}
