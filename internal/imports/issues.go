package imports

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/pgcopy"
)

// issueLog collects a batch's issues in a temporary file, already in COPY
// format: a file where every row is bad (a shifted column, a date format
// nobody expected) has as many issues as rows, and they must neither be
// dropped nor fill the memory.
type issueLog struct {
	batchID int64
	f       *os.File
	bw      *bufio.Writer
	enc     *pgcopy.Encoder
	n       int
}

func newIssueLog(batchID int64, dir string) (*issueLog, error) {
	f, err := os.CreateTemp(dir, "canbao-issues-*")
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	return &issueLog{batchID: batchID, f: f, bw: bw, enc: pgcopy.NewEncoder(bw)}, nil
}

func (l *issueLog) add(is Issue) {
	e := l.enc
	e.Row(6)
	e.Int64(l.batchID)
	e.Int32(int32(is.Line))
	e.Bool(is.Rejected)
	e.TextNotNull(is.Column)
	e.TextNotNull(is.Value)
	e.TextNotNull(is.Reason)
	e.FlushIfFull()
	l.n++
}

// copyTo writes the collected issues into import_issue.
func (l *issueLog) copyTo(ctx context.Context, tx pgx.Tx) error {
	if l.n == 0 {
		return nil
	}
	if err := l.enc.Finish(); err != nil {
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
