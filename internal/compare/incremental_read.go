package compare

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/batchdiff"
)

// cachedRow is a record as read: its columns' binary values, copied.
type cachedRow struct {
	line int32
	vals [][]byte
}

// readTouched reads the records of touched IDs, the lines listed, damaged
// IDs and IDs ending in 000, into the cache (see replay).
//
// The first round reads them through each batch's index on the records'
// keys (see scanTouched), then the records of the ghosts a mangled ID may
// merge into. A later round touches only ghosts, persons of the base none
// of whose records changed (else they were touched from the start): their
// records are the base's under their current lines, found by their key
// (see readGhostRecords), and every other record of their ID was read
// already (the base explained it, or it is new).
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
			id, ok := batchdiff.Pack(rec.id)
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

// scanTouched reads the first round's records of each batch: those of a
// touched ID, the lines listed (see readLinks, touchChanged), and every
// record with a damaged ID or an ID ending in 000.
//
// The import gave each batch's records a key (source_record.id_key, see
// batchdiff.Key) and an index on it. The records of a touched ID in a
// batch are those the base linked to its person (its records, under
// their current lines), those the base explained (listed lines, whose IDs
// readLinks noted), and new ones (added lines, whose IDs the batch change
// names, or a batch new to the region); so each batch is asked for the
// keys it may hold, the records without a key (NULL) are read whole, and
// listed lines whose ID is not known are fetched by line. Whatever else is
// found that way (the other records of a listed line's ID, records
// without any ID) is left here, so the records read are those a scan
// reads. A batch imported before there were keys is scanned.
func (r *run) scanTouched(ctx context.Context) error {
	inc := r.inc
	inc.cache = map[int64][]cachedRow{}
	keys := inc.batchKeys()
	for _, b := range r.batches {
		keyed, err := hasKeys(ctx, r.tx, b.ID)
		if err != nil {
			return err
		}
		lines := inc.lines[b.ID]
		if !keyed {
			if err := inc.scanBatch(ctx, r.tx, b.ID, lines); err != nil {
				return err
			}
			continue
		}
		lines = slices.Clone(lines)
		slices.Sort(lines)
		keep := func(rec *rawRecord) bool {
			// The scan's condition: id_norm = ANY(touched) OR line =
			// ANY(lines) OR id_damage IS NOT NULL OR id_norm LIKE '%000'.
			if v, ok := batchdiff.Pack(rec.id); ok && inc.touched[v] {
				return true
			}
			if _, ok := slices.BinarySearch(lines, rec.line); ok {
				return true
			}
			return rec.damage != nil || bytes.HasSuffix(rec.id, []byte("000"))
		}
		if len(keys[b.ID]) > 0 {
			if err := inc.readKeyed(ctx, r.tx, qByKey, keep, b.ID, keys[b.ID]); err != nil {
				return err
			}
		}
		if err := inc.readKeyed(ctx, r.tx, qKeyless, keep, b.ID); err != nil {
			return err
		}
		if err := inc.readLines(ctx, r.tx, b.ID, inc.byLine[b.ID]); err != nil {
			return err
		}
	}
	return nil
}

// batchKeys are the keys to look up in each current batch (see
// scanTouched), each once.
func (inc *incremental) batchKeys() map[int64][]int64 {
	keys := map[int64][]int64{}
	for b, k := range inc.keys {
		keys[b] = slices.Clone(k)
	}
	var all []int64
	for id := range inc.touched {
		all = append(all, int64(id))
		i, ok := inc.find(id)
		if !ok {
			continue
		}
		p := &inc.persons[i]
		for j := p.refs; j < p.refs+p.nref; j++ {
			keys[inc.refBatch[j]] = append(keys[inc.refBatch[j]], int64(id))
		}
	}
	for b := range inc.newBatch {
		keys[b] = append(keys[b], all...)
	}
	for b, k := range keys {
		slices.Sort(k)
		keys[b] = slices.Compact(k)
	}
	return keys
}

// The queries by key (see readKeyed).
const (
	qByKey   = `SELECT ` + recordColumns + ` FROM source_record WHERE batch_id = $1 AND id_key = ANY($2)`
	qKeyless = `SELECT ` + recordColumns + ` FROM source_record WHERE batch_id = $1 AND id_key IS NULL`
)

// readKeyed reads rows by key (see readRows) through the batch's index:
// the planner knows nothing of a fresh batch's keys and would rather scan
// it, or read all of it through its BRIN index, than look a few thousand
// keys up.
func (inc *incremental) readKeyed(ctx context.Context, tx pgx.Tx, q string, keep func(*rawRecord) bool, batch int64, args ...any) error {
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off`); err != nil {
		return fmt.Errorf("read batch %d: %w", batch, err)
	}
	if err := inc.readRows(ctx, tx, q, keep, batch, args...); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = DEFAULT; SET LOCAL enable_bitmapscan = DEFAULT`); err != nil {
		return fmt.Errorf("read batch %d: %w", batch, err)
	}
	return nil
}

// hasKeys tells whether a batch's records have keys, indexed.
func hasKeys(ctx context.Context, tx pgx.Tx, batch int64) (bool, error) {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, "public."+batchdiff.KeyIndex(batch)).Scan(&ok); err != nil {
		return false, fmt.Errorf("batch %d index: %w", batch, err)
	}
	return ok, nil
}

// scanBatch reads the first round's records of a batch without keys, in
// one scan.
func (inc *incremental) scanBatch(ctx context.Context, tx pgx.Tx, batch int64, lines []int32) error {
	ids := make([]string, 0, len(inc.touched))
	for id := range inc.touched {
		ids = append(ids, unpack(id))
	}
	if lines == nil {
		lines = []int32{}
	}
	// The rows read are a few in a hundred: sorting them costs little.
	const q = `SELECT ` + recordColumns + ` FROM source_record WHERE batch_id = $1
		AND (id_norm = ANY($2) OR line = ANY($3) OR id_damage IS NOT NULL OR (id_damage IS NULL AND id_norm LIKE '%000'))
		ORDER BY line`
	return inc.readRows(ctx, tx, q, nil, batch, ids, lines)
}

// readLines reads the batch's given lines not yet in the cache.
func (inc *incremental) readLines(ctx context.Context, tx pgx.Tx, batch int64, lines []int32) error {
	var want []int32
	for _, l := range lines {
		if !inc.cached(batch, l) {
			want = append(want, l)
		}
	}
	if len(want) == 0 {
		return nil
	}
	// A few lines: the batch's BRIN index on the line finds their pages.
	const q = `SELECT ` + recordColumns + ` FROM source_record WHERE batch_id = $1 AND line = ANY($2)`
	return inc.readRows(ctx, tx, q, nil, batch, want)
}

func (inc *incremental) cached(batch int64, line int32) bool {
	_, found := slices.BinarySearchFunc(inc.cache[batch], line, func(c cachedRow, l int32) int { return int(c.line - l) })
	return found
}

// readGhostRecords fetches the records of the ghosts touched since the
// last read: the base's, under their current batch and line (see remap).
// Those not read yet are records linked by the ghost's own valid ID (any
// other was explained in the base and read in the first round): found by
// its key where the batch has keys; whatever is still missing is fetched
// by line.
func (r *run) readGhostRecords(ctx context.Context) error {
	inc := r.inc
	want := map[int64][]int32{}
	var keys []int64
	for id := range inc.touched {
		if inc.read[id] {
			continue
		}
		i, ok := inc.find(id)
		if !ok {
			continue // not in the base: its records, if any, were read as new
		}
		keys = append(keys, int64(id))
		p := &inc.persons[i]
		for j := p.refs; j < p.refs+p.nref; j++ {
			b, line := inc.refBatch[j], inc.refLine[j]
			if !inc.cached(b, line) {
				want[b] = append(want[b], line)
			}
		}
	}
	for b, lines := range want {
		keyed, err := hasKeys(ctx, r.tx, b)
		if err != nil {
			return err
		}
		if keyed {
			slices.Sort(lines)
			keep := func(rec *rawRecord) bool {
				_, ok := slices.BinarySearch(lines, rec.line)
				return ok && !inc.cached(b, rec.line)
			}
			if err := inc.readKeyed(ctx, r.tx, qByKey, keep, b, keys); err != nil {
				return err
			}
		}
		if err := inc.readLines(ctx, r.tx, b, lines); err != nil {
			return err
		}
	}
	return nil
}

// readRows adds one batch's rows of a query that keep accepts (nil: all)
// to the cache, keeping it in line order.
func (inc *incremental) readRows(ctx context.Context, tx pgx.Tx, q string, keep func(*rawRecord) bool, batch int64, args ...any) error {
	rows, err := tx.Query(ctx, q, append([]any{pgx.QueryResultFormats{pgx.BinaryFormatCode}, batch}, args...)...)
	if err != nil {
		return fmt.Errorf("read batch %d: %w", batch, err)
	}
	defer rows.Close()
	cached := inc.cache[batch]
	var rec rawRecord
	for rows.Next() {
		v := rows.RawValues()
		inc.fetched++
		if keep != nil {
			rec.parse(v)
			if !keep(&rec) {
				continue
			}
		}
		row := cachedRow{vals: make([][]byte, len(v))}
		for i, b := range v {
			if b != nil {
				row.vals[i] = append(make([]byte, 0, len(b)), b...)
			}
		}
		rec.parse(row.vals)
		row.line = rec.line
		cached = append(cached, row)
		inc.kept++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read batch %d: %w", batch, err)
	}
	slices.SortStableFunc(cached, func(a, b cachedRow) int { return int(a.line - b.line) })
	inc.cache[batch] = cached
	return nil
}
