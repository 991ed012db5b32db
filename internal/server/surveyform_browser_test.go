package server_test

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
)

// browserLogin signs user in, after signing out whoever was.
func browserLogin(t *testing.T, ctx context.Context, base, user string) {
	t.Helper()
	mustDo(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(sel("login-form")),
		chromedp.SendKeys(sel("username"), user),
		chromedp.SendKeys(sel("password"), testPassword),
		chromedp.Click(sel("login-submit")),
		chromedp.WaitReady(sel("who")),
	)
}

func browserLogout(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	mustDo(t, ctx, chromedp.Navigate(base+"/"), chromedp.Click(sel("logout")), chromedp.WaitVisible(sel("login-form")))
}

// fitsPhone fails t when the page is wider than a 390-px phone.
func fitsPhone(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if w > 392 {
		t.Errorf("%s is %d px wide on a 390-px phone", what, w)
	}
}

// TestBrowserSurveyHousehold walks one household through the survey:
// county staff publish a round and print the village (PDF); the township
// clerk, on a 390-px phone, finds the task by its code, types in a target's
// form (moved away) and adds a person found at the door with their own
// form; the reviewer returns one, the clerk resubmits, the reviewer
// approves both; then the person page, the village's progress numbers and
// the next comparison run show the result.
func TestBrowserSurveyHousehold(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.importDemoCounty(150)
	ctx := context.Background()
	eng := compare.New(e.db)
	first, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: demoAsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.mustCreateUser("staff", actor.County, fixture.County)
	b := newBrowserFor(t, 4*time.Minute) // many steps, on a machine under load
	base := e.http.URL

	// Publish.
	browserLogin(t, b, base, "staff")
	mustDo(t, b,
		chromedp.Navigate(base+"/survey"),
		chromedp.WaitVisible(sel("publish-form")),
		chromedp.SetValue(sel("publish-run"), strconv.FormatInt(first.RunID, 10)),
		chromedp.SendKeys(sel("publish-title"), "浏览器测试批次"),
		chromedp.SetValue(sel("publish-deadline"), "2099-12-31"),
		chromedp.Click(sel("publish-start")),
		chromedp.WaitVisible(sel("round-cards")),
	)
	var round, household, member int64
	var code, village, targetID string
	if err := e.db.QueryRow(ctx, `SELECT h.round_id, h.id, h.code, h.region_code, m.id, m.id_number
		FROM survey_household h JOIN survey_member m ON m.household_id = h.id AND m.target
		WHERE length(h.region_code) = 12 AND h.household <> ''
		ORDER BY h.persons, h.id, m.id LIMIT 1`).Scan(&round, &household, &code, &village, &member, &targetID); err != nil {
		t.Fatal(err)
	}
	e.mustCreateUser("clerk", actor.Township, village[:9]) // the household's township
	var villageTargets int
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM run_persons($1) WHERE survey AND region_code = $2`, first.RunID, village).Scan(&villageTargets); err != nil {
		t.Fatal(err)
	}

	// Print the village's forms to PDF.
	mustDo(t, b, chromedp.Navigate(fmt.Sprintf("%s/survey/rounds/%d/print?village=%s", base, round, village)),
		chromedp.WaitReady(sel("print-form")))
	pdf, err := chromedp.Run(b, chromedp.PrintToPDF())
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF")) || len(pdf) < 2000 {
		t.Fatalf("print to PDF: %d bytes, %v", len(pdf), err)
	}
	browserLogout(t, b, base)

	// Entry on a phone.
	mustDo(t, b, chromedp.EmulateViewport(390, 844))
	browserLogin(t, b, base, "clerk")
	mustDo(t, b,
		chromedp.Navigate(base+"/survey/entry"),
		chromedp.WaitVisible(sel("task-search")),
		chromedp.SendKeys(sel("task-q"), strings.ToLower(code)),
		chromedp.Click(sel("task-find")),
		chromedp.WaitVisible(sel("household-facts")),
	)
	fitsPhone(t, b, "the household page")
	mid := strconv.FormatInt(member, 10)
	born, _ := idcard.Birth(targetID)
	sex := map[bool]string{true: "男", false: "女"}[idcard.Male(targetID)]
	mustDo(t, b,
		chromedp.Click(sel("enter-"+mid)),
		chromedp.WaitVisible(sel("regform")),
	)
	fitsPhone(t, b, "the form")
	mustDo(t, b,
		chromedp.SetValue(sel("f-sex"), sex),
		chromedp.SetValue(sel("f-birth"), born.Format("2006-01-02")),
		chromedp.SetValue(sel("f-outcome"), "已迁出"),
		chromedp.SetValue(sel("f-outcome_date"), "2026-07-01"),
		chromedp.SetValue(sel("f-method"), "入户"),
		chromedp.SendKeys(sel("f-surveyor"), "张三、李四"),
		chromedp.SetValue(sel("f-surveyed_on"), "2026-07-10"),
		chromedp.SendKeys(sel("f-phone"), "1380013800"), // one digit short: a hint as typed
	)
	if hint := text(t, b, "err-phone"); !strings.Contains(hint, "11 位") {
		t.Errorf("no hint for a short phone number: %q", hint)
	}
	mustDo(t, b,
		chromedp.SendKeys(sel("f-phone"), "0"),
		chromedp.Click(sel("form-submit")),
		chromedp.WaitVisible(sel("household-facts")),
	)
	if st := text(t, b, "state-"+mid); !strings.Contains(st, "已提交") {
		t.Fatalf("after submitting the member shows %q", st)
	}
	// Someone found at the door.
	foundID := validID("44098120240315401")
	mustDo(t, b,
		chromedp.SendKeys(sel("f-name"), "王新生"),
		chromedp.SendKeys(sel("f-id_number"), foundID),
		chromedp.SendKeys(sel("f-relation"), "孙子"),
		chromedp.Click(sel("found-add")),
		chromedp.WaitVisible(sel("regform")),
		chromedp.SetValue(sel("f-method"), "入户"),
		chromedp.SendKeys(sel("f-surveyor"), "张三"),
		chromedp.SetValue(sel("f-surveyed_on"), "2026-07-10"),
		chromedp.SetValue(sel("f-willing"), "愿意参保"),
		chromedp.SetValue(sel("f-reason"), "个人未参保"),
		chromedp.Click(sel("form-submit")),
		chromedp.WaitVisible(sel("household-facts")),
	)
	var targetForm, foundForm int64
	if err := e.db.QueryRow(ctx, `SELECT (SELECT id FROM survey_form WHERE member_id = $1),
		(SELECT f.id FROM survey_form f JOIN survey_member m ON m.id = f.member_id WHERE m.id_number = $2 AND f.state = 'submitted')`,
		member, foundID).Scan(&targetForm, &foundForm); err != nil {
		t.Fatal(err)
	}
	browserLogout(t, b, base)

	// The reviewer returns the target's form.
	browserLogin(t, b, base, "staff")
	mustDo(t, b,
		chromedp.Navigate(fmt.Sprintf("%s/survey/forms/%d", base, targetForm)),
		chromedp.WaitVisible(sel("review-compare")),
	)
	if row := text(t, b, "cmp-人口状态"); !strings.Contains(row, "迁出") {
		t.Errorf("the comparison with the registry shows %q", row)
	}
	mustDo(t, b,
		chromedp.SendKeys(sel("return-reason-input"), "请补充迁往何处"),
		chromedp.Click(sel("review-return")),
		chromedp.WaitVisible(sel("queue")),
	)
	browserLogout(t, b, base)

	// The clerk sees why and resubmits.
	browserLogin(t, b, base, "clerk")
	mustDo(t, b,
		chromedp.Navigate(fmt.Sprintf("%s/survey/entry/households/%d", base, household)),
		chromedp.WaitVisible(sel("return-"+mid)),
		chromedp.Click(sel("enter-"+mid)),
		chromedp.WaitVisible(sel("return-reason")),
		chromedp.SendKeys(sel("f-note"), "迁往广州市天河区"),
		chromedp.Click(sel("form-submit")),
		chromedp.WaitVisible(sel("household-facts")),
	)
	browserLogout(t, b, base)

	// The reviewer approves both.
	browserLogin(t, b, base, "staff")
	for _, f := range []int64{targetForm, foundForm} {
		mustDo(t, b,
			chromedp.Navigate(fmt.Sprintf("%s/survey/forms/%d", base, f)),
			chromedp.WaitVisible(sel("review-approve")),
			chromedp.Click(sel("review-approve")),
			chromedp.WaitVisible(sel("queue")),
		)
	}
	// The person page: moved away, the approved form linked.
	mustDo(t, b,
		chromedp.Navigate(base+e.srv.PersonURL(targetID)),
		chromedp.WaitVisible(sel("person-survey-forms")),
	)
	if id := text(t, b, "identity"); !strings.Contains(id, "迁出") {
		t.Errorf("the person page shows %q", id)
	}
	if l := text(t, b, "person-survey-forms"); !strings.Contains(l, "已入库") {
		t.Errorf("the person's forms: %q", l)
	}
	// The village's progress: two persons confirmed, their household visited.
	mustDo(t, b,
		chromedp.Navigate(fmt.Sprintf("%s/survey/progress?round=%d&region=%s", base, round, village)),
		chromedp.WaitVisible(sel("progress-total")),
	)
	pfx := "p-region-" + village + "-"
	if got := text(t, b, pfx+"confirmed"); got != "2" {
		t.Errorf("village confirmed %s, want 2", got)
	}
	if got := text(t, b, pfx+"hh_visited"); got != "1" {
		t.Errorf("village households visited %s, want 1", got)
	}
	mustDo(t, b, chromedp.Click(sel(pfx+"confirmed")), chromedp.WaitVisible(sel("progress-list")))
	if pager := text(t, b, "pager"); !strings.Contains(pager, "共 2 条") {
		t.Errorf("the list behind the number: %q", pager)
	}

	// The next comparison no longer surveys the person.
	next, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: demoAsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var still bool
	var now int
	if err := e.db.QueryRow(ctx, `SELECT (SELECT survey FROM run_persons($1) WHERE id_number = $2),
		(SELECT count(*) FROM run_persons($1) WHERE survey AND region_code = $3)`, next.RunID, targetID, village).Scan(&still, &now); err != nil {
		t.Fatal(err)
	}
	if still || now != villageTargets-1 {
		t.Errorf("next run: person still a target %v; village targets %d, were %d", still, now, villageTargets)
	}
}
