// Package secret keeps the server's own random keys in PostgreSQL, made
// once and kept across restarts (and shared by every server process on
// the database), so what is derived from them (opaque person keys in
// URLs, CSRF tokens) stays valid after a restart and cannot be forged.
package secret

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Size is the length of every secret, in bytes.
const Size = 64

// Get returns the secret called name, creating it on first use.
func Get(ctx context.Context, db *pgxpool.Pool, name string) ([]byte, error) {
	fresh := make([]byte, Size)
	rand.Read(fresh)
	// Two servers starting at once both insert; the first one's value wins.
	const q = `
		WITH ins AS (INSERT INTO server_secret (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING value)
		SELECT value FROM ins UNION ALL SELECT value FROM server_secret WHERE name = $1 LIMIT 1`
	var v []byte
	if err := db.QueryRow(ctx, q, name, fresh).Scan(&v); err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return v, nil
}
