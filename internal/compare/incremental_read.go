package compare

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
)

// cachedRow is a record as read: its columns' binary values, copied.
type cachedRow struct {
	line int32
	vals [][]byte
}

// readTouched reads the records of touched IDs, the lines listed, damaged
// IDs and IDs ending in 000, into the cache (see replay).
//
// The first round reads them with one scan of each batch (source_record
// has no index on the ID: one would slow every import), then the records
// of the ghosts a mangled ID may merge into. A later round touches only
// ghosts, persons of the base none of whose records changed (else they
// were touched from the start): their records are the base's under their
// current lines, fetched by line, and every other record of their ID was
// read already (the base explained it, or it is new).
func (r *run) readTouched(ctx context.Context) error {
	inc := r.inc
	if inc.cache == nil {
		if err := r.scanTouched(ctx); err != nil {
			return err
		}
		inc.read = maps.Clone(inc.touched)
		inc.touchMangled()
	}
	if err := r.readGhostRecords(ctx); err != nil {
		return err
	}
	inc.read = maps.Clone(inc.touched)
	return nil
}

// replay gives the state the records read so far, batch by batch in line
// order: it is built as a full run builds it, from the same records in
// the same order.
func (inc *incremental) replay(s *state) {
	var rec rawRecord
	for bi := range s.batches {
		b := &s.batches[bi]
		for _, row := range inc.cache[b.ID] {
			rec.parse(row.vals)
			s.add(int32(bi), b, &rec)
		}
	}
}

// touchMangled touches, before anything is linked, the ghosts a record
// with a mangled ID (ending in 000) may be merged into (see mangledOf):
// those close enough to the ID and named as the record is. Found only
// once linked, each would cost another round.
func (inc *incremental) touchMangled() {
	var rec rawRecord
	for _, rows := range inc.cache {
		for _, row := range rows {
			rec.parse(row.vals)
			id, ok := packBytes(rec.id)
			if rec.damage != nil || !ok || !endsIn000(id) {
				continue
			}
			i, _ := inc.find(id - min(id, 1100))
			for ; i < len(inc.persons) && inc.persons[i].id < id+1100; i++ {
				p := &inc.persons[i]
				if p.id != id && !inc.touched[p.id] && string(inc.arena[p.name.off:p.name.off+p.name.n]) == string(rec.name) {
					inc.touch(p.id)
				}
			}
		}
	}
}

// scanTouched scans each batch once for the first round's records.
func (r *run) scanTouched(ctx context.Context) error {
	inc := r.inc
	inc.cache = map[int64][]cachedRow{}
	ids := make([]string, 0, len(inc.touched))
	for id := range inc.touched {
		ids = append(ids, unpack(id))
	}
	// The rows read are a few in a hundred: sorting them costs little.
	const q = `SELECT ` + recordColumns + ` FROM source_record WHERE batch_id = $1
		AND (id_norm = ANY($2) OR line = ANY($3) OR id_damage IS NOT NULL OR (id_damage IS NULL AND id_norm LIKE '%000'))
		ORDER BY line`
	for _, b := range r.batches {
		lines := inc.lines[b.ID]
		if lines == nil {
			lines = []int32{}
		}
		if err := inc.readRows(ctx, r.tx, q, b.ID, ids, lines); err != nil {
			return err
		}
	}
	return nil
}

// readGhostRecords fetches the records of the ghosts touched since the
// last read: the base's, under their current batch and line (see remap).
func (r *run) readGhostRecords(ctx context.Context) error {
	inc := r.inc
	want := map[int64][]int32{}
	for id := range inc.touched {
		if inc.read[id] {
			continue
		}
		i, ok := inc.find(id)
		if !ok {
			continue // not in the base: its records, if any, were read as new
		}
		p := &inc.persons[i]
		for j := p.refs; j < p.refs+p.nref; j++ {
			b, line := inc.refBatch[j], inc.refLine[j]
			if _, found := slices.BinarySearchFunc(inc.cache[b], line, func(c cachedRow, l int32) int { return int(c.line - l) }); !found {
				want[b] = append(want[b], line)
			}
		}
	}
	// A few lines: the batch's BRIN index on the line finds their pages.
	const q = `SELECT ` + recordColumns + ` FROM source_record WHERE batch_id = $1 AND line = ANY($2) ORDER BY line`
	for b, lines := range want {
		if err := inc.readRows(ctx, r.tx, q, b, lines); err != nil {
			return err
		}
	}
	return nil
}

// readRows adds one batch's rows of a query (in line order) to the cache,
// keeping it in line order.
func (inc *incremental) readRows(ctx context.Context, tx pgx.Tx, q string, batch int64, args ...any) error {
	rows, err := tx.Query(ctx, q, append([]any{pgx.QueryResultFormats{pgx.BinaryFormatCode}, batch}, args...)...)
	if err != nil {
		return fmt.Errorf("read batch %d: %w", batch, err)
	}
	defer rows.Close()
	cached := inc.cache[batch]
	var rec rawRecord
	for rows.Next() {
		v := rows.RawValues()
		row := cachedRow{vals: make([][]byte, len(v))}
		for i, b := range v {
			if b != nil {
				row.vals[i] = append(make([]byte, 0, len(b)), b...)
			}
		}
		rec.parse(row.vals)
		row.line = rec.line
		cached = append(cached, row)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read batch %d: %w", batch, err)
	}
	slices.SortStableFunc(cached, func(a, b cachedRow) int { return int(a.line - b.line) })
	inc.cache[batch] = cached
	return nil
}
