package registry_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/registry"
)

// datedEntries are a comparison's persons whose extract was imported at
// one moment.
type datedEntries struct {
	*registry.Entries
	imported time.Time
}

func (d datedEntries) Asserted(int) time.Time { return d.imported }

// TestComparisonKeepsLaterCorrections: a manual correction made after the
// extract a comparison reads survives that comparison; a comparison of an
// extract imported after the correction overwrites it, with history.
func TestComparisonKeepsLaterCorrections(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	dated := func(run int64, imported time.Time, es ...registry.Entry) registry.ChangeSet {
		cs := comparison(run, "440981", es...)
		cs.Persons = datedEntries{registry.NewEntries(es...), imported}
		return cs
	}
	extract := time.Now().Add(-time.Hour) // imported before the correction
	apply(t, db, dated(1, extract, full(idA, "陈大文", "1980-01-01", "440981101001", "户籍人口"),
		full(idB, "李小红", "1990-02-02", "440981101001", "户籍人口")))
	fix := registry.Entry{ID: idA, Values: map[registry.Field]string{registry.Name: "陈达文", registry.PopStatus: "死亡"}}
	apply(t, db, registry.ChangeSet{Source: registry.Source{Kind: registry.Manual, ID: 3}, Effective: later,
		Persons: registry.NewEntries(fix)})

	// The same old extract, compared again, with B's household changed.
	b := full(idB, "李小红", "1990-02-02", "440981101001", "户籍人口")
	b.Values[registry.Household] = "H999"
	res := apply(t, db, dated(2, extract, full(idA, "陈大文", "1980-01-01", "440981101001", "户籍人口"), b))
	if res.Events != 1 {
		t.Errorf("second comparison recorded %d events, want 1 (B's household only)", res.Events)
	}
	name, pop := personNamePop(t, db, idA)
	if name != "陈达文" || pop != "死亡" {
		t.Errorf("after an older extract's comparison: %s %s, want the correction 陈达文 死亡", name, pop)
	}

	// A newer extract that still says otherwise wins, and says so in the history.
	res = apply(t, db, dated(3, time.Now().Add(time.Hour), full(idA, "陈大文", "1980-01-01", "440981101001", "户籍人口"), b))
	if res.Events != 2 {
		t.Errorf("newer extract's comparison recorded %d events, want 2 (name, status)", res.Events)
	}
	if name, pop := personNamePop(t, db, idA); name != "陈大文" || pop != "正常" {
		t.Errorf("after a newer extract's comparison: %s %s, want 陈大文 正常", name, pop)
	}
}

func personNamePop(t *testing.T, db *pgxpool.Pool, id string) (name, pop string) {
	t.Helper()
	if err := db.QueryRow(context.Background(), `SELECT name, pop_status FROM person WHERE id_number = $1`, id).Scan(&name, &pop); err != nil {
		t.Fatal(err)
	}
	return name, pop
}
