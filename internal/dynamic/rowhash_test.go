package dynamic_test

import (
	"context"
	"fmt"
	"testing"
)

// TestRowHashNarrowsTheComparison: the importer stores a digest of each
// record's typed columns; two records of a person alike in every typed
// column share it (a changed address, kept only in raw, is no change), a
// changed household does not. A batch imported before the digest existed
// (NULL) is compared in full and gives the same events.
func TestRowHashNarrowsTheComparison(t *testing.T) {
	ids := [5]string{makeID("19600101", 1), makeID("19610101", 2), makeID("19620101", 3), makeID("19630101", 4), makeID("19640101", 5)}
	const header = hukouHeader + ",户籍地址"
	row := func(i int, household, address string) string {
		return hukou(ids[i], fmt.Sprintf("居民%d", i), household, village, "正常") + "," + address
	}
	older := []string{row(0, "H1", "甲村1号"), row(1, "H2", "甲村2号"), row(2, "H3", "甲村3号"), row(3, "H4", "甲村4号")}
	newer := []string{row(0, "H1", "甲村1号"), row(1, "H2", "乙村9号"), row(2, "H9", "甲村3号"), row(4, "H5", "甲村5号")}
	var first map[string][]got
	for _, legacy := range []bool{false, true} {
		w := newWorld(t)
		ctx := context.Background()
		old := w.load(t, "户籍人口", header, older...)
		if legacy {
			if _, err := w.db.Exec(ctx, `UPDATE source_record SET row_hash = NULL WHERE batch_id = $1`, old); err != nil {
				t.Fatal(err)
			}
		}
		batch := w.load(t, "户籍人口", header, newer...)
		same := func(i int) bool {
			var eq *bool
			if err := w.db.QueryRow(ctx, `SELECT o.row_hash = n.row_hash FROM source_record o, source_record n
				WHERE o.batch_id = $1 AND n.batch_id = $2 AND o.id_norm = $3 AND n.id_norm = $3`, old, batch, ids[i]).Scan(&eq); err != nil {
				t.Fatal(err)
			}
			return eq != nil && *eq
		}
		if !legacy && (!same(0) || !same(1) || same(2)) {
			t.Errorf("digests alike: unchanged %v, address changed %v, household changed %v; want true, true, false", same(0), same(1), same(2))
		}
		evs := w.events(t, batch)
		if len(evs) != 3 {
			t.Errorf("legacy %v: events of %d persons, want 3: %v", legacy, len(evs), evs)
		}
		want(t, evs, ids[2], got{"household", "auto", "H3", "H9"})
		want(t, evs, ids[3], got{"move_out", "auto", "正常", "不在新户籍数据中"})
		if len(evs[ids[4]]) != 1 || evs[ids[4]][0].kind != "move_in" {
			t.Errorf("legacy %v: events of the newcomer %v, want one move_in", legacy, evs[ids[4]])
		}
		if first == nil {
			first = evs
		} else if fmt.Sprint(first) != fmt.Sprint(evs) {
			t.Errorf("a batch without digests gave %v, with them %v", evs, first)
		}
	}
}
