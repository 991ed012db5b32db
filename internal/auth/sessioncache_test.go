package auth_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/auth"
)

// TestSessionCache: a session read once is answered from memory for
// SessionTTL (a session deleted behind the store's back still answers
// until then, and not after), and every way this store ends a session
// (logout, a disabled account, a new password, a login beyond
// MaxSessions) refuses it at once, cached or not.
func TestSessionCache(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	ctx := context.Background()
	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	users := auth.NewStore(db)
	auth.SetNow(users, now)
	admin := actor.CLI("ops")
	u, err := users.Create(ctx, admin, auth.NewUser{Username: "gz", DisplayName: "高州", Role: actor.County, RegionCode: "440981", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	login := func() string {
		t.Helper()
		advance(time.Second) // sessions of one instant have no newest
		_, token, err := users.Login(ctx, "gz", pw, "10.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := users.Session(ctx, token); err != nil || got.ID != u.ID {
			t.Fatalf("fresh session: %v, %v", got.Username, err)
		}
		return token
	}
	refused := func(what, token string) {
		t.Helper()
		if _, err := users.Session(ctx, token); !errors.Is(err, auth.ErrNoSession) {
			t.Errorf("%s: session answers (%v), want ErrNoSession", what, err)
		}
	}

	t.Run("TTL", func(t *testing.T) {
		token := login()
		if _, err := db.Exec(ctx, `DELETE FROM session`); err != nil {
			t.Fatal(err)
		}
		if _, err := users.Session(ctx, token); err != nil {
			t.Errorf("session deleted elsewhere, within the TTL: %v, want the cached user", err)
		}
		advance(auth.SessionTTL + time.Second)
		refused("deleted elsewhere, after the TTL", token)
	})
	t.Run("Logout", func(t *testing.T) {
		token := login()
		if err := users.Logout(ctx, u.Actor("10.0.0.1"), token, true); err != nil {
			t.Fatal(err)
		}
		refused("after logout", token)
	})
	t.Run("Disabled", func(t *testing.T) {
		token := login()
		if err := users.SetDisabled(ctx, admin, u.ID, true); err != nil {
			t.Fatal(err)
		}
		refused("account disabled", token)
		if err := users.SetDisabled(ctx, admin, u.ID, false); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Password", func(t *testing.T) {
		token := login()
		if err := users.SetPassword(ctx, admin, u.ID, pw); err != nil {
			t.Fatal(err)
		}
		refused("password reset", token)
	})
	t.Run("MaxSessions", func(t *testing.T) {
		users.MaxSessions = 1
		old := login()
		login()
		refused("beyond MaxSessions", old)
	})
}
