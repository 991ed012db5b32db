package server_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"testing"

	"github.com/canbao/canbao/internal/actor"
)

// TestCSRFTokenBoundToSession: the token of the page before login, and
// another session's token, are refused once signed in.
func TestCSRFTokenBoundToSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("bound", actor.County, "440981")
	c := e.client()
	before := c.csrf("/login")
	c.mustLogin("bound")
	if resp, _ := c.post("/logout", url.Values{"csrf": {before}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the pre-login token was accepted after login: status %d", resp.StatusCode)
	}
	other := e.client()
	other.mustLogin("bound")
	if resp, _ := c.post("/logout", url.Values{"csrf": {other.csrf("/")}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another session's token was accepted: status %d", resp.StatusCode)
	}
	if resp, _ := c.post("/logout", url.Values{"csrf": {c.csrf("/")}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the session's own token was refused: status %d", resp.StatusCode)
	}
}

// TestUploadTokenNotInURL: an upload's token travels in its body; one in
// the URL (where logs and history keep it) is not accepted.
func TestUploadTokenNotInURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("uploader", actor.County, "440981")
	c := e.client()
	c.mustLogin("uploader")
	token := c.csrf("/imports/new")
	_, page := c.get("/imports/new")
	if bytes.Contains([]byte(page), []byte("csrf="+token)) || bytes.Contains([]byte(page), []byte("?csrf=")) {
		t.Error("the upload form puts the token in its URL")
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.WriteField("kind", "居住人口"); err != nil {
		t.Fatal(err)
	}
	fw, _ := mw.CreateFormFile("file", "a.csv")
	if _, err := fw.Write([]byte("公民身份号码,姓名\n440981198001011237,张三\n")); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, c.base+"/imports/upload?csrf="+url.QueryEscape(token), &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close() // only the status matters
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("an upload with the token only in its URL: status %d, want 403", resp.StatusCode)
	}
}
