package auth

import (
	"sync"
	"time"
)

// SessionTTL is how long a session's user, once read, answers requests
// from memory. Every request of a signed-in user reads its session, and
// a clerk's save is followed at once by the page it redirects to; 200
// clerks saving at once spent a database round trip per request on it.
// This Store forgets a session the moment it ends one (logout, a newer
// login beyond MaxSessions, a disabled account, a new password); a change
// made by another process (`canbao user disable`) or a session running
// out of its idle or absolute time is seen at most SessionTTL late.
const SessionTTL = 5 * time.Second

// maxCachedSessions bounds the cache; beyond it expired entries are
// swept, and if none had expired the cache starts afresh.
const maxCachedSessions = 10_000

// sessionCache keeps recently read sessions' users by token hash. Each
// forget moves gen on, and a read begun before it is not kept: it may
// have read a session the forgetting change has just ended.
type sessionCache struct {
	mu      sync.Mutex
	entries map[string]cachedSession
	gen     uint64
}

type cachedSession struct {
	user  User
	until time.Time
}

// get returns the user of a session read less than SessionTTL ago.
func (c *sessionCache) get(hash []byte, now time.Time) (User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[string(hash)]
	if !ok || !now.Before(e.until) {
		return User{}, false
	}
	return e.user, true
}

// generation is what a read passes to put: the count of forgets so far.
func (c *sessionCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put keeps a session's user, read from the database after generation
// returned gen, for SessionTTL from now; not if anything was forgotten
// since.
func (c *sessionCache) put(hash []byte, u User, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.entries == nil {
		c.entries = map[string]cachedSession{}
	}
	if len(c.entries) >= maxCachedSessions {
		for k, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCachedSessions {
			clear(c.entries)
		}
	}
	c.entries[string(hash)] = cachedSession{user: u, until: now.Add(SessionTTL)}
}

// forget drops one session.
func (c *sessionCache) forget(hash []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, string(hash))
}

// forgetUser drops every session of a user.
func (c *sessionCache) forgetUser(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, e := range c.entries {
		if e.user.ID == id {
			delete(c.entries, k)
		}
	}
}
