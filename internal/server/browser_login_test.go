package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/chromedp/chromedp"
)

// TestBrowserLoginRedirect logs in from a login link carrying a crafted
// next= (a tab between the slashes, which Chromium drops): the browser
// must end on this site's home page, not on the foreign host.
func TestBrowserLoginRedirect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("browserredir", actor.County, "440981")
	ctx := newBrowser(t)
	evil := "/\t/127.0.0.2:9/pwn"
	mustDo(t, ctx,
		chromedp.Navigate(e.http.URL+"/login?next="+url.QueryEscape(evil)),
		chromedp.WaitVisible(sel("login-form")),
		chromedp.SendKeys(sel("username"), "browserredir"),
		chromedp.SendKeys(sel("password"), testPassword),
		chromedp.Click(sel("login-submit")),
	)
	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(wait, chromedp.WaitVisible(sel("who"))); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("after login the browser is at %q, not a page of the site: %v", loc, err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc, e.http.URL+"/") {
		t.Errorf("after login the browser is at %q, want %s/", loc, e.http.URL)
	}
}
