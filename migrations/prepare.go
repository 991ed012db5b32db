package migrations

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Prepare readies a database created from an early main for golang-migrate.
// Its 000003 (as landed in b50f414, f11a79c or 7bcf902) had no
// run_person_name index, and the current 000004 drops that index, so 000004
// would fail there and leave the version dirty. Prepare creates the index
// at version 3, and undoes the dirty mark of such a failed attempt (000004
// runs in one transaction, so nothing of it stayed); 000005 repairs the
// rest. On any other database it does nothing.
func Prepare(ctx context.Context, conn *pgx.Conn) error {
	const q = `
		SELECT m.version, m.dirty,
		       to_regclass('run_person') IS NOT NULL AND to_regclass('run_person_name') IS NULL,
		       EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('run_person')
		                  AND attname = 'record_batches' AND NOT attisdropped)
		FROM schema_migrations m`
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return fmt.Errorf("prepare migrations: %w", err)
	}
	if !exists { // a new database
		return nil
	}
	var (
		version            int64
		dirty, noIndex, v4 bool
	)
	err := conn.QueryRow(ctx, q).Scan(&version, &dirty, &noIndex, &v4)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("prepare migrations: %w", err)
	}
	if !noIndex {
		return nil
	}
	failed4 := version == 4 && dirty && !v4
	if !(version == 3 && !dirty) && !failed4 {
		return nil
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `CREATE INDEX run_person_name ON run_person (run_id, name)`); err != nil {
		return fmt.Errorf("prepare migrations: %w", err)
	}
	if failed4 {
		if _, err := tx.Exec(ctx, `UPDATE schema_migrations SET version = 3, dirty = false`); err != nil {
			return fmt.Errorf("prepare migrations: %w", err)
		}
	}
	return tx.Commit(ctx)
}
