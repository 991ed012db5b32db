// Package migrations holds the SQL schema migrations, embedded so the binary
// carries its own schema.
package migrations

import "embed"

// FS holds the NNNNNN_name.up.sql / .down.sql files run by golang-migrate.
//
//go:embed *.sql
var FS embed.FS
