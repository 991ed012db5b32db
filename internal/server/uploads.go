package server

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/source"
)

// upload is a file received and previewed but not yet imported. It lives
// in memory: after a restart the user uploads again. Once confirmed, its
// import is a job (jobID) that owns the file and removes it when it ends.
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
	// extractText is the 数据日期 as typed, extractDate as read (zero: the
	// import day).
	extractText string
	extractDate time.Time
	preview     imports.Preview
	created     time.Time
	jobID       int64 // the import's job once confirmed

	req     imports.Request // what the import was asked to do, for a confirmation
	waiting bool            // the import stopped to ask before replacing a larger extract; the file is kept
}

// uploads holds the staged files of this process.
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

// waitingFor returns the upload of userID whose import job jobID stopped
// to ask for confirmation.
func (u *uploads) waitingFor(jobID, userID int64) (*upload, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, up := range u.m {
		if up.jobID == jobID && up.userID == userID && up.waiting {
			return up, true
		}
	}
	return nil, false
}

// expire forgets uploads older than ttl, deleting the files of those never
// confirmed or left waiting for a confirmation (a confirmed one's job
// removes its file when it ends).
func (u *uploads) expire(ttl time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, up := range u.m {
		if time.Since(up.created) > ttl {
			if up.jobID == 0 || up.waiting {
				if err := os.Remove(up.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
					continue // kept, so the next round removes the file (it holds personal data)
				}
				up.waiting = false // a confirmation already holding it finds nothing to import
			}
			delete(u.m, k)
		}
	}
}

// removeUpload deletes an uploaded file. A failure is logged, not returned:
// the file holds personal data and nothing else will delete it.
func (s *Server) removeUpload(path string) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("remove uploaded file", "path", path, "err", err)
	}
}
