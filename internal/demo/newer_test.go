package demo_test

import (
	"context"
	"encoding/csv"
	"os"
	"slices"
	"testing"

	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/source"
)

// TestNewerExtractsPersons: the newer extracts' new students are of
// school age on the day they were taken, listed nowhere before as
// students and never among the deaths; new residents' sex and birth date
// are those their ID says.
func TestNewerExtractsPersons(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fixture.ImportCounty(t, db, 300, 7, "csv")
	today := fixture.AsOf.AddDate(0, 1, 0)
	files, err := demo.NewerExtracts(ctx, db, demo.NewerOptions{County: fixture.County, Rate: 5, Seed: 3, Today: today,
		Kinds: []string{demo.KindHukou, demo.KindDeath, demo.KindResidence, demo.KindStudent}}, t.TempDir())
	if err != nil || len(files) != 4 {
		t.Fatalf("newer extracts: %v (%d)", err, len(files))
	}
	added := map[string][]map[string]string{} // rows of IDs the extract in force of the kind does not list
	for _, f := range files {
		var known []string
		rows, err := db.Query(ctx, `SELECT coalesce(id_norm, '') FROM source_record WHERE batch_id =
			(SELECT id FROM import_batch WHERE kind = $1 AND status = 'done' AND superseded_by IS NULL ORDER BY rows_accepted DESC, id LIMIT 1)`, f.Kind)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			pgtest.MustScan(t, rows, &id)
			known = append(known, id)
		}
		rows.Close()
		for _, r := range readRows(t, f.Path, source.Kind(f.Kind)) {
			if id := idcard.Normalize(r[source.KeyID]); !slices.Contains(known, id) {
				added[f.Kind] = append(added[f.Kind], r)
			}
		}
	}
	dead := map[string]bool{}
	for _, r := range added[demo.KindDeath] {
		dead[idcard.Normalize(r[source.KeyID])] = true
	}
	if len(added[demo.KindStudent]) == 0 || len(dead) == 0 || len(added[demo.KindResidence]) == 0 {
		t.Fatalf("added: %d students, %d deaths, %d residents", len(added[demo.KindStudent]), len(dead), len(added[demo.KindResidence]))
	}
	for _, r := range added[demo.KindStudent] {
		id := idcard.Normalize(r[source.KeyID])
		if age, ok := idcard.AgeOn(id, today); !ok || age < 16 || age > 22 || dead[id] {
			t.Errorf("new student %s: age %d on %s, dead %v", id, age, today.Format("2006-01-02"), dead[id])
		}
	}
	for _, r := range added[demo.KindResidence] {
		id := r[source.KeyID]
		birth, _ := idcard.Birth(id)
		sex := map[bool]string{true: "男", false: "女"}[idcard.Male(id)]
		if d, ok := source.ParseDate(r[source.KeyBirth]); !ok || !d.Equal(birth) || r[source.KeySex] != sex {
			t.Errorf("new resident %s: %s %s", id, r[source.KeySex], r[source.KeyBirth])
		}
	}
}

// readRows reads a CSV file written by NewerExtracts, each row by its
// fields' keys (source.KeyID ...).
func readRows(t *testing.T, path string, kind source.Kind) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	all, err := r.ReadAll()
	_ = f.Close()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	head, m, reason, ok := source.FindHeader(all, kind)
	if !ok {
		t.Fatalf("%s: %s", path, reason)
	}
	var out []map[string]string
	for _, rec := range all[head+1:] {
		row := map[string]string{}
		for key, i := range m {
			if i < len(rec) {
				row[key] = rec[i]
			}
		}
		out = append(out, row)
	}
	return out
}
