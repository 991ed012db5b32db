package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/server"
	"github.com/canbao/canbao/internal/source"
)

// personalData is a tiny compared county: two persons named 刘芳 in two
// townships, and an enrollment record without ID but with a phone number
// that therefore waits for review between them.
type personalData struct {
	run, enrollBatch, hukouBatch int64
	town, otherTown, otherName   string
	ids                          []string
}

func setupPersonalData(t *testing.T, e *env) personalData {
	t.Helper()
	ctx := context.Background()
	d := personalData{town: "440981107"}
	if err := e.db.QueryRow(ctx, `SELECT code, name FROM region WHERE parent_code = '440981' AND code <> $1 ORDER BY code LIMIT 1`, d.town).
		Scan(&d.otherTown, &d.otherName); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"44098119600303001", "44098119610404002", "44098119700505004"} {
		d.ids = append(d.ids, body+string(idcard.CheckChar(body)))
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hukou := write("hukou.csv", "公民身份号码,姓名,户籍地区划代码,人口状态\n"+
		d.ids[0]+",刘芳,"+d.town+",正常\n"+d.ids[1]+",刘芳,"+d.otherTown+",正常\n"+d.ids[2]+",周八,"+d.town+",正常\n")
	enroll := write("enroll.csv", "公民身份号码,姓名,险种类型,参保状态,参保地区划代码,联系电话,备注\n"+
		",刘芳,390,1,"+d.town+",13812345678,监护人"+d.ids[2]+"\n"+d.ids[2]+",周八,390,1,"+d.town+",,\n")
	im := imports.New(e.db)
	for _, f := range []struct {
		kind source.Kind
		path string
		id   *int64
	}{{source.Hukou, hukou, &d.hukouBatch}, {source.Enrollment, enroll, &d.enrollBatch}} {
		res, err := im.Import(ctx, fixture.Actor, imports.Request{Kind: f.kind, Region: "440981", Path: f.path, TempDir: dir}, nil)
		if err != nil {
			t.Fatal(err)
		}
		*f.id = res.BatchID
	}
	res, err := compare.New(e.db).Run(ctx, fixture.Actor, compare.Request{Region: "440981", AsOf: demoAsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Review != 1 {
		t.Fatalf("%d records to review, want 1", res.Review)
	}
	d.run = res.RunID
	return d
}

var anyFullID = regexp.MustCompile(`[0-9]{17}[0-9X]`)

// TestPersonLinksOpaque: person links carry an opaque key, never the ID;
// the key is stable across a restart; a bare ID or a made-up key is no
// page; the page behind a key is audited.
func TestPersonLinksOpaque(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := setupPersonalData(t, e)
	e.mustCreateUser("staff", actor.County, "440981")
	c := e.client()
	c.mustLogin("staff")
	_, list := c.get(fmt.Sprintf("/compare/runs/%d/list?metric=persons&region=440981", d.run))
	keys := map[string]bool{}
	for _, m := range personHref.FindAllStringSubmatch(list, -1) {
		keys[m[1]] = true
	}
	if len(keys) != 3 {
		t.Fatalf("%d persons linked, want 3", len(keys))
	}
	if id := anyFullID.FindString(list); id != "" {
		t.Errorf("the list holds a full ID %s", id)
	}
	// The same key after a restart: a new server on the same database.
	again := server.New(server.Config{TempDir: t.TempDir()}, e.db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if got := again.PersonURL(d.ids[2]); got != e.srv.PersonURL(d.ids[2]) || !strings.Contains(list, `href="`+got+`"`) {
		t.Errorf("the person link changed across a restart: %s vs %s", got, e.srv.PersonURL(d.ids[2]))
	}
	resp, page := c.get(e.srv.PersonURL(d.ids[2]))
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, d.ids[2]) {
		t.Fatalf("person page by key: %d", resp.StatusCode)
	}
	var n int
	if err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'record.view' AND object = $1`, "person:"+d.ids[2]).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d audit lines for the person page (%v), want 1", n, err)
	}
	key := strings.TrimPrefix(e.srv.PersonURL(d.ids[2]), "/persons/")
	forged := key[:len(key)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(key, "AA")]
	for _, path := range []string{"/persons/" + d.ids[2], "/persons/" + forged, "/persons/x"} {
		if resp, _ := c.get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, resp.StatusCode)
		}
	}
}

// TestLeaderReadsAggregatesOnly: a leader sees the summary and the lists
// (IDs masked) but may not download the comparison export, the unmatched
// records or an import's error report, nor open a person's full record,
// and is not offered them; staff may.
func TestLeaderReadsAggregatesOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := setupPersonalData(t, e)
	e.mustCreateUser("leader", actor.Leader, "440981")
	e.mustCreateUser("staff", actor.County, "440981")
	leader, staff := e.client(), e.client()
	leader.mustLogin("leader")
	staff.mustLogin("staff")
	run := fmt.Sprintf("/compare/runs/%d", d.run)
	downloads := []string{run + "/export.csv?region=440981", run + "/export.xlsx?region=440981", run + "/unmatched.xlsx?region=440981",
		fmt.Sprintf("/imports/%d/errors.xlsx", d.enrollBatch)}
	for _, p := range downloads {
		if resp, _ := leader.get(p); resp.StatusCode != http.StatusForbidden {
			t.Errorf("leader GET %s: status %d, want 403", p, resp.StatusCode)
		}
		if resp, _ := staff.get(p); resp.StatusCode != http.StatusOK {
			t.Errorf("staff GET %s: status %d", p, resp.StatusCode)
		}
	}
	if resp, page := leader.get(run + "?region=440981"); resp.StatusCode != http.StatusOK || strings.Contains(page, "export-csv") {
		t.Errorf("leader summary: status %d, offers the export: %v", resp.StatusCode, strings.Contains(page, "export-csv"))
	}
	if _, page := leader.get(fmt.Sprintf("/imports/%d", d.enrollBatch)); strings.Contains(page, "download-report") {
		t.Error("leader is offered the error report")
	}
	list := run + "/list?region=440981&metric=universe"
	_, mine := staff.get(list)
	m := personHref.FindStringSubmatch(mine)
	if m == nil {
		t.Fatal("staff list links no person")
	}
	if resp, page := leader.get(list); resp.StatusCode != http.StatusOK || strings.Contains(page, "/persons/") {
		t.Errorf("leader list: status %d, links full records: %v", resp.StatusCode, strings.Contains(page, "/persons/"))
	}
	if resp, _ := leader.get("/persons/" + m[1]); resp.StatusCode != http.StatusForbidden {
		t.Errorf("leader opens a full record: status %d, want 403", resp.StatusCode)
	}
}

// TestReviewPageMasksAndScopes: the review page masks phone numbers and
// IDs in the record's cells, audits each view, and shows a township clerk
// only the candidates of their township.
func TestReviewPageMasksAndScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := setupPersonalData(t, e)
	e.mustCreateUser("staff", actor.County, "440981")
	e.mustCreateUser("clerk", actor.Township, d.town)
	staff, clerk := e.client(), e.client()
	staff.mustLogin("staff")
	clerk.mustLogin("clerk")
	item := fmt.Sprintf("/compare/runs/%d/review/%d/2?region=440981", d.run, d.enrollBatch)
	resp, page := staff.get(item)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("review page: %d", resp.StatusCode)
	}
	if strings.Contains(page, "13812345678") || !strings.Contains(page, "138****5678") {
		t.Error("the review page shows the phone number unmasked")
	}
	if strings.Contains(page, d.ids[2]) {
		t.Error("the review page shows an ID number in a remark unmasked")
	}
	if !strings.Contains(page, d.otherName) {
		t.Fatalf("county staff does not see the candidate of %s; the test proves nothing", d.otherName)
	}
	var n int
	if err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'record.view' AND object = $1 AND username = 'staff'`,
		fmt.Sprintf("record:%d:2", d.enrollBatch)).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d audit lines for the review page (%v), want 1", n, err)
	}
	resp, page = clerk.get(fmt.Sprintf("/compare/runs/%d/review/%d/2?region=%s", d.run, d.enrollBatch, d.town))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("clerk review page: %d", resp.StatusCode)
	}
	if strings.Contains(page, d.otherName) {
		t.Errorf("a township clerk sees a candidate of %s", d.otherName)
	}
}
