package imports

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/jackc/pgx/v5"
)

// issueLog collects a batch's issues in a temporary file, already in COPY
// format: a file where every row is bad (a shifted column, a date format
// nobody expected) has as many issues as rows, and they must neither be
// dropped nor fill the memory.
type issueLog struct {
	batchID int64
	f       *os.File
	bw      *bufio.Writer
	enc     *copyEncoder
	n       int
}

func newIssueLog(batchID int64, dir string) (*issueLog, error) {
	f, err := os.CreateTemp(dir, "canbao-issues-*")
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	return &issueLog{batchID: batchID, f: f, bw: bw, enc: newCopyEncoder(bw)}, nil
}

func (l *issueLog) add(is Issue) {
	e := l.enc
	e.row(6)
	e.int64(l.batchID)
	e.int32(int32(is.Line))
	e.bool(is.Rejected)
	e.textNotNull(is.Column)
	e.textNotNull(is.Value)
	e.textNotNull(is.Reason)
	e.flushIfFull()
	l.n++
}

// copyTo writes the collected issues into import_issue.
func (l *issueLog) copyTo(ctx context.Context, tx pgx.Tx) error {
	if l.n == 0 {
		return nil
	}
	if err := l.enc.finish(); err != nil {
		return err
	}
	if err := l.bw.Flush(); err != nil {
		return err
	}
	if _, err := l.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	const sql = `COPY import_issue (batch_id, line, rejected, col, value, reason) FROM STDIN (FORMAT binary)`
	if _, err := tx.Conn().PgConn().CopyFrom(ctx, bufio.NewReaderSize(l.f, 1<<16), sql); err != nil {
		return fmt.Errorf("copy issues: %w", err)
	}
	return nil
}

// close removes the temporary file.
func (l *issueLog) close() {
	l.f.Close()
	os.Remove(l.f.Name())
}
