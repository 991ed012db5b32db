package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/source"
)

// TestRederiveButton: a newer hukou extract whose events were never
// derived offers 重新生成变动事件 on its batch page; the job derives them
// and the button goes; asking again is refused.
func TestRederiveButton(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("gz", actor.County, "440981")
	c := e.client()
	c.mustLogin("gz")
	ctx := context.Background()
	var rows []string
	for i := range 3 {
		first := fmt.Sprintf("440981%s%03d", "19700101", i+1)
		rows = append(rows, first+string(idcard.CheckChar(first))+fmt.Sprintf(",居民%d,男,1970-01-01,H%d,户主,440981107204,", i, i))
	}
	var batch int64
	for n, file := range []string{strings.Join(rows, "正常\n") + "正常\n", rows[0] + "死亡\n" + rows[1] + "正常\n"} {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("hukou%d.csv", n))
		if err := os.WriteFile(path, []byte("公民身份号码,姓名,性别,出生日期,户号,与户主关系,户籍地区划代码,人口状态\n"+file), 0o644); err != nil {
			t.Fatal(err)
		}
		// Imported without the follow-up: as if the derivation had failed.
		res, err := imports.New(e.db).Import(ctx, fixture.Actor, imports.Request{Kind: source.Hukou, Region: "440981", Path: path,
			TempDir: t.TempDir(), Force: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		batch = res.BatchID
	}
	page := fmt.Sprintf("/imports/%d", batch)
	if _, body := c.get(page); !strings.Contains(body, `data-testid="rederive"`) {
		t.Fatal("the batch page offers no 重新生成变动事件")
	}
	resp, body := c.post(page+"/derive", url.Values{"csrf": {c.csrf(page)}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/jobs/") {
		t.Fatalf("rederive: %d %s", resp.StatusCode, body)
	}
	if got := c.waitJob(resp.Header.Get("Location")); got != page {
		t.Errorf("the job led to %s, want %s", got, page)
	}
	var events int
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM extract_event WHERE batch_id = $1`, batch).Scan(&events); err != nil || events != 2 {
		t.Errorf("%d events (%v), want 2 (a death, a move out)", events, err)
	}
	if _, body := c.get(page); strings.Contains(body, `data-testid="rederive"`) {
		t.Error("the button stays after the events were derived")
	}
	if resp, _ := c.post(page+"/derive", url.Values{"csrf": {c.csrf(page)}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("a second rederivation: %d, want 409", resp.StatusCode)
	}
}
