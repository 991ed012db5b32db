package compare

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/pgcopy"
)

// spool collects binary COPY rows in a temporary file, for rows produced
// while a query is still open on the run's connection (which cannot COPY
// until it is done) and too many, possibly, to hold in memory.
type spool struct {
	f  *os.File
	bw *bufio.Writer
	*pgcopy.Encoder
	n int
}

func newSpool() (*spool, error) {
	f, err := os.CreateTemp("", "canbao-compare-*")
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	return &spool{f: f, bw: bw, Encoder: pgcopy.NewEncoder(bw)}, nil
}

// row starts a row of n fields.
func (s *spool) row(n int) {
	s.FlushIfFull()
	s.Row(n)
	s.n++
}

// copyTo loads the spooled rows into target ("table (columns)").
func (s *spool) copyTo(ctx context.Context, tx pgx.Tx, target string) error {
	if s.n == 0 {
		return nil
	}
	if err := s.Finish(); err != nil {
		return err
	}
	if err := s.bw.Flush(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := tx.Conn().PgConn().CopyFrom(ctx, bufio.NewReaderSize(s.f, 1<<16), `COPY `+target+` FROM STDIN (FORMAT binary)`)
	if err != nil {
		return fmt.Errorf("copy into %s: %w", target, err)
	}
	return nil
}

func (s *spool) close() {
	s.f.Close()
	os.Remove(s.f.Name())
}
