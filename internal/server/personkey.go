package server

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/secret"
)

// personKeys turn an ID number into the opaque key that names a person in
// URLs, and back. A URL lands in logs, browser history and proxies, so it
// must not carry the ID; the key is the ID sealed with AES-GCM under a
// server secret, with a nonce derived from the ID itself (an HMAC), so the
// same person always has the same key (links stay stable, also across
// restarts) while nobody without the secret can read a key or make one
// for an ID they guess.
type personKeys struct {
	aead cipher.AEAD
	mac  []byte
}

const nonceSize = 12

func newPersonKeys(key []byte) *personKeys {
	block, err := aes.NewCipher(key[:32])
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &personKeys{aead: aead, mac: key[32:]}
}

// loadSecret reads one of the server's stored secrets. Should the database
// not answer, a secret for this process only keeps keys unforgeable (they
// then change at the next restart) and the failure is logged.
func loadSecret(db *pgxpool.Pool, log *slog.Logger, name string) []byte {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	key, err := secret.Get(ctx, db, name)
	if err != nil {
		log.Error("stored secret unavailable; keys derived from it will change at restart", "secret", name, "err", err)
		key = make([]byte, secret.Size)
		rand.Read(key)
	}
	return key
}

func (k *personKeys) nonce(id string) []byte {
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte(id))
	return m.Sum(nil)[:nonceSize]
}

// seal returns id's key.
func (k *personKeys) seal(id string) string {
	n := k.nonce(id)
	return base64.RawURLEncoding.EncodeToString(k.aead.Seal(n, n, []byte(id), nil))
}

// open returns the ID a key names; false for anything not made by seal.
func (k *personKeys) open(key string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil || len(b) < nonceSize+k.aead.Overhead() {
		return "", false
	}
	id, err := k.aead.Open(nil, b[:nonceSize], b[nonceSize:], nil)
	if err != nil || !bytes.Equal(k.nonce(string(id)), b[:nonceSize]) {
		return "", false
	}
	return string(id), true
}

// personURL is the link to a person's page, by opaque key.
func (s *Server) personURL(id string) string { return "/persons/" + url.PathEscape(s.keys.seal(id)) }

// PersonURL is the link to the page of the person with ID number id (for
// links made outside a request, and tests).
func (s *Server) PersonURL(id string) string { return s.personURL(id) }

// personID is the ID number a person page's key names; a key that does not
// open (a guessed one, or a bare ID number) is a page that does not exist.
func (s *Server) personID(key string) (string, error) {
	id, ok := s.keys.open(key)
	if !ok {
		return "", apperr.NotFoundf("人员不存在")
	}
	return id, nil
}
