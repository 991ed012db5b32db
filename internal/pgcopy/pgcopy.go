// Package pgcopy writes rows in PostgreSQL's binary COPY format and streams
// them into a table. Encoding here instead of through pgx's generic []any
// path keeps the per-row work to a few appends, so the producer (a file
// reader, a comparison's results), not the encoder, sets the pace.
package pgcopy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
)

// Encoder appends binary COPY rows to a buffer it hands to its writer in
// 64 KiB pieces.
type Encoder struct {
	w   io.Writer
	buf []byte
	err error
}

var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// NewEncoder starts a COPY stream (its header) for w.
func NewEncoder(w io.Writer) *Encoder {
	e := &Encoder{w: w, buf: make([]byte, 0, 1<<16)}
	e.buf = append(e.buf, "PGCOPY\n\xff\r\n\x00"...)
	e.buf = binary.BigEndian.AppendUint32(e.buf, 0) // flags
	e.buf = binary.BigEndian.AppendUint32(e.buf, 0) // header extension length
	return e
}

// Err is the first error of the writer.
func (e *Encoder) Err() error { return e.err }

// Row starts a row of n fields.
func (e *Encoder) Row(n int) { e.buf = binary.BigEndian.AppendUint16(e.buf, uint16(n)) }

// Null writes NULL.
func (e *Encoder) Null() { e.buf = binary.BigEndian.AppendUint32(e.buf, 0xFFFFFFFF) }

// Int64 writes a bigint.
func (e *Encoder) Int64(v int64) {
	e.buf = binary.BigEndian.AppendUint32(e.buf, 8)
	e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(v))
}

// Int32 writes an integer.
func (e *Encoder) Int32(v int32) {
	e.buf = binary.BigEndian.AppendUint32(e.buf, 4)
	e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(v))
}

// Int16 writes v as a smallint, or NULL for 0 (status codes start at 1).
func (e *Encoder) Int16(v int) {
	if v == 0 {
		e.Null()
		return
	}
	e.buf = binary.BigEndian.AppendUint32(e.buf, 2)
	e.buf = binary.BigEndian.AppendUint16(e.buf, uint16(v))
}

// Text writes s, or NULL when empty. PostgreSQL refuses invalid UTF-8 and
// NUL in text, and a dirty file must not fail an import for that, so such
// bytes are replaced.
func (e *Encoder) Text(s string) {
	if s == "" {
		e.Null()
		return
	}
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	}
	e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(len(s)))
	e.buf = append(e.buf, s...)
}

// TextBytes is Text for a byte slice, without converting it to a string.
func (e *Encoder) TextBytes(b []byte) {
	if len(b) == 0 || !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		e.Text(string(b))
		return
	}
	e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(len(b)))
	e.buf = append(e.buf, b...)
}

// TextNotNull writes s, as ” when empty, for NOT NULL columns.
func (e *Encoder) TextNotNull(s string) {
	if s == "" {
		e.buf = binary.BigEndian.AppendUint32(e.buf, 0)
		return
	}
	e.Text(s)
}

// Joined writes vals joined by sep as one text value without building the
// joined string first.
func (e *Encoder) Joined(vals []string, sep string) {
	for _, v := range vals {
		if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			e.Text(strings.Join(vals, sep)) // rare: let Text clean it
			return
		}
	}
	at := len(e.buf)
	e.buf = binary.BigEndian.AppendUint32(e.buf, 0)
	for i, v := range vals {
		if i > 0 {
			e.buf = append(e.buf, sep...)
		}
		e.buf = append(e.buf, v...)
	}
	binary.BigEndian.PutUint32(e.buf[at:], uint32(len(e.buf)-at-4))
}

// Bool writes a boolean.
func (e *Encoder) Bool(v bool) {
	e.buf = binary.BigEndian.AppendUint32(e.buf, 1)
	if v {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// Date writes t as a date, or NULL for the zero time.
func (e *Encoder) Date(t time.Time) {
	if t.IsZero() {
		e.Null()
		return
	}
	// Dates are midnight UTC, so the division is exact.
	e.Days(int32((t.Unix() - pgEpoch.Unix()) / 86400))
}

// Days writes a date given as days since 2000-01-01, PostgreSQL's own form.
func (e *Encoder) Days(d int32) {
	e.buf = binary.BigEndian.AppendUint32(e.buf, 4)
	e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(d))
}

// Element type OIDs of the arrays written below.
const (
	oidInt4 = 23
	oidInt8 = 20
)

// Int64Array writes a one-dimensional bigint[].
func (e *Encoder) Int64Array(vs []int64) {
	e.arrayHeader(len(vs), oidInt8, 8)
	for _, v := range vs {
		e.Int64(v)
	}
}

// Int32Array writes a one-dimensional integer[].
func (e *Encoder) Int32Array(vs []int32) {
	e.arrayHeader(len(vs), oidInt4, 4)
	for _, v := range vs {
		e.Int32(v)
	}
}

// arrayHeader writes the value length and array header for n elements of
// a fixed size: dimensions, no NULLs, element type, then the one
// dimension's length and lower bound (an empty array has no dimension).
func (e *Encoder) arrayHeader(n int, oid uint32, size int) {
	dims := 1
	if n == 0 {
		dims = 0
	}
	e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(12+8*dims+n*(4+size)))
	e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(dims))
	e.buf = binary.BigEndian.AppendUint32(e.buf, 0)
	e.buf = binary.BigEndian.AppendUint32(e.buf, oid)
	if dims == 1 {
		e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(n))
		e.buf = binary.BigEndian.AppendUint32(e.buf, 1)
	}
}

// FlushIfFull hands the buffer to the writer once it is large.
func (e *Encoder) FlushIfFull() {
	if len(e.buf) >= 1<<16 {
		e.Flush()
	}
}

// Flush hands the buffer to the writer.
func (e *Encoder) Flush() {
	if e.err == nil && len(e.buf) > 0 {
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
}

// Finish writes the trailer and flushes.
func (e *Encoder) Finish() error {
	e.buf = binary.BigEndian.AppendUint16(e.buf, 0xFFFF)
	e.Flush()
	return e.err
}

var errCopyEnded = errors.New("copy ended")

// From streams the rows fill encodes into target ("table (columns)") with
// one COPY: fill runs in a goroutine writing into a pipe while the
// connection sends, so the rows are never all in memory and producing them
// overlaps the server's work. fill must call FlushIfFull between rows.
func From(ctx context.Context, conn *pgconn.PgConn, target string, fill func(*Encoder) error) (int64, error) {
	return from(ctx, conn, target, "FORMAT binary", fill)
}

// FromFrozen is From into a table created in the current transaction
// (PostgreSQL refuses FREEZE for any other): the rows are written frozen
// and their pages marked all-visible, so index-only scans need not visit
// the table and vacuum has nothing left to do to it.
func FromFrozen(ctx context.Context, conn *pgconn.PgConn, target string, fill func(*Encoder) error) (int64, error) {
	return from(ctx, conn, target, "FORMAT binary, FREEZE", fill)
}

func from(ctx context.Context, conn *pgconn.PgConn, target, options string, fill func(*Encoder) error) (int64, error) {
	pr, pw := io.Pipe()
	produced := make(chan error, 1)
	go func() {
		e := NewEncoder(pw)
		err := fill(e)
		if err == nil {
			err = e.Finish()
		}
		pw.CloseWithError(err)
		produced <- err
	}()
	tag, err := conn.CopyFrom(ctx, pr, `COPY `+target+` FROM STDIN (`+options+`)`)
	pr.CloseWithError(errCopyEnded) // unblocks the producer if the server stopped early
	if perr := <-produced; perr != nil && !errors.Is(perr, errCopyEnded) {
		return 0, perr
	}
	if err != nil {
		return 0, fmt.Errorf("copy into %s: %w", target, err)
	}
	return tag.RowsAffected(), nil
}

// Spool collects rows in a temporary file for one COPY later: rows made
// while the connection is still busy with the query producing them, or too
// many (a file where every row is bad) to hold in memory.
type Spool struct {
	*Encoder
	f  *os.File
	bw *bufio.Writer
	n  int
}

// NewSpool starts a spool in dir ("" for the system's temporary folder).
func NewSpool(dir string) (*Spool, error) {
	f, err := os.CreateTemp(dir, "canbao-copy-*")
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	return &Spool{Encoder: NewEncoder(bw), f: f, bw: bw}, nil
}

// Row starts a row of n fields.
func (s *Spool) Row(n int) {
	s.FlushIfFull()
	s.Encoder.Row(n)
	s.n++
}

// Len is the number of rows spooled.
func (s *Spool) Len() int { return s.n }

// CopyTo loads the spooled rows into target ("table (columns)").
func (s *Spool) CopyTo(ctx context.Context, conn *pgconn.PgConn, target string) error {
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
	if _, err := conn.CopyFrom(ctx, bufio.NewReaderSize(s.f, 1<<16), `COPY `+target+` FROM STDIN (FORMAT binary)`); err != nil {
		return fmt.Errorf("copy into %s: %w", target, err)
	}
	return nil
}

// Close removes the temporary file.
func (s *Spool) Close() {
	_ = s.f.Close() // a read spool: nothing left to lose
	_ = os.Remove(s.f.Name())
}
