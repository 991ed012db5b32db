package server_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/idcard"
)

// residentCSV writes a 居住人口 file of n persons (IDs from first on).
func residentCSV(t *testing.T, dir, name string, first, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("公民身份号码,姓名,居住地区划代码\n")
	for i := 0; i < n; i++ {
		body := fmt.Sprintf("44098119800101%03d", first+i)
		fmt.Fprintf(&b, "%s%c,居民%d,440981107204\n", body, idcard.CheckChar(body), first+i)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitJobEnd follows an import job until it ends; it returns the batch
// page it led to, or "" and the job page when the job stopped with an error.
func (c *client) waitJobEnd(job string) (string, string) {
	c.t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, body := c.get(job)
		if resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/imports/") {
			return resp.Header.Get("Location"), ""
		}
		if !strings.Contains(body, `data-testid="job-error" hidden`) {
			return "", body
		}
	}
	c.t.Fatal("import did not finish")
	return "", ""
}

// confirmForm finds the confirmation form of a stopped import's job page.
var confirmForm = regexp.MustCompile(`<form method="post" action="([^"]+)" data-testid="import-confirm-form">`)

// TestImportAsksBeforeReplacingLargerExtract: a new extract with a fifth
// or less of the rows of the one it replaces stops and asks; the old one
// stays current until the user confirms, then the new one replaces it.
func TestImportAsksBeforeReplacingLargerExtract(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("replacer", actor.County, "440981")
	c := e.client()
	c.mustLogin("replacer")
	dir := t.TempDir()
	resp, _ := c.upload("居住人口", "440981", residentCSV(t, dir, "big.csv", 0, 60))
	first := c.waitJob(c.confirm(resp.Header.Get("Location")).Header.Get("Location"))

	resp, _ = c.upload("居住人口", "440981", residentCSV(t, dir, "small.csv", 100, 5))
	job := c.confirm(resp.Header.Get("Location")).Header.Get("Location")
	batch, page := c.waitJobEnd(job)
	if batch != "" || !strings.Contains(page, "相差") || !strings.Contains(page, `data-testid="import-confirm"`) {
		t.Fatalf("the small extract was not stopped for confirmation (batch %q)", batch)
	}
	if _, p := c.get(first); strings.Contains(p, "已被替代") {
		t.Fatal("the larger extract was replaced before confirmation")
	}
	action := confirmForm.FindStringSubmatch(page)
	if action == nil {
		t.Fatal("the stopped import offers no confirmation form")
	}
	token := c.csrf(job)
	resp, _ = c.post(html.UnescapeString(action[1]), url.Values{"csrf": {token}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: status %d", resp.StatusCode)
	}
	second := c.waitJob(resp.Header.Get("Location"))
	if _, p := c.get(first); !strings.Contains(p, "已被替代") {
		t.Error("after confirmation the larger extract is still current")
	}
	if _, p := c.get(second); !strings.Contains(p, "有效") {
		t.Error("the confirmed extract is not current")
	}
}

// TestHeaderOnlyFileRefused: a file with a header and no data row is
// refused with a clear message and replaces nothing.
func TestHeaderOnlyFileRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("headeronly", actor.County, "440981")
	c := e.client()
	c.mustLogin("headeronly")
	dir := t.TempDir()
	resp, _ := c.upload("居住人口", "440981", residentCSV(t, dir, "real.csv", 0, 3))
	first := c.waitJob(c.confirm(resp.Header.Get("Location")).Header.Get("Location"))
	resp, body := c.upload("居住人口", "440981", residentCSV(t, dir, "empty.csv", 0, 0))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "没有数据行") {
		t.Errorf("header-only upload: status %d, want 400 saying it has no data row", resp.StatusCode)
	}
	if _, p := c.get(first); strings.Contains(p, "已被替代") {
		t.Error("a header-only file replaced the real extract")
	}
}

// TestDuplicateMessageKeepsOtherRegionsPrivate: uploading a file another
// county already imported is refused without naming that county's batch
// or file.
func TestDuplicateMessageKeepsOtherRegionsPrivate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("gaozhou", actor.County, "440981")
	e.mustCreateUser("maonan", actor.County, "440902")
	dir := t.TempDir()
	path := residentCSV(t, dir, "shared.csv", 0, 3)
	a := e.client()
	a.mustLogin("gaozhou")
	resp, _ := a.upload("居住人口", "440981", path)
	a.waitJob(a.confirm(resp.Header.Get("Location")).Header.Get("Location"))
	b := e.client()
	b.mustLogin("maonan")
	resp, body := b.upload("居住人口", "440902", path)
	if resp.StatusCode == http.StatusSeeOther {
		t.Fatal("a duplicate file was accepted")
	}
	if !strings.Contains(body, "不能重复导入") || strings.Contains(body, "批次 #") || strings.Contains(body, "上传文件") ||
		strings.Contains(body, "gaozhou") {
		t.Errorf("the duplicate message names the other county's batch:\n%s", body[strings.Index(body, "<main"):])
	}
	// Inside one's own region the earlier batch is named.
	resp, body = a.upload("居住人口", "440981", path)
	if resp.StatusCode == http.StatusSeeOther || !strings.Contains(body, "批次 #") {
		t.Errorf("own duplicate: status %d, the message does not name the batch", resp.StatusCode)
	}
}
