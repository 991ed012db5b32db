package dynamic_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/job"
	"github.com/canbao/canbao/internal/source"
)

// TestRederive: a newer extract whose derivation failed after its import
// committed waits for its events; 重新生成变动事件 derives them once (the
// clear ones applied), audited; asking again, or from another county,
// derives nothing. A batch derived normally, even to no events, waits for
// nothing.
func TestRederive(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a, b, c := makeID("19500101", 1), makeID("19510101", 2), makeID("19520101", 3)
	w.seedRegistry(t, map[string]string{a: "甲", b: "乙"})
	w.load(t, source.Hukou, hukouHeader, hukou(a, "甲", "H1", village, "正常"), hukou(b, "乙", "H2", village, "正常"))
	// The newer extract's import commits but its follow-up never runs (as
	// when the derivation failed).
	path := filepath.Join(w.dir, "newer.csv")
	if err := os.WriteFile(path, []byte(hukouHeader+"\n"+hukou(a, "甲", "H1", village, "死亡")+"\n"+hukou(c, "丙", "H3", village, "正常")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := imports.New(w.db).Import(ctx, w.clerk, imports.Request{Kind: source.Hukou, Region: county, Path: path, TempDir: w.dir, Force: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	batch := res.BatchID
	if ok, err := w.store.Pending(ctx, batch); err != nil || !ok {
		t.Fatalf("pending %v (%v), want true", ok, err)
	}
	other := w.clerk
	other.Region = "440982"
	if _, err := w.store.Rederive(ctx, other, batch, &job.Progress{}); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("another county's clerk: %v", err)
	}
	var out int64
	if out, err = w.store.RederiveJob(w.clerk, batch, county, "newer.csv").Run(ctx, &job.Progress{}); err != nil || out != batch {
		t.Fatalf("rederive: %d %v", out, err)
	}
	evs := w.events(t, batch)
	want(t, evs, a, got{"death", "auto", "正常", "死亡"})
	want(t, evs, b, got{"move_out", "auto", "正常", "不在新户籍数据中"})
	if len(evs) != 3 || w.field(t, a, "pop_status") != "死亡" {
		t.Errorf("events %v, 甲 %s", evs, w.field(t, a, "pop_status"))
	}
	if ok, _ := w.store.Pending(ctx, batch); ok {
		t.Error("still pending after the rederivation")
	}
	if _, err := w.store.Rederive(ctx, w.clerk, batch, &job.Progress{}); apperr.KindOf(err) != apperr.Conflict {
		t.Errorf("a second rederivation: %v", err)
	}
	var n, ok, refused int
	q := `SELECT (SELECT count(*) FROM extract_event WHERE batch_id = $1),
		(SELECT count(*) FROM audit_log WHERE action = $2 AND object = $3 AND result = 'ok'),
		(SELECT count(*) FROM audit_log WHERE action = $2 AND object = $3 AND result = 'rejected')`
	if err := w.db.QueryRow(ctx, q, batch, audit.EventDerive, "batch:"+strconv.FormatInt(batch, 10)).Scan(&n, &ok, &refused); err != nil {
		t.Fatal(err)
	}
	if n != 3 || ok != 1 || refused != 2 {
		t.Errorf("%d events, %d audited derivations, %d refusals; want 3, 1, 2", n, ok, refused)
	}

	// Derived at import, to nothing: not pending.
	same := w.load(t, source.Hukou, hukouHeader, hukou(c, "丙", "H3", village, "正常"), hukou(a, "甲", "H1", village, "死亡"))
	if p, err := w.store.Pending(ctx, same); err != nil || p {
		t.Errorf("a batch derived to no events is pending: %v %v", p, err)
	}
}
