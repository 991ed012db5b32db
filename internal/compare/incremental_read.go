package compare

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/canbao/canbao/internal/batchdiff"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/names"
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
	inc.touchContested()
	if err := r.readGhostRecords(ctx); err != nil {
		return err
	}
	inc.read = maps.Clone(inc.touched)
	return nil
}

// replay gives the state the records read so far, batch by batch in line
// order: it is built as a full run builds it, from the same records in
// the same order, but for those the run takes over from the base (see
// reuseLinks).
func (inc *incremental) replay(s *state) {
	var rec rawRecord
	for bi := range s.batches {
		b := &s.batches[bi]
		for _, row := range inc.cache[b.ID] {
			if inc.reuse[recordKey{b.ID, row.line}] {
				continue
			}
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

// reuseLinks picks the round's explained records the run takes over from
// the base as they were, unread by the state and not linked again: those
// the base linked to a person still untouched once touchContested has
// touched every person such a record may leave, and no reviewer decided
// (then or now).
// Each is decided by its candidates and their names alone (see fuzzyLinks),
// all untouched, so linking it again would link it as the base did; its
// person is a ghost, whose result the base's is. saveLinks writes their
// base rows again under their current lines.
func (inc *incremental) reuseLinks(decisions map[recordKey]decision) {
	inc.reuse = map[recordKey]bool{}
	inc.reused = inc.reused[:0]
	for batch, rows := range inc.cache {
		for _, row := range rows {
			k := recordKey{batch, row.line}
			l, ok := inc.links[k]
			if !ok {
				continue
			}
			v, valid := pack(l.linked)
			// A base link a reviewer decided is not taken over: a decision
			// holds for its batch's line, which a newer extract leaves behind.
			if _, decided := decisions[k]; !valid || inc.touched[v] || decided || l.method == "reviewed" {
				continue
			}
			inc.reuse[k] = true
			inc.reused = append(inc.reused, k)
		}
	}
	slices.SortFunc(inc.reused, func(a, b recordKey) int {
		if c := cmp.Compare(a.batch, b.batch); c != 0 {
			return c
		}
		return cmp.Compare(a.line, b.line)
	})
}

// touchContested touches, before anything is linked, the ghosts an
// explained record may leave: the base linked the record (a damaged ID,
// or a name that disagrees with its valid ID's person) to the ghost, and
// a touched person may be among its candidates now or have been then.
// Only the candidates and their names decide such a record (see
// fuzzyLinks, decide), and untouched persons are as the base had them.
// Found once linked instead, each record that leaves its ghost would
// cost another round; and reuseLinks takes over every link this leaves
// alone, so it may err only towards touching.
func (inc *incremental) touchContested() {
	c := contest{inc: inc, touched: make(knownIDs, 0, len(inc.touched)), named: map[string]bool{}}
	for id := range inc.touched {
		c.touched = append(c.touched, id)
		if i, ok := inc.find(id); ok {
			p := &inc.persons[i]
			c.note(id, inc.arena[p.name.off:p.name.off+p.name.n])
		}
	}
	c.base = make(knownIDs, len(inc.persons))
	for i := range inc.persons {
		c.base[i] = inc.persons[i].id
	}
	var rec rawRecord
	for _, rows := range inc.cache {
		for _, row := range rows {
			rec.parse(row.vals)
			v, ok := batchdiff.Pack(rec.id)
			if !ok || rec.damage != nil {
				continue
			}
			if inc.touched[v] {
				c.note(v, rec.name)
			} else if endsIn000(v) {
				// Merged away or not, as its namesakes decide: a
				// candidate by ID that may come or go (see mergeMangled).
				c.touched = append(c.touched, v)
			}
		}
	}
	slices.Sort(c.touched)
	c.touched = slices.Compact(c.touched)
	// Judged on two goroutines (a damaged ID's neighbours cost a few
	// microseconds, for tens of thousands of records), then touched.
	var parts [2][]uint64
	var wg sync.WaitGroup
	for k := range parts {
		c := c // a buffer of its own; the rest is only read now
		c.buf = nil
		wg.Go(func() {
			var rec rawRecord
			for batch, rows := range inc.cache {
				for i := k; i < len(rows); i += len(parts) {
					l, ok := inc.links[recordKey{batch, rows[i].line}]
					if !ok {
						continue
					}
					v, valid := pack(l.linked)
					if !valid || inc.touched[v] {
						continue
					}
					rec.parse(rows[i].vals)
					if c.contested(&rec) {
						parts[k] = append(parts[k], v)
					}
				}
			}
		})
	}
	wg.Wait()
	for _, part := range parts {
		for _, v := range part {
			inc.touch(v)
		}
	}
}

// contest is what touchContested knows of the touched persons: their IDs,
// and their names (fuzzyLinks's namesakes), alone and with the birth date
// (a valid ID's namesakes).
type contest struct {
	inc     *incremental
	touched knownIDs
	base    knownIDs        // the base's persons
	named   map[string]bool // a name, or a name, NUL and the birth date
	buf     []byte
}

// note adds a touched person's name, as it was or is now.
func (c *contest) note(id uint64, name []byte) {
	c.named[string(name)] = true
	c.named[sameKey(name)] = true
	var idb [18]byte
	c.named[string(c.born(name, batchdiff.AppendID(idb[:0], id)))] = true
}

// sameKey is a name as names.Compare finds it the same as another (see
// sameBirthAndName), or coarser.
func sameKey(name []byte) string {
	return "\x01" + strings.ToLower(names.Normalize(string(name)))
}

// born is a name and an ID's birth date as a key of named.
func (c *contest) born(name, id []byte) []byte {
	c.buf = append(append(append(c.buf[:0], name...), 0), id[6:14]...)
	return c.buf
}

// contested tells whether a touched person may be among the candidates
// of an explained record.
func (c *contest) contested(rec *rawRecord) bool {
	switch d := string(rec.damage); d {
	case "":
		// A valid ID ending in 000 may be merged away as a mangled copy,
		// or no longer: its candidates then change kind (see fuzzyLinks).
		if v, ok := batchdiff.Pack(rec.id); ok && endsIn000(v) {
			return true
		}
		return len(rec.id) == 18 && c.named[string(c.born(rec.name, rec.id))]
	case "check", "date", "region":
		// Its neighbours, when any is known, are all its candidates.
		byID := false
		for _, n := range idcard.Neighbours(string(rec.id)) {
			v, _ := pack(n)
			if _, ok := slices.BinarySearch(c.touched, v); ok {
				return true
			}
			if !byID {
				_, byID = slices.BinarySearch(c.base, v)
			}
		}
		if byID {
			return false
		}
	case "mangled":
		p := pending{id: string(rec.id), damage: d}
		if len(c.touched.candidates(&p)) > 0 {
			return true
		}
		if len(c.base.candidates(&p)) > 0 {
			return false
		}
	}
	return c.named[string(rec.name)] || c.named[sameKey(rec.name)]
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
//
// The batches are read two at a time, each on a pooled connection of its
// own in a read-only transaction: their records are committed and never
// change (a batch is written once, by one COPY), and while PostgreSQL
// finds one batch's records the run parses the other's.
func (r *run) scanTouched(ctx context.Context) error {
	inc := r.inc
	keys := inc.batchKeys()
	reads := make([]batchRead, len(r.batches))
	order := make([]int, len(r.batches)) // the largest batches first, for an even share
	for i := range r.batches {
		reads[i].batch, order[i] = r.batches[i].ID, i
	}
	slices.SortStableFunc(order, func(a, b int) int { return r.batches[b].Rows - r.batches[a].Rows })
	keyed, err := keyedBatches(ctx, r.tx, batchIDs(r.batches))
	if err != nil {
		return err
	}
	next := make(chan int, len(order))
	for _, i := range order {
		next <- i
	}
	close(next)
	g, gctx := errgroup.WithContext(ctx)
	for range min(scanReaders, len(order)) {
		g.Go(func() error {
			conn, err := r.db.Acquire(gctx)
			if err != nil {
				return fmt.Errorf("read batches: %w", err)
			}
			defer conn.Release()
			for i := range next {
				err := pgx.BeginTxFunc(gctx, conn, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
					return inc.scanBatchRecords(gctx, tx, &reads[i], keyed[reads[i].batch], keys[reads[i].batch])
				})
				if err != nil {
					return fmt.Errorf("read batch %d: %w", reads[i].batch, err)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	inc.cache = make(map[int64][]cachedRow, len(reads))
	for i := range reads {
		inc.cache[reads[i].batch] = reads[i].rows
		inc.fetched += reads[i].fetched
		inc.kept += reads[i].kept
	}
	return nil
}

// scanReaders is how many batches scanTouched reads at a time.
const scanReaders = 2

// keyedBatches tells which of the batches have keys, indexed (see hasKeys).
func keyedBatches(ctx context.Context, tx pgx.Tx, batches []int64) (map[int64]bool, error) {
	names := make([]string, len(batches))
	for i, b := range batches {
		names[i] = "public." + batchdiff.KeyIndex(b)
	}
	rows, err := tx.Query(ctx, `SELECT to_regclass(n) IS NOT NULL FROM unnest($1::text[]) WITH ORDINALITY AS u(n, i) ORDER BY i`, names)
	if err != nil {
		return nil, fmt.Errorf("batch indexes: %w", err)
	}
	has, err := pgx.CollectRows(rows, pgx.RowTo[bool])
	if err != nil {
		return nil, fmt.Errorf("batch indexes: %w", err)
	}
	if len(has) != len(batches) { // cannot happen
		return nil, fmt.Errorf("batch indexes: %d of %d", len(has), len(batches))
	}
	out := make(map[int64]bool, len(batches))
	for i, b := range batches {
		out[b] = has[i]
	}
	return out, nil
}

// scanBatchRecords reads one batch's first-round records (see
// scanTouched) into br, in a transaction of its own: keyed tells whether
// the batch has keys, keys are those to look up in it.
func (inc *incremental) scanBatchRecords(ctx context.Context, tx pgx.Tx, br *batchRead, keyed bool, keys []int64) error {
	// As on the run's own connection (see workConn).
	set := `SET LOCAL plan_cache_mode = force_custom_plan`
	if keyed {
		set += `; SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off` // see readKeyed
	}
	if _, err := tx.Exec(ctx, set); err != nil {
		return err
	}
	lines := inc.lines[br.batch]
	if !keyed {
		return inc.scanBatch(ctx, tx, br, lines)
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
	if len(keys) > 0 {
		if err := br.readRows(ctx, tx, qByKey, keep, keys); err != nil {
			return err
		}
	}
	if err := br.readRows(ctx, tx, qKeyless, keep); err != nil {
		return err
	}
	if len(inc.byLine[br.batch]) == 0 {
		return nil
	}
	// By line: through the batch's BRIN index, a bitmap scan.
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = DEFAULT; SET LOCAL enable_bitmapscan = DEFAULT`); err != nil {
		return err
	}
	return br.readLines(ctx, tx, inc.byLine[br.batch])
}

// batchRead is one batch's records read into the cache so far, in line
// order, and how many rows its reads fetched and kept.
type batchRead struct {
	batch         int64
	rows          []cachedRow
	fetched, kept int
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
func (br *batchRead) readKeyed(ctx context.Context, tx pgx.Tx, q string, keep func(*rawRecord) bool, args ...any) error {
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off`); err != nil {
		return fmt.Errorf("read batch %d: %w", br.batch, err)
	}
	if err := br.readRows(ctx, tx, q, keep, args...); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = DEFAULT; SET LOCAL enable_bitmapscan = DEFAULT`); err != nil {
		return fmt.Errorf("read batch %d: %w", br.batch, err)
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
func (inc *incremental) scanBatch(ctx context.Context, tx pgx.Tx, br *batchRead, lines []int32) error {
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
	return br.readRows(ctx, tx, q, nil, ids, lines)
}

// readLines reads the batch's given lines not yet in the cache.
func (br *batchRead) readLines(ctx context.Context, tx pgx.Tx, lines []int32) error {
	var want []int32
	for _, l := range lines {
		if !br.has(l) {
			want = append(want, l)
		}
	}
	if len(want) == 0 {
		return nil
	}
	// A few lines: the batch's BRIN index on the line finds their pages.
	const q = `SELECT ` + recordColumns + ` FROM source_record WHERE batch_id = $1 AND line = ANY($2)`
	return br.readRows(ctx, tx, q, nil, want)
}

// has tells whether a line of the batch is read.
func (br *batchRead) has(line int32) bool {
	_, found := slices.BinarySearchFunc(br.rows, line, func(c cachedRow, l int32) int { return int(c.line - l) })
	return found
}

func (inc *incremental) cached(batch int64, line int32) bool {
	br := batchRead{rows: inc.cache[batch]}
	return br.has(line)
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
		br := &batchRead{batch: b, rows: inc.cache[b]}
		if err := br.readGhostLines(ctx, r.tx, lines, keys); err != nil {
			return err
		}
		inc.cache[b], inc.fetched, inc.kept = br.rows, inc.fetched+br.fetched, inc.kept+br.kept
	}
	return nil
}

// readGhostLines reads the given lines of the batch not read yet: by the
// keys where the batch has keys, then whatever is still missing by line.
func (br *batchRead) readGhostLines(ctx context.Context, tx pgx.Tx, lines []int32, keys []int64) error {
	keyed, err := hasKeys(ctx, tx, br.batch)
	if err != nil {
		return err
	}
	if keyed {
		slices.Sort(lines)
		before := batchRead{rows: br.rows[:len(br.rows):len(br.rows)]} // the lines read before this query
		keep := func(rec *rawRecord) bool {
			_, ok := slices.BinarySearch(lines, rec.line)
			return ok && !before.has(rec.line)
		}
		if err := br.readKeyed(ctx, tx, qByKey, keep, keys); err != nil {
			return err
		}
	}
	return br.readLines(ctx, tx, lines)
}

// readRows adds one batch's rows of a query that keep accepts (nil: all)
// to br, keeping them in line order. A row's values are copied into one
// buffer of its own.
func (br *batchRead) readRows(ctx context.Context, tx pgx.Tx, q string, keep func(*rawRecord) bool, args ...any) error {
	rows, err := tx.Query(ctx, q, append([]any{pgx.QueryResultFormats{pgx.BinaryFormatCode}, br.batch}, args...)...)
	if err != nil {
		return fmt.Errorf("read batch %d: %w", br.batch, err)
	}
	defer rows.Close()
	var rec rawRecord
	for rows.Next() {
		v := rows.RawValues()
		br.fetched++
		if keep != nil {
			rec.parse(v)
			if !keep(&rec) {
				continue
			}
		}
		br.rows = append(br.rows, copyRow(v))
		br.kept++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read batch %d: %w", br.batch, err)
	}
	slices.SortStableFunc(br.rows, func(a, b cachedRow) int { return int(a.line - b.line) })
	return nil
}

// copyRow copies a row's values (nil stays nil) into one buffer.
func copyRow(v [][]byte) cachedRow {
	n := 0
	for _, b := range v {
		n += len(b)
	}
	buf := make([]byte, 0, n)
	row := cachedRow{vals: make([][]byte, len(v))}
	for i, b := range v {
		if b != nil {
			buf = append(buf, b...)
			row.vals[i] = buf[len(buf)-len(b) : len(buf) : len(buf)]
		}
	}
	var rec rawRecord
	rec.parse(row.vals)
	row.line = rec.line
	return row
}
