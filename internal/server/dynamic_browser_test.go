package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/registry"
)

// TestBrowserManualChangeApproval: a county clerk registers a change of
// address and phone with a scanned document; the change waits; the same
// clerk trying to approve it is refused in Chinese; another reviewer
// approves it, and the person's page shows the new values and the
// change in its timeline, linked to the change.
func TestBrowserManualChangeApproval(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("maker", actor.County, "440981")
	e.mustCreateUser("checker", actor.County, "440981")
	const id = "440981198001010018"
	ctx := context.Background()
	tx, err := e.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registry.Apply(ctx, tx, registry.ChangeSet{Source: registry.Source{Kind: registry.Comparison, ID: 1},
		Effective: demoAsOf, Persons: registry.NewEntries(registry.Entry{ID: id, Values: map[registry.Field]string{
			registry.Name: "陈大文", registry.IdentityKind: "户籍人口", registry.RegionCode: "440981107204", registry.PopStatus: "正常"}})}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(t.TempDir(), "证明.pdf")
	if err := os.WriteFile(doc, []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	login := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.Navigate(e.http.URL+"/login"),
			chromedp.WaitVisible(sel("login-form")),
			chromedp.SendKeys(sel("username"), name),
			chromedp.SendKeys(sel("password"), testPassword),
			chromedp.Click(sel("login-submit")),
			chromedp.WaitVisible(sel("nav-events")),
		)
	}
	mustDo(t, b,
		login("maker"),
		chromedp.Navigate(e.http.URL+e.srv.PersonURL(id)),
		chromedp.WaitVisible(sel("person-change")),
		chromedp.Click(sel("person-change")),
		chromedp.WaitVisible(sel("change-form")),
		chromedp.SendKeys(sel("change-address"), "镇江镇镇江村18号"),
		chromedp.SendKeys(sel("change-phone"), "13800138000"),
		chromedp.SetValue(sel("change-effective"), "2026-11-01"),
		chromedp.SendKeys(sel("change-reason"), "本人到窗口申请更正联系方式"),
		chromedp.SetUploadFiles(sel("change-document"), []string{doc}),
		chromedp.Click(sel("change-submit")),
		chromedp.WaitVisible(sel("change-state")),
	)
	if st := text(t, b, "change-state"); st != "待审核" {
		t.Errorf("new change is %q", st)
	}
	if own := text(t, b, "own-change"); !strings.Contains(own, "本人登记") {
		t.Errorf("own change note: %q", own)
	}
	changeURL, _ := chromedp.Run(b, chromedp.Location())
	changeURL, _, _ = strings.Cut(changeURL, "?") // without the maker's flash
	// The maker tries to approve their own change.
	mustDo(t, b,
		chromedp.Click(sel("change-approve")),
		chromedp.WaitVisible(sel("error-message")),
	)
	if msg := text(t, b, "error-message"); !strings.Contains(msg, "不能审核自己登记的变更") {
		t.Errorf("maker approving: %q", msg)
	}
	var phone string
	if err := e.db.QueryRow(ctx, `SELECT coalesce(phone, '') FROM person WHERE id_number = $1`, id).Scan(&phone); err != nil || phone != "" {
		t.Fatalf("phone before approval: %q (%v)", phone, err)
	}
	// Another reviewer approves it.
	mustDo(t, b,
		chromedp.Navigate(e.http.URL+"/"),
		chromedp.Click(sel("logout")),
		chromedp.WaitVisible(sel("login-form")),
		login("checker"),
		chromedp.Navigate(changeURL),
		chromedp.WaitVisible(sel("change-doc")),
		chromedp.SendKeys(sel("change-note"), "核对证明材料无误"),
		chromedp.Click(sel("change-approve")),
		chromedp.WaitVisible(sel("flash")),
	)
	if st := text(t, b, "change-state"); st != "已审核入库" {
		t.Errorf("approved change is %q", st)
	}
	mustDo(t, b,
		chromedp.Navigate(e.http.URL+e.srv.PersonURL(id)),
		chromedp.WaitVisible(sel("timeline")),
	)
	if facts := text(t, b, "identity"); !strings.Contains(facts, "13800138000") || !strings.Contains(facts, "镇江镇镇江村18号") {
		t.Errorf("person page after approval: %q", facts)
	}
	timeline := text(t, b, "timeline")
	if !strings.Contains(timeline, "联系电话") || !strings.Contains(timeline, "人工变更 #") || !strings.Contains(timeline, "2026-11-01") ||
		!strings.Contains(timeline, "checker姓名") {
		t.Errorf("timeline after approval: %q", timeline)
	}
	// The audit trail has the maker's change, the refusal and the approval.
	rows, err := e.db.Query(ctx, `SELECT username || ' ' || action || ' ' || result FROM audit_log
		WHERE action LIKE 'change.%' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	want := "maker change.create ok|maker change.approve rejected|checker change.approve ok"
	if strings.Join(lines, "|") != want {
		t.Errorf("audit: %q, want %q", strings.Join(lines, "|"), want)
	}
}
