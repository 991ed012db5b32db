package auth_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/auth"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/pgtest"
)

const pw = "Test@2026pw"

func newDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	db, _ := pgtest.New(t)
	fixture.Regions(t, db, "4409")
	return db
}

// auditLines returns the results of the audit lines of action on object, oldest first.
func auditLines(t *testing.T, db *pgxpool.Pool, action, object string) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT result || ' ' || username FROM audit_log WHERE action = $1 AND object = $2 ORDER BY id`, action, object)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func equal(a []string, b ...string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestUserAdministrationAuditedByTheStore: every account change, and every
// refusal, leaves exactly one audit line written by the store itself.
func TestUserAdministrationAuditedByTheStore(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	ctx := context.Background()
	users := auth.NewStore(db)
	cli := actor.CLI("ops")
	admin, err := users.Create(ctx, cli, auth.NewUser{Username: "gzadmin", DisplayName: "高州管理员", Role: actor.Admin, RegionCode: "440981", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	a := admin.Actor("10.1.1.1")

	t.Run("Create", func(t *testing.T) {
		if _, err := users.Create(ctx, a, auth.NewUser{Username: "clerk", DisplayName: "镇江经办", Role: actor.Township, RegionCode: "440981107", Password: pw}); err != nil {
			t.Fatal(err)
		}
		if got := auditLines(t, db, "user.create", "user:clerk"); !equal(got, "ok gzadmin") {
			t.Errorf("audit %v", got)
		}
	})
	t.Run("ErrOutsideRegion", func(t *testing.T) {
		_, err := users.Create(ctx, a, auth.NewUser{Username: "hz", DisplayName: "化州", Role: actor.County, RegionCode: "440982", Password: pw})
		if apperr.KindOf(err) != apperr.Invalid {
			t.Fatalf("create in a sibling county: %v", err)
		}
		if got := auditLines(t, db, "user.create", "user:hz"); !equal(got, "rejected gzadmin") {
			t.Errorf("audit %v", got)
		}
	})
	t.Run("ErrNotAdmin", func(t *testing.T) {
		county := actor.Actor{Username: "gzcounty", Role: actor.County, Region: "440981"}
		_, err := users.Create(ctx, county, auth.NewUser{Username: "x1", DisplayName: "x", Role: actor.Township, RegionCode: "440981107", Password: pw})
		if apperr.KindOf(err) != apperr.Forbidden {
			t.Fatalf("county clerk creates a user: %v", err)
		}
		if got := auditLines(t, db, "user.create", "user:x1"); !equal(got, "rejected gzcounty") {
			t.Errorf("audit %v", got)
		}
	})
	clerk, err := users.ByName(ctx, "clerk")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("DisableEnable", func(t *testing.T) {
		if err := users.SetDisabled(ctx, a, clerk.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := users.SetDisabled(ctx, a, clerk.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := users.SetDisabled(ctx, a, admin.ID, true); apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("disable oneself: %v", err)
		}
		if got := auditLines(t, db, "user.disable", "user:clerk"); !equal(got, "ok gzadmin") {
			t.Errorf("disable audit %v", got)
		}
		if got := auditLines(t, db, "user.enable", "user:clerk"); !equal(got, "ok gzadmin") {
			t.Errorf("enable audit %v", got)
		}
		if got := auditLines(t, db, "user.disable", "user:gzadmin"); !equal(got, "rejected gzadmin") {
			t.Errorf("self-disable audit %v", got)
		}
	})
	t.Run("Password", func(t *testing.T) {
		if err := users.SetPassword(ctx, a, clerk.ID, "weak"); apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("weak password: %v", err)
		}
		if err := users.SetPassword(ctx, a, clerk.ID, "New@2026pw"); err != nil {
			t.Fatal(err)
		}
		if got := auditLines(t, db, "user.password", "user:clerk"); !equal(got, "rejected gzadmin", "ok gzadmin") {
			t.Errorf("audit %v", got)
		}
	})
	t.Run("ErrTargetOutsideRegion", func(t *testing.T) {
		other, err := users.Create(ctx, cli, auth.NewUser{Username: "hzclerk", DisplayName: "化州", Role: actor.County, RegionCode: "440982", Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		if err := users.SetDisabled(ctx, a, other.ID, true); apperr.KindOf(err) != apperr.NotFound {
			t.Errorf("disable a user of a sibling county: %v", err)
		}
		if err := users.SetPassword(ctx, a, other.ID, "New@2026pw"); apperr.KindOf(err) != apperr.NotFound {
			t.Errorf("reset a password in a sibling county: %v", err)
		}
		if u, _ := users.ByID(ctx, other.ID); u.Disabled {
			t.Error("the foreign account was disabled")
		}
		if page, err := users.List(ctx, a, "", list.Query{Page: 1, Size: 50}); err != nil || page.Total != 2 {
			t.Errorf("admin of 440981 lists %d users (%v), want gzadmin and clerk", page.Total, err)
		}
	})
}

// TestLoginAuditedByTheStore: logins, failures and logouts are audited by
// the store with the session, and a login whose audit line cannot be
// written fails without a session.
func TestLoginAuditedByTheStore(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	ctx := context.Background()
	users := auth.NewStore(db)
	if _, err := users.Create(ctx, actor.CLI("ops"), auth.NewUser{Username: "gz", DisplayName: "高州", Role: actor.County, RegionCode: "440981", Password: pw}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := users.Login(ctx, "gz", "wrong-Password1", "10.0.0.1", "test"); apperr.KindOf(err) != apperr.Invalid {
		t.Fatalf("wrong password: %v", err)
	}
	u, token, err := users.Login(ctx, "gz", pw, "10.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if got := auditLines(t, db, "login.failed", "user:gz"); !equal(got, "bad password gz") {
		t.Errorf("failure audit %v", got)
	}
	if got := auditLines(t, db, "login", "user:gz"); !equal(got, "ok gz") {
		t.Errorf("login audit %v", got)
	}
	if err := users.Logout(ctx, u.Actor("10.0.0.1"), token, true); err != nil {
		t.Fatal(err)
	}
	if got := auditLines(t, db, "logout", ""); !equal(got, "ok gz") {
		t.Errorf("logout audit %v", got)
	}

	if _, err := db.Exec(ctx, `
		CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit unavailable'; END $$;
		CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit();`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := users.Login(ctx, "gz", pw, "10.0.0.1", "test"); apperr.KindOf(err) != apperr.Internal {
		t.Fatalf("login without audit: %v, want an internal error", err)
	}
	var sessions int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM session`), &sessions)
	if sessions != 0 {
		t.Errorf("%d sessions after a login that could not be audited", sessions)
	}
}

// TestPasswordChecksBounded: a burst of logins under many names (as from
// many addresses, past any per-client throttle) runs at most MaxHashing
// password checks at once; the rest wait their turn.
func TestPasswordChecksBounded(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	users := auth.NewStore(db)
	var now, peak, total atomic.Int32
	users.Verify = func(hash, pw string) bool {
		n := now.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		now.Add(-1)
		total.Add(1)
		return false
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _ = users.Login(context.Background(), fmt.Sprintf("guess%d", i), "Wrong#Pass1", "10.0.0.1", "test")
		}()
	}
	wg.Wait()
	if total.Load() != 20 || peak.Load() > int32(auth.MaxHashing) || peak.Load() < 1 {
		t.Errorf("%d checks, at most %d at once; want 20, at most %d", total.Load(), peak.Load(), auth.MaxHashing)
	}
}
