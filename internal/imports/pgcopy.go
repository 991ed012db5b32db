package imports

import (
	"encoding/binary"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// copyEncoder writes rows in PostgreSQL's binary COPY format. Encoding here
// instead of through pgx's generic []any path keeps the per-row work to a
// few appends, so the file reader, not the encoder, sets the pace.
type copyEncoder struct {
	w   io.Writer
	buf []byte
	err error
}

var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func newCopyEncoder(w io.Writer) *copyEncoder {
	e := &copyEncoder{w: w, buf: make([]byte, 0, 1<<16)}
	e.buf = append(e.buf, "PGCOPY\n\xff\r\n\x00"...)
	e.buf = binary.BigEndian.AppendUint32(e.buf, 0) // flags
	e.buf = binary.BigEndian.AppendUint32(e.buf, 0) // header extension length
	return e
}

// row starts a row of n fields.
func (e *copyEncoder) row(n int) { e.buf = binary.BigEndian.AppendUint16(e.buf, uint16(n)) }

func (e *copyEncoder) null() { e.buf = binary.BigEndian.AppendUint32(e.buf, 0xFFFFFFFF) }

func (e *copyEncoder) int64(v int64) {
	e.buf = binary.BigEndian.AppendUint32(e.buf, 8)
	e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(v))
}

func (e *copyEncoder) int32(v int32) {
	e.buf = binary.BigEndian.AppendUint32(e.buf, 4)
	e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(v))
}

// int16 writes v, or NULL for 0 (status codes start at 1).
func (e *copyEncoder) int16(v int) {
	if v == 0 {
		e.null()
		return
	}
	e.buf = binary.BigEndian.AppendUint32(e.buf, 2)
	e.buf = binary.BigEndian.AppendUint16(e.buf, uint16(v))
}

// text writes s; PostgreSQL refuses invalid UTF-8 and NUL in text, and a
// dirty file must not fail the import for that, so such bytes are replaced.
func (e *copyEncoder) text(s string) {
	if s == "" {
		e.null()
		return
	}
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	}
	e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(len(s)))
	e.buf = append(e.buf, s...)
}

// joined writes vals joined by sep as one text value without building the
// joined string first.
func (e *copyEncoder) joined(vals []string, sep string) {
	for _, v := range vals {
		if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			e.text(strings.Join(vals, sep)) // rare: let text clean it
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

func (e *copyEncoder) bool(v bool) {
	e.buf = binary.BigEndian.AppendUint32(e.buf, 1)
	if v {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// textNotNull writes s, as ” when empty, for NOT NULL columns.
func (e *copyEncoder) textNotNull(s string) {
	if s == "" {
		e.buf = binary.BigEndian.AppendUint32(e.buf, 0)
		return
	}
	e.text(s)
}

// date writes t as a date, or NULL for the zero time.
func (e *copyEncoder) date(t time.Time) {
	if t.IsZero() {
		e.null()
		return
	}
	// Dates are midnight UTC, so the division is exact.
	days := (t.Unix() - pgEpoch.Unix()) / 86400
	e.buf = binary.BigEndian.AppendUint32(e.buf, 4)
	e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(int32(days)))
}

// flushIfFull hands the buffer to the writer once it is large.
func (e *copyEncoder) flushIfFull() {
	if len(e.buf) >= 1<<16 {
		e.flush()
	}
}

func (e *copyEncoder) flush() {
	if e.err == nil && len(e.buf) > 0 {
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
}

// finish writes the trailer and flushes.
func (e *copyEncoder) finish() error {
	e.buf = binary.BigEndian.AppendUint16(e.buf, 0xFFFF)
	e.flush()
	return e.err
}
