package registry_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/registry"
)

var (
	asOf  = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	later = time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC)
)

// Three persons of 高州市 (440981), by valid citizen IDs.
const (
	idA = "440981198001010018"
	idB = "440981199002020025"
	idC = "44098120100303003X"
)

// full is a person as a comparison reports it: every field set.
func full(id, name, birth, region, kind string) registry.Entry {
	return registry.Entry{ID: id, Values: map[registry.Field]string{
		registry.Name: name, registry.Sex: "男", registry.Birth: birth, registry.Household: "H" + id[14:17],
		registry.Relation: "", registry.HukouRegion: region, registry.PopStatus: "正常",
		registry.IdentityKind: kind, registry.RegionCode: region,
	}}
}

func apply(t *testing.T, db *pgxpool.Pool, cs registry.ChangeSet) registry.Result {
	t.Helper()
	res, err := tryApply(db, cs)
	if err != nil {
		t.Fatalf("apply %s %d: %v", cs.Source.Kind, cs.Source.ID, err)
	}
	return res
}

func tryApply(db *pgxpool.Pool, cs registry.ChangeSet) (registry.Result, error) {
	ctx := context.Background()
	tx, err := db.Begin(ctx)
	if err != nil {
		return registry.Result{}, err
	}
	defer tx.Rollback(ctx)
	res, err := registry.Apply(ctx, tx, cs)
	if err != nil {
		return res, err
	}
	return res, tx.Commit(ctx)
}

func comparison(id int64, region string, es ...registry.Entry) registry.ChangeSet {
	return registry.ChangeSet{Source: registry.Source{Kind: registry.Comparison, ID: id}, Effective: asOf, Region: region,
		Persons: registry.NewEntries(es...)}
}

type event struct {
	id, field, old, new string
	effective           time.Time
	kind                string
	source              int64
	actor               *int64
}

// events returns every event, oldest first.
func events(t *testing.T, db *pgxpool.Pool) []event {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT id_number, field, coalesce(old_value, '∅'), coalesce(new_value, '∅'),
		effective, source_kind, source_id, actor_id FROM person_event ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []event
	for rows.Next() {
		var e event
		if err := rows.Scan(&e.id, &e.field, &e.old, &e.new, &e.effective, &e.kind, &e.source, &e.actor); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestApplyInsertChangeRerun: a comparison's persons are added, a second
// set with the same persons writes nothing, and a set that changes them
// records each changed field before overwriting it — also for a person
// who moved out of the set's region and is found by ID.
func TestApplyInsertChangeRerun(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	persons := []registry.Entry{
		full(idA, "陈大文", "1980-01-01", "440981101001", "户籍人口"),
		full(idB, "李小梅", "1990-02-02", "440981102001", "户籍人口"),
		full(idC, "", "", "440981103001", "参保信息"), // known only from a nameless enrollment row
	}
	if res := apply(t, db, comparison(1, "440981", persons...)); res != (registry.Result{Inserted: 3}) {
		t.Fatalf("first set: %+v, want 3 inserted", res)
	}
	var birth *time.Time
	var name, firstKind, lastKind string
	var first, last int64
	if err := db.QueryRow(ctx, `SELECT name, birth, first_kind, first_source, last_kind, last_source FROM person WHERE id_number = $1`, idC).
		Scan(&name, &birth, &firstKind, &first, &lastKind, &last); err != nil {
		t.Fatal(err)
	}
	if name != "" || birth != nil || firstKind != "compare" || first != 1 || lastKind != "compare" || last != 1 {
		t.Errorf("nameless person stored as %q %v %s %d %s %d", name, birth, firstKind, first, lastKind, last)
	}

	t.Run("RerunWritesNothing", func(t *testing.T) {
		var before time.Time
		pgtest.MustScan(t, db.QueryRow(ctx, `SELECT max(updated_at) FROM person`), &before)
		if res := apply(t, db, comparison(2, "440981", persons...)); res != (registry.Result{}) {
			t.Errorf("same persons again: %+v, want nothing written", res)
		}
		var after time.Time
		var touched int
		if err := db.QueryRow(ctx, `SELECT max(updated_at), count(*) FILTER (WHERE last_source = 2) FROM person`).Scan(&after, &touched); err != nil {
			t.Fatal(err)
		}
		if !after.Equal(before) || touched != 0 || len(events(t, db)) != 0 {
			t.Errorf("a set without news touched %d entries, %d events", touched, len(events(t, db)))
		}
	})

	t.Run("Change", func(t *testing.T) {
		changed := []registry.Entry{
			full(idA, "陈达文", "1980-01-01", "440981101001", "户籍人口"),
			full(idB, "李小梅", "1990-03-02", "440982100001", "户籍人口"), // moves to 化州市
			full(idC, "", "", "440981103001", "居住人口"),              // identity from another extract: no event
		}
		res := apply(t, db, comparison(3, "440981", changed...))
		if res != (registry.Result{Updated: 3, Events: 4}) {
			t.Errorf("changes: %+v, want 3 updated and 4 events", res)
		}
		want := []event{
			{idA, "name", "陈大文", "陈达文", asOf, "compare", 3, nil},
			{idB, "birth", "1990-02-02", "1990-03-02", asOf, "compare", 3, nil},
			{idB, "hukou_region", "440981102001", "440982100001", asOf, "compare", 3, nil},
			{idB, "region_code", "440981102001", "440982100001", asOf, "compare", 3, nil},
		}
		got := events(t, db)
		if len(got) != len(want) {
			t.Fatalf("events %+v, want %+v", got, want)
		}
		for i := range want {
			if g := got[i]; g.id != want[i].id || g.field != want[i].field || g.old != want[i].old || g.new != want[i].new ||
				!g.effective.Equal(asOf) || g.kind != "compare" || g.source != 3 || g.actor != nil {
				t.Errorf("event %d: %+v, want %+v", i, g, want[i])
			}
		}
		var kind string
		var last int64
		if err := db.QueryRow(ctx, `SELECT identity_kind, last_source FROM person WHERE id_number = $1`, idC).Scan(&kind, &last); err != nil {
			t.Fatal(err)
		}
		if kind != "居住人口" || last != 3 {
			t.Errorf("identity kind %s, last source %d", kind, last)
		}

		// 李小梅 moves back: the county's set finds her by ID outside it.
		back := full(idB, "李小梅", "1990-03-02", "440981102001", "户籍人口")
		if res := apply(t, db, comparison(4, "440981", back)); res != (registry.Result{Updated: 1, Events: 2}) {
			t.Errorf("moving back: %+v, want 1 updated and 2 events", res)
		}
		var persons int
		pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM person`), &persons)
		if persons != 3 {
			t.Errorf("%d persons, want 3", persons)
		}
	})
}

// TestApplyManualChange: the same entry point takes a manual change of one
// field by a user, without a region, and refuses what it cannot store
// without writing anything.
func TestApplyManualChange(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	apply(t, db, comparison(1, "440981", full(idA, "陈大文", "1980-01-01", "440981101001", "户籍人口")))
	var actor int64
	if err := db.QueryRow(ctx, `INSERT INTO app_user (username, display_name, role, region_code, password_hash)
		VALUES ('clerk', '王科员', 'county', '', 'x') RETURNING id`).Scan(&actor); err != nil {
		t.Fatal(err)
	}
	manual := func(id int64, es ...registry.Entry) registry.ChangeSet {
		return registry.ChangeSet{Source: registry.Source{Kind: registry.Manual, ID: id}, Actor: actor, Effective: later,
			Persons: registry.NewEntries(es...)}
	}
	died := registry.Entry{ID: idA, Values: map[registry.Field]string{registry.PopStatus: "死亡"}}
	if res := apply(t, db, manual(7, died)); res != (registry.Result{Updated: 1, Events: 1}) {
		t.Fatalf("manual change: %+v", res)
	}
	got := events(t, db)
	if len(got) != 1 || got[0].field != "pop_status" || got[0].old != "正常" || got[0].new != "死亡" || !got[0].effective.Equal(later) ||
		got[0].kind != "manual" || got[0].source != 7 || got[0].actor == nil || *got[0].actor != actor {
		t.Errorf("manual change recorded as %+v", got)
	}
	var name, pop, lastKind string
	var birth time.Time
	if err := db.QueryRow(ctx, `SELECT name, birth, pop_status, last_kind FROM person WHERE id_number = $1`, idA).Scan(&name, &birth, &pop, &lastKind); err != nil {
		t.Fatal(err)
	}
	if name != "陈大文" || !birth.Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)) || pop != "死亡" || lastKind != "manual" {
		t.Errorf("after the manual change: %s %v %s %s; the fields not given must stay", name, birth, pop, lastKind)
	}

	for name, e := range map[string]registry.Entry{
		"ErrUnknownPerson": {ID: idB, Values: map[registry.Field]string{registry.PopStatus: "死亡"}},
		"ErrBadBirth":      {ID: idA, Values: map[registry.Field]string{registry.Birth: "1980-02-30"}},
		"ErrEmptyRegion":   {ID: idA, Values: map[registry.Field]string{registry.RegionCode: ""}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tryApply(db, manual(8, e))
			if apperr.KindOf(err) != apperr.Invalid {
				t.Errorf("want an invalid-input error, have %v", err)
			}
			if n := len(events(t, db)); n != 1 {
				t.Errorf("a refused change left %d events", n)
			}
		})
	}
}

// TestTimelinePages: a person's timeline comes newest first, a page at a
// time, with its total; the page size is capped; outside the viewer's
// region the person does not exist.
func TestTimelinePages(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	apply(t, db, comparison(1, "440981", full(idA, "陈大文", "1980-01-01", "440981101001", "户籍人口")))
	const n = 230
	for i := 1; i <= n; i++ {
		e := registry.Entry{ID: idA, Values: map[registry.Field]string{registry.Household: "H" + time.Duration(i).String()}}
		apply(t, db, registry.ChangeSet{Source: registry.Source{Kind: registry.Survey, ID: int64(i)}, Effective: later,
			Persons: registry.NewEntries(e)})
	}
	st := registry.NewStore(db)
	p, err := st.Person(ctx, viewer("4409"), idA)
	if err != nil || p.Name != "陈大文" || p.First != (registry.Source{Kind: registry.Comparison, ID: 1}) ||
		p.Last != (registry.Source{Kind: registry.Survey, ID: n}) {
		t.Fatalf("person %+v, %v", p, err)
	}
	if _, err := st.Person(ctx, viewer("440982"), idA); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("another county's viewer: %v, want not found", err)
	}

	page, total, err := timeline(ctx, st, viewer("4409"), idA, 1, 50)
	if err != nil || total != n || len(page) != 50 || page[0].Source.ID != n || page[49].Source.ID != n-49 {
		t.Fatalf("first page: %d events of %d, %v", len(page), total, err)
	}
	if page[0].NewValue != "H230ns" || page[0].OldValue != "H229ns" || page[0].ActorID != nil || page[0].ActorName != "" {
		t.Errorf("newest event %+v", page[0])
	}
	last, total, err := timeline(ctx, st, viewer("4409"), idA, 5, 50)
	if err != nil || total != n || len(last) != n-200 || last[len(last)-1].Source.ID != 1 || last[len(last)-1].OldValue != "H001" {
		t.Errorf("last page: %d events, total %d, %v", len(last), total, err)
	}
	if other, total, err := timeline(ctx, st, viewer("440982"), idA, 1, 50); err != nil || total != 0 || len(other) != 0 {
		t.Errorf("another county's viewer reads %d of %d events (%v)", len(other), total, err)
	}
	capped, _, err := timeline(ctx, st, viewer("4409"), idA, 1, 10_000)
	if err != nil || len(capped) != registry.MaxPageSize {
		t.Errorf("a page of 10000 gave %d events, want the cap %d (%v)", len(capped), registry.MaxPageSize, err)
	}
}

// TestWritersTakeTurns: a manual change made while a comparison's change
// set is not yet committed waits for it and then sees it, so it does not
// put back the name the comparison changed.
func TestWritersTakeTurns(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	apply(t, db, comparison(1, "440981", full(idA, "陈大文", "1980-01-01", "440981101001", "户籍人口")))
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := registry.Apply(ctx, tx, comparison(2, "440981", full(idA, "陈达文", "1980-01-01", "440981101001", "户籍人口"))); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		died := registry.Entry{ID: idA, Values: map[registry.Field]string{registry.PopStatus: "死亡"}}
		_, err := tryApply(db, registry.ChangeSet{Source: registry.Source{Kind: registry.Manual, ID: 1}, Effective: later,
			Persons: registry.NewEntries(died)})
		done <- err
	}()
	// Wait until the manual change waits for the lock.
	deadline := time.Now().Add(time.Minute)
	for waiting := 0; waiting == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the manual change never waited for the registry's writer lock")
		}
		select {
		case err := <-done:
			t.Fatalf("the manual change did not wait for the comparison (%v)", err)
		default:
		}
		if err := db.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database =
			(SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var name, pop string
	if err := db.QueryRow(ctx, `SELECT name, pop_status FROM person WHERE id_number = $1`, idA).Scan(&name, &pop); err != nil {
		t.Fatal(err)
	}
	if name != "陈达文" || pop != "死亡" {
		t.Errorf("after both: %s %s, want 陈达文 死亡", name, pop)
	}
	if got := events(t, db); len(got) != 2 || got[1].field != "pop_status" || got[1].old != "正常" {
		t.Errorf("events %+v", got)
	}
}

// viewer is staff of region code, who may read full records.
func viewer(code string) actor.Actor {
	return actor.Actor{Username: "viewer", Role: actor.City, Region: code, IP: "local"}
}

// timeline is a page of a person's timeline, its events and total.
func timeline(ctx context.Context, st *registry.Store, a actor.Actor, id string, page, size int) ([]registry.Event, int, error) {
	p, err := st.Timeline(ctx, a, id, list.Query{Page: page, Size: size})
	return p.Items, p.Total, err
}

// TestApplyPartialFields: one change set of several persons, each giving a
// different subset of fields (a manual change, a survey form), applies
// every change and records one event per changed field, whether the
// entries are read by ID or by region.
func TestApplyPartialFields(t *testing.T) {
	t.Parallel()
	for name, region := range map[string]string{"ByID": "", "ByRegion": "440981"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db, _ := pgtest.New(t)
			ctx := context.Background()
			apply(t, db, comparison(1, "440981",
				full(idA, "陈大文", "1980-01-01", "440981101001", "户籍人口"),
				full(idB, "李小梅", "1990-02-02", "440981102001", "户籍人口"),
				full(idC, "张小宝", "2010-03-03", "440981103001", "户籍人口")))
			set := []registry.Entry{
				{ID: idA, Values: map[registry.Field]string{registry.Birth: "1981-01-01"}},
				{ID: idB, Values: map[registry.Field]string{
					registry.Household: "H900", registry.Relation: "户主", registry.HukouRegion: "440981103001",
					registry.PopStatus: "外出", registry.IdentityKind: "居住人口", registry.RegionCode: "440981103001",
				}},
				{ID: idC, Values: map[registry.Field]string{registry.Birth: "2011-04-04"}},
			}
			res := apply(t, db, registry.ChangeSet{Source: registry.Source{Kind: registry.Manual, ID: 9}, Effective: later,
				Region: region, Persons: registry.NewEntries(set...)})
			if res != (registry.Result{Updated: 3, Events: 7}) {
				t.Errorf("partial set: %+v, want 3 updated and 7 events", res)
			}
			want := map[string][2]string{
				idA + " birth":        {"1980-01-01", "1981-01-01"},
				idB + " household":    {"H" + idB[14:17], "H900"},
				idB + " relation":     {"∅", "户主"},
				idB + " hukou_region": {"440981102001", "440981103001"},
				idB + " pop_status":   {"正常", "外出"},
				idB + " region_code":  {"440981102001", "440981103001"},
				idC + " birth":        {"2010-03-03", "2011-04-04"},
			}
			got := events(t, db)
			for _, e := range got {
				w, ok := want[e.id+" "+e.field]
				if !ok || e.old != w[0] || e.new != w[1] || e.kind != "manual" || e.source != 9 || !e.effective.Equal(later) {
					t.Errorf("event %+v, want %v", e, w)
				}
				delete(want, e.id+" "+e.field)
			}
			if len(want) != 0 {
				t.Errorf("events missing: %v (have %+v)", want, got)
			}

			entries := map[string]string{
				idA: "陈大文 男 1981-01-01 H" + idA[14:17] + "  440981101001 正常 户籍人口 440981101001",
				idB: "李小梅 男 1990-02-02 H900 户主 440981103001 外出 居住人口 440981103001",
				idC: "张小宝 男 2011-04-04 H" + idC[14:17] + "  440981103001 正常 户籍人口 440981103001",
			}
			for id, w := range entries {
				var entry string
				const q = `SELECT concat_ws(' ', name, sex, to_char(birth, 'YYYY-MM-DD'), household, coalesce(relation, ''),
					hukou_region, pop_status, identity_kind, region_code) FROM person WHERE id_number = $1`
				pgtest.MustScan(t, db.QueryRow(ctx, q, id), &entry)
				if entry != w {
					t.Errorf("entry %s:\n have %s\n want %s", id, entry, w)
				}
			}
		})
	}
}
