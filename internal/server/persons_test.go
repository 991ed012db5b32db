package server_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/registry"
)

// TestPersonTimelinePaged: a person changed more often than a page holds
// shows the newest changes first with their source and actor, and pages
// through the rest; the page size is capped.
func TestPersonTimelinePaged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	clerk := e.mustCreateUser("gz", actor.County, "440981")
	ctx := context.Background()
	const id = "440981198001010018"
	apply := func(cs registry.ChangeSet) {
		t.Helper()
		tx, err := e.db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := registry.Apply(ctx, tx, cs); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	first := registry.Entry{ID: id, Values: map[registry.Field]string{registry.Name: "陈大文", registry.Household: "H0",
		registry.IdentityKind: "户籍人口", registry.RegionCode: "440981101001"}}
	apply(registry.ChangeSet{Source: registry.Source{Kind: registry.Comparison, ID: 1}, Effective: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC),
		Region: "440981", Persons: registry.NewEntries(first)})
	const n = 230
	for i := 1; i <= n; i++ {
		change := registry.Entry{ID: id, Values: map[registry.Field]string{registry.Household: "H" + strconv.Itoa(i)}}
		apply(registry.ChangeSet{Source: registry.Source{Kind: registry.Manual, ID: int64(i)}, Actor: clerk.ID,
			Effective: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), Persons: registry.NewEntries(change)})
	}
	c := e.client()
	c.mustLogin("gz")
	resp, body := c.get(e.srv.PersonURL(id))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("person page: %d", resp.StatusCode)
	}
	if got := strings.Count(body, `data-testid="event"`); got != 50 {
		t.Errorf("first page shows %d changes, want 50", got)
	}
	for _, want := range []string{"共 230 条", "人工变更 #230", "H229", "H230", "gz姓名", "户号", "比对批次 #1", `data-testid="next-page"`} {
		if !strings.Contains(body, want) {
			t.Errorf("first page lacks %q", want)
		}
	}
	if strings.Contains(body, "人工变更 #180<") {
		t.Error("first page shows the 51st newest change")
	}
	_, last := c.get(e.srv.PersonURL(id) + "?page=5")
	if got := strings.Count(last, `data-testid="event"`); got != n-200 || !strings.Contains(last, "人工变更 #1<") {
		t.Errorf("last page shows %d changes, want %d ending with the oldest", got, n-200)
	}
	_, big := c.get(e.srv.PersonURL(id) + "?size=100000")
	if got := strings.Count(big, `data-testid="event"`); got != registry.MaxPageSize || !strings.Contains(big, "size=200") {
		t.Errorf("a huge page shows %d changes, want the cap %d, and its links keep the size", got, registry.MaxPageSize)
	}
}
