package batchdiff

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Querier runs queries: a connection, a pool or a transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ReadRows reads a batch's records as matched, in line order; ok is false
// when they cannot be matched by digest: a record has none (imported
// before there were digests) or a line repeats.
func ReadRows(ctx context.Context, q Querier, batch int64) (rows []Row, ok bool, err error) {
	res, err := q.Query(ctx, `SELECT line, row_hash, id_norm FROM source_record WHERE batch_id = $1`,
		pgx.QueryResultFormats{pgx.BinaryFormatCode}, batch)
	if err != nil {
		return nil, false, fmt.Errorf("read batch %d: %w", batch, err)
	}
	defer res.Close()
	ok = true
	for res.Next() {
		v := res.RawValues()
		if v[1] == nil {
			ok = false
			continue
		}
		r := Row{Line: int32(binary.BigEndian.Uint32(v[0])), Hash: int64(binary.BigEndian.Uint64(v[1]))}
		r.ID, _ = Pack(v[2])
		rows = append(rows, r)
	}
	if err := res.Err(); err != nil {
		return nil, false, fmt.Errorf("read batch %d: %w", batch, err)
	}
	return rows, ok && Ordered(rows), nil
}

// SameLayout tells whether two batches read their files the same way
// (kind, region, header and column mapping), so that equal digests make
// equal records.
func SameLayout(ctx context.Context, q Querier, a, b int64) (bool, error) {
	var same bool
	err := q.QueryRow(ctx, `SELECT x.kind = y.kind AND x.region_code = y.region_code AND x.header = y.header AND x.mapping = y.mapping
		FROM import_batch x, import_batch y WHERE x.id = $1 AND y.id = $2`, a, b).Scan(&same)
	if err != nil {
		return false, fmt.Errorf("batch layout: %w", err)
	}
	return same, nil
}

// Record stores d for its newer batch.
func Record(ctx context.Context, q Querier, d *Diff) error {
	ids := make([]string, len(d.IDs))
	for i, id := range d.IDs {
		ids[i] = Unpack(id)
	}
	const sql = `INSERT INTO batch_change (batch_id, prev_batch, kept, removed, added, ids) VALUES ($1, $2, $3, $4, $5, $6)`
	if _, err := q.Exec(ctx, sql, d.New, d.Old, nonNil(d.Runs()), nonNil(d.Removed), nonNil(d.Added), ids); err != nil {
		return fmt.Errorf("record batch change %d: %w", d.New, err)
	}
	return nil
}

func nonNil(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}

// Load reads the recorded change from batch old to batch nw; ok is false
// when none was recorded (nw was imported before changes were recorded,
// or superseded another batch, or could not be matched).
func Load(ctx context.Context, q Querier, old, nw int64) (d *Diff, ok bool, err error) {
	d = &Diff{Old: old, New: nw}
	var runs []int32
	var ids []string
	err = q.QueryRow(ctx, `SELECT kept, removed, added, ids FROM batch_change WHERE batch_id = $1 AND prev_batch = $2`, nw, old).
		Scan(&runs, &d.Removed, &d.Added, &ids)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("batch change %d: %w", nw, err)
	}
	maxOld := int32(0)
	if n := len(d.Removed); n > 0 {
		maxOld = d.Removed[n-1]
	}
	for i := 0; i+2 < len(runs); i += 3 {
		maxOld = max(maxOld, runs[i]+runs[i+2]-1)
	}
	d.LineMap = fromRuns(runs, maxOld)
	for _, id := range ids {
		if v, ok := Pack([]byte(id)); ok {
			d.IDs = append(d.IDs, v)
		}
	}
	return d, true, nil
}

// Unpack is the 18-character ID packed in v (see Pack).
func Unpack(v uint64) string { return string(AppendID(nil, v)) }

// AppendID appends the 18-character ID packed in v (see Pack) to buf.
func AppendID(buf []byte, v uint64) []byte {
	var id [18]byte
	c := v % 11
	if c == 10 {
		id[17] = 'X'
	} else {
		id[17] = byte('0' + c)
	}
	v /= 11
	for i := 16; i >= 0; i-- {
		id[i] = byte('0' + v%10)
		v /= 10
	}
	return append(buf, id[:]...)
}

// Equal tells whether two diffs say the same (for tests and checks).
func Equal(a, b *Diff) bool {
	trim := func(m []int32) []int32 {
		for len(m) > 0 && m[len(m)-1] < 0 {
			m = m[:len(m)-1]
		}
		return m
	}
	return a.Old == b.Old && a.New == b.New && slices.Equal(trim(a.LineMap), trim(b.LineMap)) &&
		slices.Equal(a.Removed, b.Removed) && slices.Equal(a.Added, b.Added) && slices.Equal(a.IDs, b.IDs)
}
