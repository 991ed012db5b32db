package compare

import (
	"bufio"
	"context"
	"encoding/csv"
	"io"
	"os"

	"github.com/jackc/pgx/v5"
)

// spool collects rows in a temporary CSV file for one COPY, so that a
// million results never sit in memory while the query producing them is
// still open on the same connection.
type spool struct {
	f  *os.File
	bw *bufio.Writer
	w  *csv.Writer
	n  int
}

func newSpool() (*spool, error) {
	f, err := os.CreateTemp("", "canbao-compare-*.csv")
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	return &spool{f: f, bw: bw, w: csv.NewWriter(bw)}, nil
}

func (s *spool) write(fields ...string) {
	s.w.Write(fields)
	s.n++
}

// copyTo loads the spooled rows into target ("table (columns)").
func (s *spool) copyTo(ctx context.Context, tx pgx.Tx, target string) error {
	s.w.Flush()
	if err := s.w.Error(); err != nil {
		return err
	}
	if err := s.bw.Flush(); err != nil {
		return err
	}
	if s.n == 0 {
		return nil
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := tx.Conn().PgConn().CopyFrom(ctx, bufio.NewReaderSize(s.f, 1<<16), `COPY `+target+` FROM STDIN (FORMAT csv, NULL '\N')`)
	return err
}

func (s *spool) close() {
	s.f.Close()
	os.Remove(s.f.Name())
}

func pgBool(b bool) string {
	if b {
		return "t"
	}
	return "f"
}
