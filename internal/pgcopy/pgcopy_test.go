package pgcopy_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/pgcopy"
	"github.com/canbao/canbao/internal/pgtest"
)

// TestFromRoundTrip writes every kind of value the encoder knows through a
// real COPY and reads it back.
func TestFromRoundTrip(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	if _, err := db.Exec(ctx, `CREATE TABLE v (i8 bigint, i4 integer, i2 smallint, t text, tn text NOT NULL, tb text,
		j text, b boolean, d date, a8 bigint[], a4 integer[])`); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	day := time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)
	n, err := pgcopy.From(ctx, conn.Conn().PgConn(), "v", func(e *pgcopy.Encoder) error {
		e.Row(11)
		e.Int64(-5)
		e.Int32(7)
		e.Int16(3)
		e.Text("a\x00b\xff") // NUL dropped, invalid UTF-8 replaced
		e.TextNotNull("")
		e.TextBytes([]byte("字节"))
		e.Joined([]string{"x", "y", "z"}, "|")
		e.Bool(true)
		e.Date(day)
		e.Int64Array([]int64{1 << 40, -1})
		e.Int32Array([]int32{3, 2, 1})
		e.Row(11)
		e.Null()
		e.Null()
		e.Int16(0) // 0 is NULL
		e.Text("")
		e.TextNotNull("非空")
		e.TextBytes(nil)
		e.Joined(nil, "|")
		e.Bool(false)
		e.Date(time.Time{})
		e.Int64Array(nil)
		e.Int32Array([]int32{})
		return nil
	})
	if err != nil || n != 2 {
		t.Fatalf("From = %d, %v", n, err)
	}
	var (
		i8        *int64
		i4        *int32
		i2        *int16
		tx, tb, j *string
		tn        string
		b         bool
		d         *time.Time
		a8        []int64
		a4        []int32
	)
	rows, err := db.Query(ctx, `SELECT * FROM v ORDER BY b DESC`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	rows.Next()
	if err := rows.Scan(&i8, &i4, &i2, &tx, &tn, &tb, &j, &b, &d, &a8, &a4); err != nil {
		t.Fatal(err)
	}
	if *i8 != -5 || *i4 != 7 || *i2 != 3 || *tx != "ab\uFFFD" || tn != "" || *tb != "字节" || *j != "x|y|z" || !b ||
		!d.Equal(day) || !slices.Equal(a8, []int64{1 << 40, -1}) || !slices.Equal(a4, []int32{3, 2, 1}) {
		t.Errorf("first row read back wrong: %v %v %v %q %q %q %q %v %v %v %v", *i8, *i4, *i2, *tx, tn, *tb, *j, b, d, a8, a4)
	}
	rows.Next()
	if err := rows.Scan(&i8, &i4, &i2, &tx, &tn, &tb, &j, &b, &d, &a8, &a4); err != nil {
		t.Fatal(err)
	}
	if i8 != nil || i4 != nil || i2 != nil || tx != nil || tn != "非空" || tb != nil || *j != "" || b || d != nil || len(a8) != 0 || len(a4) != 0 {
		t.Errorf("second row read back wrong")
	}
}

// TestFromProducerError: a producer's error fails the COPY and nothing is
// written.
func TestFromProducerError(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	if _, err := db.Exec(ctx, `CREATE TABLE w (i bigint)`); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	bad := errors.New("bad row")
	_, err = pgcopy.From(ctx, conn.Conn().PgConn(), "w", func(e *pgcopy.Encoder) error {
		for i := range 100_000 {
			e.FlushIfFull()
			e.Row(1)
			e.Int64(int64(i))
		}
		return bad
	})
	if !errors.Is(err, bad) {
		t.Fatalf("From = %v, want the producer's error", err)
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM w`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d rows written after a failed COPY", n)
	}
}

// TestFromFrozen: rows go frozen into a table made in the same
// transaction, and PostgreSQL refuses the freeze for any other table (so
// the option does reach it).
func TestFromFrozen(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	if _, err := db.Exec(ctx, `CREATE TABLE old (i bigint)`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `CREATE TABLE fresh (i bigint)`); err != nil {
		t.Fatal(err)
	}
	fill := func(e *pgcopy.Encoder) error {
		for i := range 3 {
			e.FlushIfFull()
			e.Row(1)
			e.Int64(int64(i))
		}
		return nil
	}
	if n, err := pgcopy.FromFrozen(ctx, tx.Conn().PgConn(), "fresh (i)", fill); err != nil || n != 3 {
		t.Fatalf("frozen copy into a fresh table: %d rows, %v", n, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM fresh`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("fresh holds %d rows, %v", n, err)
	}
	conn, err := db.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := pgcopy.FromFrozen(ctx, conn.Conn().PgConn(), "old (i)", fill); err == nil {
		t.Error("frozen copy into a table made before the transaction succeeded")
	}
}
