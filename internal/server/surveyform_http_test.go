package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
)

var (
	versionField = regexp.MustCompile(`name="version" value="([0-9]+)"`)
	keyField     = regexp.MustCompile(`name="key" value="([0-9a-f]+)"`)
)

// entryForm is the filled form a clerk posts, from the page's hidden fields.
func entryForm(t *testing.T, page, csrf, name, id string) url.Values {
	t.Helper()
	v, k := versionField.FindStringSubmatch(page), keyField.FindStringSubmatch(page)
	if v == nil || k == nil {
		t.Fatalf("no version or key on the form page")
	}
	b, _ := idcard.Birth(id)
	sex := "女"
	if idcard.Male(id) {
		sex = "男"
	}
	return url.Values{"csrf": {csrf}, "version": {v[1]}, "key": {k[1]}, "name": {name}, "id_number": {id}, "sex": {sex},
		"birth": {b.Format("2006-01-02")}, "method": {"入户"}, "surveyor": {"调查员甲"}, "surveyed_on": {"2026-07-01"}, "outcome": {"在户"},
		"willing": {"愿意参保"}, "reason": {"个人未参保"}, "phone": {"13800138000"}}
}

// TestFormEntryOverHTTP: two clerks open one form; the second save gets the
// conflict page with both versions and keeps what was typed; a submission
// posted again and again in parallel (a lost connection retried) submits once;
// a bad submission re-shows the input with its errors.
func TestFormEntryOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var run int64
	if err := e.db.QueryRow(ctx, `INSERT INTO comparison_run (region_code, as_of, status) VALUES ($1, '2026-06-30', 'done') RETURNING id`,
		fixture.County).Scan(&run); err != nil {
		t.Fatal(err)
	}
	sf := e.surveyFormCase(run, "440981107")
	e.mustCreateUser("clerk1", actor.Township, "440981107")
	e.mustCreateUser("clerk2", actor.Township, "440981107")
	e.mustCreateUser("outsider", actor.Township, "440981002")
	c1, c2 := e.client(), e.client()
	c1.mustLogin("clerk1")
	c2.mustLogin("clerk2")
	id := validID("44098119820202902")

	// Finding the task: by code, by name, by ID.
	if resp, _ := c1.get("/survey/entry?q=" + sf.code); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != sf.household {
		t.Errorf("task code: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, q := range []string{"录入标记", id} {
		if _, body := c1.get("/survey/entry?q=" + url.QueryEscape(q)); !strings.Contains(body, sf.code) {
			t.Errorf("search %q did not find the household", q)
		}
	}
	out := e.client()
	out.mustLogin("outsider")
	if _, body := out.get("/survey/entry?q=" + url.QueryEscape("录入标记")); strings.Contains(body, sf.code) {
		t.Error("a clerk of another township found the household")
	}
	if resp, _ := out.get(sf.member); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another township's clerk opened the form: %d", resp.StatusCode)
	}

	_, page1 := c1.get(sf.member)
	_, page2 := c2.get(sf.member)
	csrf1, csrf2 := c1.csrf("/"), c2.csrf("/")
	f1 := entryForm(t, page1, csrf1, "录入标记人", id)
	f1.Set("do", "save")
	f1.Set("note", "甲的备注")
	if resp, body := c1.post(sf.member, f1); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first save: %d %s", resp.StatusCode, body)
	}
	f2 := entryForm(t, page2, csrf2, "录入标记人", id)
	f2.Set("do", "save")
	f2.Set("note", "乙的备注")
	resp, body := c2.post(sf.member, f2)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "保存冲突") || !strings.Contains(body, "甲的备注") ||
		!strings.Contains(body, `data-testid="conflict-table"`) {
		t.Fatalf("second save: %d, conflict shown: %v", resp.StatusCode, strings.Contains(body, "保存冲突"))
	}
	if !strings.Contains(body, `>乙的备注</textarea>`) {
		t.Error("the conflict page lost what the second clerk typed")
	}
	// Having seen both, the second clerk saves again: their version wins.
	f2 = entryForm(t, body, csrf2, "录入标记人", id)
	f2.Set("do", "save")
	f2.Set("note", "乙的备注")
	if resp, _ := c2.post(sf.member, f2); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save after the conflict: %d", resp.StatusCode)
	}

	// A bad submission: 400, the input kept, the errors named.
	_, page := c1.get(sf.member)
	bad := entryForm(t, page, csrf1, "录入标记人", id)
	bad.Set("do", "submit")
	bad.Set("surveyed_on", "2026-02-30")
	bad.Set("employer", "某某公司")
	resp, body = c1.post(sf.member, bad)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "调查日期不是有效日期") || !strings.Contains(body, `value="某某公司"`) {
		t.Fatalf("bad submission: %d", resp.StatusCode)
	}

	// The same submission posted 6 times at once: one submission.
	sub := entryForm(t, page, csrf1, "录入标记人", id)
	sub.Set("do", "submit")
	var wg sync.WaitGroup
	codes := make([]int, 6)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c1.c.Post(c1.base+sf.member, "application/x-www-form-urlencoded", strings.NewReader(sub.Encode()))
			if err != nil {
				t.Error(err)
				return
			}
			codes[i] = resp.StatusCode
			_ = resp.Body.Close()
		}()
	}
	wg.Wait()
	for _, c := range codes {
		if c != http.StatusSeeOther {
			t.Errorf("parallel submissions answered %v, want 303 each", codes)
			break
		}
	}
	var submits int
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM survey_form_event v JOIN survey_form f ON f.id = v.form_id
		JOIN survey_member m ON m.id = f.member_id WHERE m.id_number = $1 AND v.to_state = 'submitted'`, id).Scan(&submits); err != nil || submits != 1 {
		t.Errorf("%d submissions recorded (%v), want 1", submits, err)
	}
	if _, body := c1.get(sf.household); !strings.Contains(body, "已提交") {
		t.Error("the household page does not show the submitted state")
	}
}

// TestFormApproveOverHTTP: the reviewer approves a submitted form of a
// person the registry lacks; the person exists afterwards and their page
// links the approved form.
func TestFormApproveOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var run int64
	if err := e.db.QueryRow(ctx, `INSERT INTO comparison_run (region_code, as_of, status) VALUES ($1, '2026-06-30', 'done') RETURNING id`,
		fixture.County).Scan(&run); err != nil {
		t.Fatal(err)
	}
	sf := e.surveyFormCase(run, "440981107")
	e.mustCreateUser("reviewer", actor.County, fixture.County)
	c := e.client()
	c.mustLogin("reviewer")
	_, page := c.get(sf.form)
	if !strings.Contains(page, `data-testid="review-new"`) {
		t.Error("the review page does not say the person is new to the registry")
	}
	resp, body := c.post(sf.form+"/approve", url.Values{"csrf": {c.csrf("/")}, "version": {sf.version}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", resp.StatusCode, body)
	}
	var id string
	if err := e.db.QueryRow(ctx, `SELECT id_number FROM person WHERE name = '审核标记人'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	resp, body = c.get(e.srv.PersonURL(id))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-testid="person-survey-forms"`) || !strings.Contains(body, sf.form) {
		t.Errorf("person page: %d, forms linked: %v", resp.StatusCode, strings.Contains(body, "person-survey-forms"))
	}
}
