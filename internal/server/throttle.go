package server

import (
	"sync"
	"time"
)

// throttle is a token bucket per client address: each client may make
// burst attempts at once and one more every interval. It bounds how many
// password hashes one client can make the server compute, whatever user
// names it tries.
type throttle struct {
	mu       sync.Mutex
	burst    float64
	interval time.Duration
	clients  map[string]*bucket
	now      func() time.Time
}

type bucket struct {
	tokens  float64
	seen    time.Time
	refused bool // refused since its last allowed attempt
}

func newThrottle(burst int, interval time.Duration) *throttle {
	return &throttle{burst: float64(burst), interval: interval, clients: map[string]*bucket{}, now: time.Now}
}

// allow takes a token for client and reports whether there was one, and
// whether a refusal is the first since the client was last allowed (only
// that one is worth an audit line: a flood must not flood the trail).
func (t *throttle) allow(client string) (ok, first bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	b, ok := t.clients[client]
	if !ok {
		b = &bucket{tokens: t.burst}
		t.clients[client] = b
	} else if t.interval > 0 {
		b.tokens = min(t.burst, b.tokens+float64(now.Sub(b.seen))/float64(t.interval))
	}
	b.seen = now
	if b.tokens < 1 {
		first = !b.refused
		b.refused = true
		return false, first
	}
	b.tokens--
	b.refused = false
	return true, false
}

// expire forgets clients whose bucket has filled up again, so the map
// does not grow with every address ever seen.
func (t *throttle) expire() {
	t.mu.Lock()
	defer t.mu.Unlock()
	full := time.Duration(t.burst) * t.interval
	for k, b := range t.clients {
		if t.now().Sub(b.seen) > full {
			delete(t.clients, k)
		}
	}
}
