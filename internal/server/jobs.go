package server

import (
	"crypto/rand"
	"encoding/base64"
	"os"
	"sync"
	"time"

	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/source"
)

// upload is a file received and previewed but not yet imported, and then
// the import job running on it. It lives in memory: after a restart the
// user uploads again, and the temporary file is removed.
type upload struct {
	token    string
	userID   int64
	kind     source.Kind
	region   string
	source   string
	fileName string
	path     string
	size     int64
	sha256   string
	preview  imports.Preview
	created  time.Time

	// set once the import starts
	req      imports.Request
	started  time.Time
	progress imports.Progress
	done     chan struct{}
	result   imports.Result
	err      error
}

// uploads holds the staged files and running imports of this process.
type uploads struct {
	mu sync.Mutex
	m  map[string]*upload
}

func newUploads() *uploads { return &uploads{m: map[string]*upload{}} }

func (u *uploads) add(up *upload) {
	b := make([]byte, 18)
	rand.Read(b)
	up.token = base64.RawURLEncoding.EncodeToString(b)
	up.created = time.Now()
	u.mu.Lock()
	defer u.mu.Unlock()
	u.m[up.token] = up
}

// get returns the upload with token if it belongs to userID.
func (u *uploads) get(token string, userID int64) (*upload, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	up, ok := u.m[token]
	if !ok || up.userID != userID {
		return nil, false
	}
	return up, true
}

// expire removes staged uploads older than ttl that are not running, and
// finished jobs older than ttl, deleting their files.
func (u *uploads) expire(ttl time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, up := range u.m {
		running := up.done != nil && !isClosed(up.done)
		if !running && time.Since(up.created) > ttl {
			os.Remove(up.path)
			delete(u.m, k)
		}
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
