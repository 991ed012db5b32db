package compare

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
)

// An incremental run writes only its touched persons from memory. The
// others (ghosts) are as in the base: their rows are copied from the
// base's partition, the records they list moved to the lines the
// superseding extracts give them. Building them from the base's rows read
// into memory, as a full run builds its own, cost what a full run's save
// costs; copying them costs the server's COPY out and in.

// copyGhosts copies the base's rows of the untouched persons into the
// run's partition (created in this transaction, so frozen as writePersons
// writes its own rows): out of the base's partition in COPY's binary
// format and back in, skipping the touched persons and moving the records
// of superseded batches to their new lines in place, on the raw bytes.
func (r *run) copyGhosts(ctx context.Context, cols string) error {
	q := fmt.Sprintf(`COPY (SELECT %d::bigint, id_number, name, region_code, in_universe, pension, medical, flags, survey,
		record_batches, record_lines, false FROM run_person WHERE run_id = %d) TO STDOUT (FORMAT binary)`, r.id, r.inc.base)
	var buf bytes.Buffer
	conn := r.tx.Conn().PgConn()
	if _, err := conn.CopyTo(ctx, &buf, q); err != nil {
		return fmt.Errorf("copy the base's persons: %w", err)
	}
	out, err := r.inc.ghostRows(buf.Bytes())
	if err != nil {
		return err
	}
	if _, err := conn.CopyFrom(ctx, bytes.NewReader(out), `COPY `+r.persons+` (`+cols+`) FROM STDIN (FORMAT binary, FREEZE)`); err != nil {
		return fmt.Errorf("copy the base's persons: %w", err)
	}
	return nil
}

// errCopyFormat reports COPY output not as PostgreSQL documents it.
var errCopyFormat = errors.New("unexpected binary COPY data")

// ghostRows rewrites, in place, binary COPY data of run_person rows as
// copyGhosts selects them: the touched persons' rows are dropped and the
// untouched persons' records moved to their current batches and lines.
func (inc *incremental) ghostRows(b []byte) ([]byte, error) {
	const sig = "PGCOPY\n\xff\r\n\x00"
	if len(b) < 19 || string(b[:11]) != sig {
		return nil, errCopyFormat
	}
	pos := 19 + int(binary.BigEndian.Uint32(b[15:19])) // past the header extension
	out := pos
	for {
		if pos+2 > len(b) {
			return nil, errCopyFormat
		}
		n := int16(binary.BigEndian.Uint16(b[pos:]))
		if n == -1 {
			out += copy(b[out:], b[pos:pos+2])
			return b[:out], nil
		}
		start := pos
		pos += 2
		var fields [12][]byte
		if n != 12 {
			return nil, errCopyFormat
		}
		for i := range fields {
			if pos+4 > len(b) {
				return nil, errCopyFormat
			}
			l := int32(binary.BigEndian.Uint32(b[pos:]))
			pos += 4
			if l < 0 {
				continue
			}
			if pos+int(l) > len(b) {
				return nil, errCopyFormat
			}
			fields[i] = b[pos : pos+int(l)]
			pos += int(l)
		}
		if id, ok := packBytes(fields[1]); !ok || inc.touched[id] {
			continue
		}
		if err := inc.moveRefs(fields[9], fields[10]); err != nil {
			return nil, err
		}
		out += copy(b[out:], b[start:pos])
	}
}

// moveRefs moves a ghost's records (binary bigint[] and integer[] arrays
// of the same length) from superseded batches to their successors, in
// place.
func (inc *incremental) moveRefs(batches, lines []byte) error {
	if len(inc.changes.pairs) == 0 {
		return nil
	}
	bs, ls := arrayData(batches), arrayData(lines)
	for len(bs) >= 12 && len(ls) >= 8 {
		if binary.BigEndian.Uint32(bs) != 8 || binary.BigEndian.Uint32(ls) != 4 {
			return errCopyFormat
		}
		if p, ok := inc.changes.pairs[int64(binary.BigEndian.Uint64(bs[4:]))]; ok {
			line := int32(binary.BigEndian.Uint32(ls[4:]))
			if line < 0 || int(line) >= len(p.lineMap) || p.lineMap[line] < 0 {
				// A removed record: its person was touched (touchChanged).
				return fmt.Errorf("base record %d:%d of an untouched person is gone", p.old, line)
			}
			binary.BigEndian.PutUint64(bs[4:], uint64(p.new))
			binary.BigEndian.PutUint32(ls[4:], uint32(p.lineMap[line]))
		}
		bs, ls = bs[12:], ls[8:]
	}
	if len(bs) != 0 || len(ls) != 0 {
		return errCopyFormat
	}
	return nil
}

// arrayData is a one-dimensional binary array's elements (each a length
// and its bytes), nil for an empty array.
func arrayData(b []byte) []byte {
	if len(b) < 12 || binary.BigEndian.Uint32(b) == 0 {
		return nil
	}
	return b[20:] // ndim, flags, element type, then one dimension's size and lower bound
}

// summarizeIncremental counts as summarize does, from the base's numbers:
// the touched persons' results in the base and the base's unlinked
// records out, this run's touched persons and unlinked records in;
// ghosts count as they did. A metric the base has no number for (none of
// its persons had it, or the metric is newer than the base) counts the
// ghosts again. A metric the base has and this code does not know: all
// counted as summarize does.
func (r *run) summarizeIncremental(ctx context.Context) error {
	inc, s := r.inc, r.state
	index := map[string]int{MetricReview: len(Metrics) + tallyReview, MetricUnmatched: len(Metrics) + tallyUnmatched}
	for m, metric := range Metrics {
		index[metric.Key] = m
	}
	t := newTally(r.req.Region)
	rows, err := r.tx.Query(ctx, `SELECT region_code, metric, n FROM run_summary WHERE run_id = $1`, inc.base)
	if err != nil {
		return fmt.Errorf("base summary: %w", err)
	}
	defer rows.Close()
	seen := make([]bool, len(Metrics)+2)
	for rows.Next() {
		var code, metric string
		var n int
		if err := rows.Scan(&code, &metric, &n); err != nil {
			return fmt.Errorf("base summary: %w", err)
		}
		m, ok := index[metric]
		if !ok {
			rows.Close()
			return r.summarize(ctx)
		}
		seen[m] = true
		c := t.counts[code]
		if c == nil {
			c = make([]int, len(Metrics)+2)
			t.counts[code] = c
		}
		c[m] = n
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("base summary: %w", err)
	}
	if !seen[0] { // no persons at all: nothing to start from
		return r.summarize(ctx)
	}
	for i := range inc.persons {
		if p := &inc.persons[i]; inc.touched[p.id] {
			t.person(inc.regions[p.region], p.res, -1)
		}
	}
	for k, pi := range r.order {
		if !s.persons[pi].ghost {
			t.person(s.dict.vals[r.regions[k]], r.results[k], 1)
		}
	}
	var unseen []int
	for m := range Metrics {
		if !seen[m] {
			unseen = append(unseen, m)
		}
	}
	if len(unseen) > 0 {
		// A result has few distinct values: each tested once.
		has := map[outcome][]int{}
		for k, pi := range r.order {
			if !s.persons[pi].ghost {
				continue
			}
			o := r.results[k]
			ms, ok := has[o]
			if !ok {
				res := o.result()
				ms = []int{}
				for _, m := range unseen {
					if Metrics[m].has(res) {
						ms = append(ms, m)
					}
				}
				has[o] = ms
			}
			for _, m := range ms {
				t.add(s.dict.vals[r.regions[k]], m, 1)
			}
		}
	}
	for _, u := range inc.unlinked {
		t.record(u.region, u.method, -1)
	}
	for _, p := range s.pending {
		if p.linked == "" {
			t.record(p.region, p.method, 1)
		}
	}
	return r.writeSummary(ctx, t)
}
