package server_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/dynamic"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/job"
	"github.com/canbao/canbao/internal/source"
)

// timelineRow is one line of a person page's registry timeline.
var timelineRow = regexp.MustCompile(`(?s)<tr data-testid="event">.*?</tr>`)

// TestEventsPage: the demo's newer extracts of a generated county give
// events of several kinds, some applied and some pending; the list filters
// them, masks every ID, and a clerk's confirmation applies a pending one
// and returns to the filtered list.
func TestEventsPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	fixture.ImportCounty(t, e.db, 300, 7, "csv")
	if _, err := compare.New(e.db).Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := demo.NewerExtracts(ctx, e.db, demo.NewerOptions{County: fixture.County, Rate: 5, Seed: 3,
		Today: source.Day(time.Now()), Kinds: []string{demo.KindHukou, demo.KindDeath, demo.KindEnrollment,
			demo.KindResidence, demo.KindStudent}}, dir)
	if err != nil || len(files) != 5 {
		t.Fatalf("newer extracts: %v (%d)", err, len(files))
	}
	im := imports.New(e.db).Then(dynamic.New(e.db).AfterImport)
	for _, f := range files {
		req := imports.Request{Kind: source.Kind(f.Kind), Region: fixture.County, Source: f.Source, Path: f.Path,
			FileName: filepath.Base(f.Path), TempDir: dir, Force: true}
		if _, err := im.Job(fixture.Actor, req, 0, nil).Run(ctx, &job.Progress{}); err != nil {
			t.Fatalf("import %s: %v", f.Path, err)
		}
	}
	var kinds, pending, auto int
	if err := e.db.QueryRow(ctx, `SELECT count(DISTINCT kind), count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'auto')
		FROM extract_event`).Scan(&kinds, &pending, &auto); err != nil {
		t.Fatal(err)
	}
	if kinds < 6 || pending == 0 || auto == 0 {
		t.Fatalf("events: %d kinds, %d pending, %d auto", kinds, pending, auto)
	}

	e.mustCreateUser("clerk", actor.County, fixture.County)
	c := e.client()
	c.mustLogin("clerk")
	resp, body := c.get("/events?state=pending")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("events page: %d", resp.StatusCode)
	}
	if n := strings.Count(body, `data-testid="event-row"`); n == 0 || n != strings.Count(body, `data-state="pending"`) {
		t.Errorf("pending filter shows %d rows, %d pending", n, strings.Count(body, `data-state="pending"`))
	}
	if id := fullID.FindString(body); id != "" {
		t.Errorf("the events list shows a full ID %s", id)
	}
	if !strings.Contains(body, ">"+strconv.Itoa(pending)+"<") {
		t.Errorf("the pending count %d is not shown", pending)
	}
	// The residence and student extracts' events, each list filtered by
	// the extract's kind, say where they came from.
	for src, labels := range map[string][]string{"居住人口": {"迁入（居住）", "迁出（居住）"}, "在校学生": {"入学", "离校"}} {
		resp, body := c.get("/events?source=" + url.QueryEscape(src))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("events of %s: %d", src, resp.StatusCode)
		}
		if n := strings.Count(body, `data-testid="event-row"`); n == 0 || strings.Count(body, src+" #") < n {
			t.Errorf("events of %s extracts: %d rows, %d naming the extract", src, n, strings.Count(body, src+" #"))
		}
		for _, l := range labels {
			if !strings.Contains(body, l) {
				t.Errorf("events of %s extracts: no %s", src, l)
			}
		}
	}
	// A student new to the extract, known to the registry from the
	// comparison, shows the registry's 在校情况 and, in the page's
	// timeline, the student extract that set it.
	var studentBatch int64
	if err := e.db.QueryRow(ctx, `SELECT id FROM import_batch WHERE kind = '在校学生' AND status = 'done' AND superseded_by IS NULL`).
		Scan(&studentBatch); err != nil {
		t.Fatal(err)
	}
	var student, firstKind, school string
	if err := e.db.QueryRow(ctx, `SELECT id_number, first_kind, school FROM person WHERE school LIKE '在读%' ORDER BY id_number LIMIT 1`).
		Scan(&student, &firstKind, &school); err != nil {
		t.Fatal(err)
	}
	if firstKind != "compare" {
		t.Errorf("the new student %s was first registered by %s, not the comparison", student, firstKind)
	}
	resp, body = c.get(e.srv.PersonURL(student))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<dt>在校情况</dt><dd>"+school+"</dd>") {
		t.Fatalf("a new student's page (%d) shows no 在校情况 %s", resp.StatusCode, school)
	}
	named := ">导入批次 #" + strconv.FormatInt(studentBatch, 10) + "（"
	var line bool
	for _, row := range timelineRow.FindAllString(body, -1) {
		line = line || (strings.Contains(row, "<td>在校情况</td>") && strings.Contains(row, "<td>"+school+"</td>") && strings.Contains(row, named))
	}
	if !line {
		t.Errorf("a new student's timeline has no 在校情况 line from the student extract #%d", studentBatch)
	}
	resp, _ = c.get("/events?kind=nonsense")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown kind: status %d", resp.StatusCode)
	}

	var ev int64
	if err := e.db.QueryRow(ctx, `SELECT id FROM extract_event WHERE state = 'pending' ORDER BY id LIMIT 1`).Scan(&ev); err != nil {
		t.Fatal(err)
	}
	csrf := c.csrf("/events")
	back := "/events?state=pending"
	resp, _ = c.post("/events/"+strconv.FormatInt(ev, 10)+"/confirm", url.Values{"csrf": {csrf}, "back": {back}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/events?") ||
		!strings.Contains(resp.Header.Get("Location"), "state=pending") {
		t.Fatalf("confirm: %d to %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var state, by string
	if err := e.db.QueryRow(ctx, `SELECT state, decided_name FROM extract_event WHERE id = $1`, ev).Scan(&state, &by); err != nil {
		t.Fatal(err)
	}
	if state != "applied" || by != "clerk" {
		t.Errorf("confirmed event: %s by %s", state, by)
	}
	// An open redirect through back is refused.
	resp, _ = c.post("/events/"+strconv.FormatInt(ev, 10)+"/reject", url.Values{"csrf": {csrf}, "back": {"https://evil.example/"}})
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("rejecting a confirmed event: %d", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); strings.Contains(loc, "evil") {
		t.Errorf("redirected to %s", loc)
	}
}
