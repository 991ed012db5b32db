package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/idcard"
)

// TestAsOfPages: from a person's page to the entry as of a day before and
// after a death, each read audited; and the county's numbers as of a day
// before its first comparison and after it.
func TestAsOfPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.importDemoCounty(120)
	e.mustCreateUser("county", actor.County, "440981")
	c := e.client()
	c.mustLogin("county")
	c.mustCompare("440981", demoAsOf.Format("2006-01-02"))
	ctx := context.Background()
	var id string
	if err := e.db.QueryRow(ctx, `SELECT id_number FROM person WHERE pop_status = '正常' AND region_code LIKE '440981%' ORDER BY id_number LIMIT 1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE person SET pop_status = '死亡' WHERE id_number = $1`,
		`INSERT INTO person_event (id_number, field, old_value, new_value, effective, source_kind, source_id)
		VALUES ($1, 'pop_status', '正常', '死亡', '2026-09-01', 'manual', 1)`} {
		if _, err := e.db.Exec(ctx, q, id); err != nil {
			t.Fatal(err)
		}
	}
	_, page := c.get(e.srv.PersonURL(id))
	if !strings.Contains(page, `data-testid="asof-form"`) || !strings.Contains(page, `action="`+e.srv.PersonURL(id)+`/asof"`) {
		t.Fatal("the person page has no as-of form")
	}
	for day, want := range map[string]string{"2026-08-01": "正常", "2026-09-02": "死亡"} {
		resp, page := c.get(e.srv.PersonURL(id) + "/asof?date=" + day)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `data-testid="asof-then-人口状态">`+want+`<`) {
			t.Errorf("as of %s: status %d, want 人口状态 %s", day, resp.StatusCode, want)
		}
	}
	if resp, _ := c.get(e.srv.PersonURL(id) + "/asof?date=yesterday"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad date: %d", resp.StatusCode)
	}
	var audited int
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE object = $1 AND detail LIKE '截至%'`, "person:"+id).Scan(&audited); err != nil || audited != 2 {
		t.Errorf("%d as-of reads audited (%v), want 2", audited, err)
	}

	_, before := c.get("/asof?region=440981&date=2026-05-01")
	if !strings.Contains(before, `data-testid="asof-no-run"`) {
		t.Error("as of a day before the first comparison a run is shown")
	}
	_, after := c.get("/asof?region=440981&date=2026-07-01")
	if !strings.Contains(after, `data-testid="asof-run"`) || !strings.Contains(after, `data-testid="asof-registry"`) {
		t.Error("as of a day after the comparison: no run or registry numbers")
	}

	// The persons behind the numbers: masked, searchable, by the status they had on the day.
	masked := idcard.Mask(id)
	for day, want := range map[string]bool{"2026-08-01": false, "2026-09-02": true} {
		_, page := c.get("/asof?region=440981&date=" + day + "&status=" + url.QueryEscape("死亡") + "&q=" + id[:14])
		if strings.Contains(page, id) {
			t.Errorf("as of %s: the list shows a full ID", day)
		}
		if got := strings.Contains(page, masked) && strings.Contains(page, `data-testid="asof-person-link"`); got != want {
			t.Errorf("as of %s: the dead person listed %v, want %v", day, got, want)
		}
	}
	_, all := c.get("/asof?region=440981&date=2026-07-01")
	if !strings.Contains(all, `data-testid="asof-persons"`) || !strings.Contains(all, `data-testid="pager"`) {
		t.Error("as of a day after the comparison: no person list")
	}
}
