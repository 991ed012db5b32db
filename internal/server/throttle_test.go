package server

import (
	"testing"
	"time"
)

// TestThrottleAuditsFirstRefusal: a client gets its burst, then refusals;
// only the first refusal since it was last allowed is marked for the
// audit trail, and a refill starts the count afresh.
func TestThrottleAuditsFirstRefusal(t *testing.T) {
	clock := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	th := newThrottle(2, time.Minute)
	th.now = func() time.Time { return clock }
	want := []struct{ ok, first bool }{{true, false}, {true, false}, {false, true}, {false, false}, {false, false}}
	for i, w := range want {
		if ok, first := th.allow("10.0.0.9"); ok != w.ok || first != w.first {
			t.Fatalf("attempt %d: allowed %v, first refusal %v; want %v, %v", i+1, ok, first, w.ok, w.first)
		}
	}
	if ok, _ := th.allow("10.0.0.10"); !ok {
		t.Error("another client was refused")
	}
	clock = clock.Add(time.Minute)
	if ok, _ := th.allow("10.0.0.9"); !ok {
		t.Fatal("refused after a refill")
	}
	if ok, first := th.allow("10.0.0.9"); ok || !first {
		t.Errorf("after a refill and its use: allowed %v, first refusal %v; want a first refusal again", ok, first)
	}
}
