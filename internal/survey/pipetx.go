package survey

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pipeTx is a transaction that costs no round trip of its own: BEGIN goes
// with its first statement and COMMIT with its last batch. A form's save
// is a handful of short statements, and 200 clerks saving at once wait on
// round trips more than on work. The caller defers end, which rolls back
// a transaction that did not commit.
type pipeTx struct {
	conn *pgx.Conn
	open bool // BEGIN sent
	done bool // committed, or ended by the server
}

// QueryRow runs a query in the transaction, beginning it with the first.
// The row must be scanned.
func (t *pipeTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.open {
		return t.conn.QueryRow(ctx, sql, args...)
	}
	t.open = true
	b := &pgx.Batch{}
	b.Queue("begin")
	b.Queue(sql, args...)
	return beginRow{t.conn.SendBatch(ctx, b)}
}

// SendBatch sends b in the transaction, beginning it with the first.
func (t *pipeTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.open {
		return t.conn.SendBatch(ctx, b)
	}
	t.open = true
	withBegin := &pgx.Batch{}
	withBegin.Queue("begin")
	withBegin.QueuedQueries = append(withBegin.QueuedQueries, b.QueuedQueries...)
	results := t.conn.SendBatch(ctx, withBegin)
	// BEGIN's answer comes first; the caller reads b's after it. BEGIN
	// fails only on a connection already in a transaction, and then the
	// caller's reads fail too: the server skips the batch's rest.
	_, _ = results.Exec()
	return results
}

// Commit sends b's statements and COMMIT in one round trip; read reads
// the results of b's statements, in order.
func (t *pipeTx) Commit(ctx context.Context, b *pgx.Batch, read func(pgx.BatchResults) error) error {
	if !t.open {
		return fmt.Errorf("pipeTx: commit before the transaction's first query")
	}
	b.Queue("commit")
	results := t.conn.SendBatch(ctx, b)
	err := read(results)
	if err == nil {
		var tag pgconn.CommandTag
		if tag, err = results.Exec(); err == nil && tag.String() != "COMMIT" {
			err = pgx.ErrTxCommitRollback
		}
	}
	if cerr := results.Close(); err == nil {
		err = cerr
	}
	// After an error in the batch the server turned COMMIT into ROLLBACK;
	// end's rollback is then only a harmless warning.
	t.done = err == nil
	return err
}

// end rolls back a transaction begun and not committed.
func (t *pipeTx) end(ctx context.Context) {
	if t.open && !t.done {
		_, _ = t.conn.Exec(context.WithoutCancel(ctx), "rollback")
	}
}

// beginRow is the row of a transaction's first query, sent after BEGIN.
type beginRow struct{ results pgx.BatchResults }

func (r beginRow) Scan(dst ...any) error {
	_, err := r.results.Exec()
	if err == nil {
		err = r.results.QueryRow().Scan(dst...)
	}
	if cerr := r.results.Close(); err == nil {
		err = cerr
	}
	return err
}
