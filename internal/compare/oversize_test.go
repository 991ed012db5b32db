package compare_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/source"
)

// TestOversizedNameNeverBlocksComparison: a 居住人口 file with a
// 100,000-character 姓名 once imported as a valid batch and then failed
// every comparison of the county (index row size exceeds the btree
// maximum). Now the row is rejected with its reason; a batch that already
// holds such a name (imported before the limit) still compares; and when a
// run does fail, it says why in Chinese.
func TestOversizedNameNeverBlocksComparison(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fixture.Regions(t, db, "440981")
	long := strings.Repeat("长", 100_000)
	a, b := id18("44098119800101123"), id18("44098119751231002")
	dir := t.TempDir()
	path := filepath.Join(dir, "resident.csv")
	body := "公民身份号码,姓名,居住地区划代码\n" + a + "," + long + ",440981107204\n" + b + ",李秀英,440981107204\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	im := imports.New(db)
	res, err := im.Import(ctx, fixture.Actor, imports.Request{Kind: source.Resident, Region: "440981", Path: path, TempDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || res.Rejected != 1 {
		t.Fatalf("accepted %d rejected %d, want 1 and 1", res.Accepted, res.Rejected)
	}
	page, err := im.Issues(ctx, fixture.Actor, res.BatchID, list.Query{Page: 1, Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	issues := page.Items
	if len(issues) != 1 || !issues[0].Rejected || issues[0].Line != 2 || !strings.Contains(issues[0].Reason, "超过") ||
		len([]rune(issues[0].Value)) > 200 {
		t.Errorf("issues %+v: want line 2 rejected for its length, the value cut short", clipIssues(issues))
	}

	// A batch imported before the limits existed holds such a name.
	if _, err := db.Exec(ctx, `UPDATE source_record SET name = $2 WHERE batch_id = $1 AND line = 3`, res.BatchID, long); err != nil {
		t.Fatal(err)
	}
	eng := compare.New(db)

	// With the index the schema had before, the run fails: the user is told
	// why, and so is the run list.
	if _, err := db.Exec(ctx, `CREATE INDEX run_person_name_unbounded ON run_person_row (name)`); err != nil {
		t.Fatal(err)
	}
	_, err = eng.Run(ctx, fixture.Actor, compare.Request{Region: "440981", AsOf: asOf}, nil)
	if err == nil {
		t.Fatal("a run with an unbounded name index did not fail; the test proves nothing")
	}
	msg := apperr.Message(err)
	if !strings.HasPrefix(msg, "比对失败") || !strings.Contains(msg, "长度上限") {
		t.Errorf("run failure says %q", msg)
	}
	var stored string
	if err := db.QueryRow(ctx, `SELECT error FROM comparison_run WHERE status = 'failed' ORDER BY id DESC LIMIT 1`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != msg {
		t.Errorf("failed run stored %q, want %q", stored, msg)
	}

	// With the schema's own indexes it compares.
	if _, err := db.Exec(ctx, `DROP INDEX run_person_name_unbounded`); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: "440981", AsOf: asOf}, nil); err != nil {
		t.Fatalf("comparison over an oversized name failed: %v", err)
	}
}

func clipIssues(list []imports.Issue) []imports.Issue {
	for i := range list {
		if r := []rune(list[i].Value); len(r) > 20 {
			list[i].Value = string(r[:20]) + "…"
		}
	}
	return list
}
