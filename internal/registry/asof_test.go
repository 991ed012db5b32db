package registry_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/registry"
)

func day(s string) time.Time {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return d
}

// deathThenCorrection is a death learnt with one date and corrected a
// month later, after a change of name: the events as the registry records
// them (the status changes when the death is learnt).
func deathThenCorrection() []registry.Event {
	return []registry.Event{
		{Field: "name", OldValue: "吴捌", NewValue: "吴八", Effective: day("2026-08-01")},
		{Field: "pop_status", OldValue: "正常", NewValue: "死亡", Effective: day("2026-10-01")},
		{Field: "death_date", OldValue: "", NewValue: "2026-10-01", Effective: day("2026-10-01")},
		{Field: "death_date", OldValue: "2026-10-01", NewValue: "2026-09-15", Effective: day("2026-09-15")},
	}
}

// TestValuesAsOf: on each day the entry says what held then, the late
// correction of the death date included.
func TestValuesAsOf(t *testing.T) {
	current := map[string]string{"name": "吴八", "pop_status": "死亡", "death_date": "2026-09-15", "household": "H1"}
	for _, c := range []struct {
		day, name, status, death string
	}{
		{"2026-07-01", "吴捌", "正常", ""},
		{"2026-08-01", "吴八", "正常", ""},
		{"2026-09-14", "吴八", "正常", ""},
		{"2026-09-15", "吴八", "死亡", "2026-09-15"}, // the corrected date
		{"2026-09-30", "吴八", "死亡", "2026-09-15"},
		{"2026-10-01", "吴八", "死亡", "2026-09-15"}, // the first date is corrected, not back in force
		{"2027-01-01", "吴八", "死亡", "2026-09-15"},
	} {
		got := registry.ValuesAsOf(current, deathThenCorrection(), day(c.day))
		if got["name"] != c.name || got["pop_status"] != c.status || got["death_date"] != c.death || got["household"] != "H1" {
			t.Errorf("%s: %v, want %s %s %q", c.day, got, c.name, c.status, c.death)
		}
	}
	// Without the correction the first date holds.
	got := registry.ValuesAsOf(current, deathThenCorrection()[:3], day("2026-09-20"))
	if got["pop_status"] != "正常" || got["death_date"] != "" {
		t.Errorf("before the correction was recorded, 2026-09-20: %v", got)
	}
	if got := registry.ValuesAsOf(current, nil, day("2000-01-01")); got["name"] != "吴八" {
		t.Errorf("no events: %v", got)
	}
}

// TestPersonAndCountsAsOf: the stored entry and the region's counts as of
// several days, a person who moved out of the county included; every read
// of an entry is audited and a clerk of another county finds nobody.
func TestPersonAndCountsAsOf(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fixture.Regions(t, db, "4409")
	const setup = `
		INSERT INTO comparison_run (id, region_code, as_of, status) VALUES (1, '440981', '2026-06-30', 'done');
		INSERT INTO person (id_number, name, pop_status, identity_kind, region_code, first_kind, first_source, last_kind, last_source) VALUES
			('440981193501010011', '吴八', '死亡', '户籍人口', '440981107204', 'compare', 1, 'extract', 9),
			('440981193601010012', '郑九', '正常', '户籍人口', '440982100200', 'compare', 1, 'extract', 9),
			('440981193701010013', '王十', '正常', '户籍人口', '440981107204', 'manual', 5, 'manual', 5);
		INSERT INTO person_event (id_number, field, old_value, new_value, effective, source_kind, source_id) VALUES
			('440981193501010011', 'name', '吴捌', '吴八', '2026-08-01', 'manual', 3),
			('440981193501010011', 'pop_status', '正常', '死亡', '2026-10-01', 'extract', 8),
			('440981193501010011', 'death_date', NULL, '2026-10-01', '2026-10-01', 'extract', 8),
			('440981193601010012', 'region_code', '440981108201', '440982100200', '2026-08-01', 'extract', 8),
			('440981193501010011', 'death_date', '2026-10-01', '2026-09-15', '2026-09-15', 'extract', 9);`
	if _, err := db.Exec(ctx, setup); err != nil {
		t.Fatal(err)
	}
	clerk := actor.Actor{UserID: 0, Username: "clerk", Role: actor.County, Region: "440981", IP: "test"}
	store := registry.NewStore(db)
	for _, c := range []struct {
		day           string
		existed       bool
		status, death string
	}{
		{"2026-06-01", false, "正常", ""},
		{"2026-09-14", true, "正常", ""},
		{"2026-09-20", true, "死亡", "2026-09-15"},
		{"2026-10-05", true, "死亡", "2026-09-15"},
	} {
		p, err := store.PersonAsOf(ctx, clerk, "440981193501010011", day(c.day))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, f := range p.Fields {
			got[f.Column] = f.Then
		}
		if p.Existed != c.existed || got["pop_status"] != c.status || got["death_date"] != c.death {
			t.Errorf("%s: existed %v, %v", c.day, p.Existed, got)
		}
	}
	var audited int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = $1 AND object = 'person:440981193501010011' AND result = 'ok'`, audit.RecordView), &audited)
	if audited != 4 {
		t.Errorf("%d audited reads, want 4", audited)
	}
	other := clerk
	other.Region = "440982"
	if _, err := store.PersonAsOf(ctx, other, "440981193501010011", day("2026-09-20")); err == nil {
		t.Error("a clerk of another county read the entry")
	}

	for _, c := range []struct {
		day                   string
		persons, normal, dead int
		townships             map[string]int
	}{
		// 郑九 lived in 440981108 until August; 王十 was added by hand (no date: always there).
		{"2026-06-01", 1, 1, 0, map[string]int{"440981107": 1}},
		{"2026-07-01", 3, 3, 0, map[string]int{"440981107": 2, "440981108": 1}},
		{"2026-09-14", 2, 2, 0, map[string]int{"440981107": 2}},
		{"2026-09-20", 2, 1, 1, map[string]int{"440981107": 2}},
	} {
		total, children, err := store.CountsAsOf(ctx, clerk, "440981", day(c.day))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, ch := range children {
			got[ch.Code] = ch.Persons
		}
		if total.Persons != c.persons || total.ByStatus["正常"] != c.normal || total.ByStatus["死亡"] != c.dead || len(got) != len(c.townships) {
			t.Errorf("%s: %+v %v", c.day, total, got)
		}
		for code, n := range c.townships {
			if got[code] != n {
				t.Errorf("%s: township %s has %d, want %d", c.day, code, got[code], n)
			}
		}
	}

	// The list behind the counts: names, regions and statuses as they were.
	for _, c := range []struct {
		day, q, status string
		want           []string
	}{
		{"2026-07-01", "", "", []string{"440981193501010011 吴捌 440981107204 正常", "440981193701010013 王十 440981107204 正常",
			"440981193601010012 郑九 440981108201 正常"}},
		{"2026-09-20", "", "", []string{"440981193501010011 吴八 440981107204 死亡", "440981193701010013 王十 440981107204 正常"}},
		{"2026-09-20", "", "死亡", []string{"440981193501010011 吴八 440981107204 死亡"}},
		{"2026-09-20", "王", "", []string{"440981193701010013 王十 440981107204 正常"}},
		{"2026-07-01", "4409811936", "", []string{"440981193601010012 郑九 440981108201 正常"}},
		{"2026-09-20", "4409811936", "", nil},
	} {
		q := list.Parse(url.Values{"q": {c.q}, "status": {c.status}}, registry.PersonsAsOfSpec)
		page, err := store.PersonsAsOf(ctx, clerk, "440981", day(c.day), q, -1)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range page.Items {
			got = append(got, p.IDNumber+" "+p.Name+" "+p.RegionCode+" "+p.Status)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) || page.Total != len(c.want) {
			t.Errorf("%s q=%q status=%q: %d %v, want %v", c.day, c.q, c.status, page.Total, got, c.want)
		}
	}
	if _, err := store.PersonsAsOf(ctx, other, "440981", day("2026-09-20"), list.Query{Page: 1, Size: 20}, -1); err == nil {
		t.Error("a clerk of another county listed the county")
	}
}

// TestExtractAddedSince: a person an extract added existed from the day
// the extract was taken (数据日期), not from the day it was imported, in
// the entry and in the counts.
func TestExtractAddedSince(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fixture.Regions(t, db, "4409")
	const setup = `
		INSERT INTO import_batch (id, kind, region_code, source, file_name, file_sha256, file_size, status, created_at, extract_date)
		VALUES (7, '户籍人口', '440981', '', 'h.csv', 'a', 1, 'done', '2026-11-20 10:00+08', '2026-10-31');
		INSERT INTO person (id_number, name, pop_status, identity_kind, region_code, first_kind, first_source, last_kind, last_source)
		VALUES ('440981200001010011', '李一', '正常', '户籍人口', '440981107204', 'extract', 7, 'extract', 7);`
	if _, err := db.Exec(ctx, setup); err != nil {
		t.Fatal(err)
	}
	clerk := actor.Actor{UserID: 0, Username: "clerk", Role: actor.County, Region: "440981", IP: "test"}
	store := registry.NewStore(db)
	for _, c := range []struct {
		day     string
		existed bool
	}{{"2026-10-30", false}, {"2026-10-31", true}, {"2026-11-10", true}} {
		p, err := store.PersonAsOf(ctx, clerk, "440981200001010011", day(c.day))
		if err != nil {
			t.Fatal(err)
		}
		total, _, err := store.CountsAsOf(ctx, clerk, "440981", day(c.day))
		if err != nil {
			t.Fatal(err)
		}
		if n := map[bool]int{true: 1}[c.existed]; p.Existed != c.existed || total.Persons != n {
			t.Errorf("%s: existed %v, counted %d", c.day, p.Existed, total.Persons)
		}
	}
}
