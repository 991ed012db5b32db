package server_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
)

// upload posts a file through the new-import form and returns the response.
func (c *client) upload(kind, region, path string) (*http.Response, string) {
	c.t.Helper()
	token := c.csrf("/imports/new")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.WriteField("csrf", token); err != nil { // first: the body is streamed
		c.t.Fatal(err)
	}
	if err := mw.WriteField("kind", kind); err != nil {
		c.t.Fatal(err)
	}
	if err := mw.WriteField("region", region); err != nil {
		c.t.Fatal(err)
	}
	fw, _ := mw.CreateFormFile("file", "上传文件"+path[strings.LastIndex(path, "."):])
	f, err := os.Open(path)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := io.Copy(fw, f); err != nil {
		c.t.Fatal(err)
	}
	_ = f.Close() // read only
	if err := mw.Close(); err != nil {
		c.t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", c.base+"/imports/upload", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, readBody(c.t, resp)
}

var hidden = regexp.MustCompile(`name="(header_line|csrf)" value="([^"]*)"`)
var (
	selectBlock = regexp.MustCompile(`(?s)<select name="(map_[a-z_]+)".*?</select>`)
	selectedOpt = regexp.MustCompile(`value="([0-9-]+)" selected`)
)

// confirm submits the preview page's mapping form as shown.
func (c *client) confirm(previewPath string) *http.Response {
	c.t.Helper()
	_, page := c.get(previewPath)
	form := url.Values{}
	for _, m := range hidden.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], m[2])
	}
	for _, m := range selectBlock.FindAllStringSubmatch(page, -1) {
		if o := selectedOpt.FindStringSubmatch(m[0]); o != nil {
			form.Set(m[1], o[1])
		}
	}
	if form.Get("header_line") == "" {
		c.t.Fatalf("preview has no mapping form:\n%s", page)
	}
	resp, _ := c.post(previewPath, form)
	return resp
}

// waitJob follows an import job until it redirects to its batch page, and
// fails the test as soon as the job reports an error.
func (c *client) waitJob(job string) string {
	c.t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, body := c.get(job)
		if resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/imports/") {
			return resp.Header.Get("Location")
		}
		if strings.Contains(body, "导入失败") && !strings.Contains(body, `data-testid="job-error" hidden`) {
			c.t.Fatalf("import failed: %s", body[strings.Index(body, "导入失败"):])
		}
	}
	c.t.Fatal("import did not finish")
	return ""
}

func TestImportThroughBrowserForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("gz", actor.County, "440981")
	c := e.client()
	c.mustLogin("gz")

	resp, body := c.upload("户籍人口", "440981", "../../testdata/imports/hukou_title_gb18030.csv")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", resp.StatusCode, body)
	}
	preview := resp.Header.Get("Location")
	_, page := c.get(preview)
	for _, want := range []string{"高州市公安局户籍人口信息", "GB18030", "header-row"} {
		if !strings.Contains(page, want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	resp = c.confirm(preview)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	job := resp.Header.Get("Location")
	batch := c.waitJob(job)
	_, page = c.get(batch)
	for _, want := range []string{`data-testid="count-read">10<`, `data-testid="count-accepted">7<`, `data-testid="count-rejected">3<`, "440981********1234"} {
		if !strings.Contains(page, want) {
			t.Errorf("batch page lacks %q", want)
		}
	}
	if strings.Contains(page, "440981198001011234") {
		t.Error("batch page shows a full ID number")
	}

	// The error report downloads as xlsx with the rejected rows.
	resp, _ = c.get(batch + "/errors.xlsx")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("report: %d %s", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}

	// The same file again is refused, naming the batch.
	resp, body = c.upload("户籍人口", "440981", "../../testdata/imports/hukou_title_gb18030.csv")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "不能重复导入") {
		t.Errorf("reimport: %d", resp.StatusCode)
	}
	// A file that is neither xlsx nor csv is refused by content.
	bin := t.TempDir() + "/x.csv"
	if err := os.WriteFile(bin, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0, 0, 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	resp, body = c.upload("户籍人口", "440981", bin)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "xlsx") {
		t.Errorf("legacy xls: %d", resp.StatusCode)
	}
	// Outside the user's region.
	resp, _ = c.upload("户籍人口", "440902", "../../testdata/import/enroll_utf8bom.csv")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("import into another county: %d", resp.StatusCode)
	}
	// A township clerk cannot import, and cannot see the county's batches.
	e.mustCreateUser("clerk", actor.Township, "440981107")
	clerk := e.client()
	clerk.mustLogin("clerk")
	if resp, _ := clerk.get("/imports/new"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("clerk reached the import form: %d", resp.StatusCode)
	}
	if resp, _ := clerk.get(batch); resp.StatusCode != http.StatusNotFound {
		t.Errorf("clerk saw the county's batch: %d", resp.StatusCode)
	}
}

func TestImportWithdrawByAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("root", actor.Admin, "4409")
	c := e.client()
	c.mustLogin("root")
	resp, body := c.upload("参保信息", "440981", "../../testdata/import/enroll_utf8bom.csv")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	path := c.waitJob(c.confirm(resp.Header.Get("Location")).Header.Get("Location"))
	id := strings.TrimPrefix(path, "/imports/")
	token := c.csrf(path)
	if resp, _ := c.post(path+"/withdraw", url.Values{"csrf": {token}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", resp.StatusCode)
	}
	_, page := c.get(path)
	if !strings.Contains(page, "已撤回") {
		t.Error("batch not shown as withdrawn")
	}
	_, page = c.get("/audit?action=import.withdraw")
	if !strings.Contains(page, "batch:"+id) {
		t.Error("withdrawal not audited")
	}
}
