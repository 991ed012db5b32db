package server_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/canbao/canbao/internal/actor"
)

// newBrowser starts headless Chromium with a fresh profile. Without a
// browser the test is skipped locally and fails under CI=true.
func newBrowser(t *testing.T) context.Context { return newBrowserFor(t, 90*time.Second) }

// newBrowserFor is newBrowser for a walk that may take up to d.
func newBrowserFor(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	path := ""
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not found; .ci/run installs it")
		}
		t.Skip("chromium not found")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, d)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// sel selects an element by its data-testid.
func sel(id string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + id + `"]`) }

// text returns the visible text of an element, failing the test on error.
func text(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel(id)))
	if err != nil {
		t.Fatalf("text of %s: %v", id, err)
	}
	return s
}

func mustDo(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func TestBrowserLoginRegionTreeLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("citystaff", actor.City, "4409")
	ctx := newBrowser(t)
	mustDo(t, ctx,
		chromedp.Navigate(e.http.URL+"/"),
		chromedp.WaitVisible(sel("login-form")),
		chromedp.SendKeys(sel("username"), "citystaff"),
		chromedp.SendKeys(sel("password"), testPassword),
		chromedp.Click(sel("login-submit")),
		chromedp.WaitVisible(sel("region-children")),
	)
	if who := text(t, ctx, "who"); !strings.Contains(who, "市级经办") || !strings.Contains(who, "茂名市") {
		t.Errorf("top bar shows %q", who)
	}
	if tree := text(t, ctx, "region-children"); !strings.Contains(tree, "高州市") || !strings.Contains(tree, "茂南区") {
		t.Errorf("region tree shows %q", tree)
	}
	mustDo(t, ctx,
		chromedp.Click(sel("region-440981")),
		chromedp.WaitVisible(sel("region-440981107")),
		chromedp.Click(sel("region-440981107")),
		chromedp.WaitVisible(sel("region-440981107204")),
	)
	crumbs := text(t, ctx, "crumbs")
	title, _ := chromedp.Run(ctx, chromedp.Title())
	if !strings.Contains(crumbs, "茂名市") || !strings.Contains(crumbs, "高州市") || !strings.Contains(title, "镇江镇") {
		t.Errorf("drill-down ended at %q / %q", crumbs, title)
	}
	mustDo(t, ctx,
		chromedp.Click(sel("logout")),
		chromedp.WaitVisible(sel("login-form")),
		chromedp.Navigate(e.http.URL+"/regions/440981"),
		chromedp.WaitVisible(sel("login-form")),
	)
	if url, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(url, "/login") {
		t.Errorf("after logout a protected page showed %s", url)
	}
}

func TestBrowserImportProgressAndReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("importer", actor.County, "440981")
	ctx := newBrowser(t)
	file, err := filepath.Abs("../../testdata/imports/hukou_title_gb18030.csv")
	if err != nil {
		t.Fatal(err)
	}
	mustDo(t, ctx,
		chromedp.Navigate(e.http.URL+"/login"),
		chromedp.WaitVisible(sel("login-form")),
		chromedp.SendKeys(sel("username"), "importer"),
		chromedp.SendKeys(sel("password"), testPassword),
		chromedp.Click(sel("login-submit")),
		chromedp.WaitVisible(sel("nav-imports")),
		chromedp.Click(sel("nav-imports")),
		chromedp.WaitVisible(sel("import-new")),
		chromedp.Click(sel("import-new")),
		chromedp.WaitVisible(sel("upload-form")),
		chromedp.SetValue(sel("upload-kind"), "户籍人口"),
		// An extract dated in the future is refused, the form kept.
		chromedp.SetValue(sel("upload-extract-date"), time.Now().AddDate(0, 0, 3).Format("2006-01-02")),
		chromedp.SetUploadFiles(sel("upload-file"), []string{file}),
		chromedp.Click(sel("upload-submit")),
		chromedp.WaitVisible(sel("upload-error")),
	)
	if got := text(t, ctx, "upload-error"); !strings.Contains(got, "晚于今天") {
		t.Errorf("a future extract date: %q", got)
	}
	mustDo(t, ctx,
		chromedp.SetValue(sel("upload-extract-date"), "2026-06-30"),
		chromedp.SetUploadFiles(sel("upload-file"), []string{file}),
		chromedp.Click(sel("upload-submit")),
		chromedp.WaitVisible(sel("mapping-form")),
	)
	if preview := text(t, ctx, "preview"); !strings.Contains(preview, "高州市公安局户籍人口信息") {
		t.Errorf("preview shows %q", preview)
	}
	if got := text(t, ctx, "preview-extract-date"); got != "2026-06-30" {
		t.Errorf("preview: extract date %q", got)
	}
	// The progress page polls the job and moves on to the batch by itself.
	mustDo(t, ctx,
		chromedp.Click(sel("import-start")),
		chromedp.WaitVisible(sel("batch-counts")),
	)
	if got := text(t, ctx, "count-accepted"); got != "7" {
		t.Errorf("accepted = %q, want 7", got)
	}
	if got := text(t, ctx, "count-rejected"); got != "3" {
		t.Errorf("rejected = %q, want 3", got)
	}
	if got := text(t, ctx, "batch-extract-date"); got != "2026-06-30" {
		t.Errorf("batch: extract date %q", got)
	}
	// Download the error report the way the link does, in the page's session.
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`
		fetch(document.querySelector('[data-testid="download-report"]').href)
			.then(r => r.blob().then(b => r.status + " " + r.headers.get("content-type") + " " + b.size))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	var status, size int
	var ctype string
	if _, err := fmt.Sscanf(got, "%d %s %d", &status, &ctype, &size); err != nil {
		t.Fatal(err)
	}
	if status != 200 || !strings.Contains(ctype, "spreadsheetml") || size < 1000 {
		t.Errorf("error report download: %q", got)
	}
}

func TestBrowserCompareSummaryListPerson(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.importDemoCounty(300)
	e.mustCreateUser("countystaff", actor.County, "440981")
	ctx := newBrowser(t)
	// Start a comparison from the page while another holds the county's
	// lock, so the progress page is seen running; once the lock goes, the
	// page polls the job and opens the summary by itself.
	release := e.holdCompareLock("440981")
	mustDo(t, ctx,
		chromedp.Navigate(e.http.URL+"/login"),
		chromedp.WaitVisible(sel("login-form")),
		chromedp.SendKeys(sel("username"), "countystaff"),
		chromedp.SendKeys(sel("password"), testPassword),
		chromedp.Click(sel("login-submit")),
		chromedp.WaitVisible(sel("nav-compare")),
		chromedp.Click(sel("nav-compare")),
		chromedp.WaitVisible(sel("compare-form")),
		chromedp.SetValue(sel("compare-asof"), demoAsOf.Format("2006-01-02")),
		chromedp.Click(sel("compare-start")),
		chromedp.WaitVisible(sel("job")),
	)
	if state := text(t, ctx, "job-state"); state != "运行中" && state != "排队中" {
		t.Errorf("progress page shows %q", state)
	}
	release()
	mustDo(t, ctx, chromedp.WaitVisible(sel("summary")))
	want := text(t, ctx, "n-440981-survey")
	if n, err := strconv.Atoi(want); err != nil || n == 0 {
		t.Fatalf("survey number on the summary: %q", want)
	}
	mustDo(t, ctx,
		chromedp.Click(sel("n-440981-survey")),
		chromedp.WaitVisible(sel("list")),
	)
	if pager := text(t, ctx, "pager"); !strings.Contains(pager, "共 "+want+" 条") {
		t.Errorf("list shows %q, summary said %s", pager, want)
	}
	masked := text(t, ctx, "person-link")
	mustDo(t, ctx,
		chromedp.Click(sel("person-link")),
		chromedp.WaitVisible(sel("person-id")),
	)
	id := text(t, ctx, "person-id")
	if len(id) != 18 || strings.Contains(id, "*") || !strings.Contains(masked, "*") || id[:6] != masked[:6] || id[14:] != masked[14:] {
		t.Errorf("list showed %q, person page %q", masked, id)
	}
}
