package compare

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Every run saves a snapshot of its persons (run_snapshot): what the next
// incremental run reads of them as its base (see readBase), packed into a
// few large values it reads in one query instead of a million run_person
// rows. The persons come in ID order, each as
//
//	ID       uvarint: the packed ID less the one before (the first: less 0)
//	name     uvarint length, then its bytes
//	region   uvarint: index into the snapshot's regions
//	result   pension, medical, flags (2 bytes, little endian), universe | survey<<1
//	records  uvarint count, then each: uvarint index into the snapshot's
//	         batches, varint line; in run_person's order
//
// after a head: the magic, then as uvarints the number of persons, of
// records and of name bytes, the regions (each a uvarint length and its
// bytes) and the batches (each 8 bytes, little endian). The value is cut
// into chunks of at most snapshotChunk bytes.
//
// A run saved before snapshots has none, and a run's snapshot is dropped
// once a later run of its region is saved (only the newest run is a
// base): readBase then reads run_person.

// snapshotMagic starts a snapshot and names its layout.
const snapshotMagic = "canbao-run-snapshot-1\n"

// snapshotChunk is the largest piece of a snapshot one row holds: well
// under the 1 GB a value may hold, and the memory one read takes at once.
const snapshotChunk = 64 << 20

// baseRows is the base's persons as loadBase reads them (see incremental).
type baseRows struct {
	persons  []basePerson
	arena    []byte
	regions  []string
	refBatch []int64
	refLine  []int32
}

// loadBase reads the base's persons from its snapshot or, when it has
// none, from run_person, and tells which.
func (inc *incremental) loadBase(ctx context.Context, db *pgxpool.Pool) (string, error) {
	b, ok, err := readSnapshot(ctx, db, inc.base)
	switch {
	case errors.Is(err, errSnapshot):
		// Only a copy: the rows still say it all.
		return "逐行，快照无法读取", inc.readBase(ctx, db)
	case err != nil:
		return "", err
	case ok:
		inc.persons, inc.arena, inc.regions, inc.refBatch, inc.refLine = b.persons, b.arena, b.regions, b.refBatch, b.refLine
		return "快照", nil
	}
	return "逐行", inc.readBase(ctx, db)
}

// readSnapshot reads and decodes a run's snapshot; ok is false when it
// has none.
func readSnapshot(ctx context.Context, db *pgxpool.Pool, runID int64) (b baseRows, ok bool, err error) {
	rows, err := db.Query(ctx, `SELECT data FROM run_snapshot WHERE run_id = $1 ORDER BY chunk`,
		pgx.QueryResultFormats{pgx.BinaryFormatCode}, runID)
	if err != nil {
		return b, false, fmt.Errorf("base snapshot: %w", err)
	}
	defer rows.Close()
	var data []byte
	for rows.Next() {
		data = append(data, rows.RawValues()[0]...)
	}
	if err := rows.Err(); err != nil {
		return b, false, fmt.Errorf("base snapshot: %w", err)
	}
	if data == nil {
		return b, false, nil
	}
	b, err = decodeSnapshot(data)
	if err != nil {
		return b, false, fmt.Errorf("base snapshot of run %d: %w", runID, err)
	}
	return b, true, nil
}

// packed is a run's snapshot, packed.
type packed struct {
	data []byte
	err  error
	took time.Duration
}

// startSnapshot packs the run's snapshot on a goroutine of its own once
// its results are final, while the registry is updated and the summaries
// counted (both only read the run's memory, as packing does): a few
// hundred milliseconds for a million persons.
func (r *run) startSnapshot() {
	ch := make(chan packed, 1)
	r.packing = ch
	go func() {
		t := time.Now()
		data, err := r.encodeSnapshot()
		ch <- packed{data, err, time.Since(t)}
	}()
}

// snapshotLock is the advisory lock (with the run's id) a run holds in
// its transaction from its save on: its snapshot's transaction waits for
// it before committing.
const snapshotLock = `7003, ($1::bigint % 2147483647)::int`

// writeSnapshot saves the run's snapshot on a connection of its own
// while the run saves the rest: its tens of megabytes cost the run
// nothing then. The snapshot's transaction writes it and drops those of
// the region's earlier runs, then waits for the run's transaction to end
// (the lock it holds) and commits; its foreign key to the run, checked at
// that commit, lets it commit only if the run did. The run waits for it
// once committed (see waitSnapshot).
func (r *run) writeSnapshot(ctx context.Context) error {
	if _, err := r.tx.Exec(ctx, `SELECT pg_advisory_xact_lock(`+snapshotLock+`)`, r.id); err != nil {
		return fmt.Errorf("snapshot lock: %w", err)
	}
	if r.packing == nil {
		r.startSnapshot()
	}
	packing := r.packing
	done := make(chan snapshotSaved, 1)
	r.saving = done
	go func() {
		p := <-packing
		var wrote time.Duration
		err := p.err
		if err == nil {
			wrote, err = r.saveSnapshot(ctx, p.data)
		}
		done <- snapshotSaved{p, wrote, err}
	}()
	return nil
}

// snapshotSaved is what became of a run's snapshot.
type snapshotSaved struct {
	packed
	wrote time.Duration // writing it took, not counting the wait for the run
	err   error
}

// saveSnapshot writes the snapshot, waits for the run's transaction to
// end and commits, and returns how long the writing took.
func (r *run) saveSnapshot(ctx context.Context, data []byte) (time.Duration, error) {
	conn, err := r.db.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	var took time.Duration
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		t := time.Now()
		var batch pgx.Batch
		batch.Queue(`DELETE FROM run_snapshot WHERE run_id IN (SELECT id FROM comparison_run WHERE region_code = $1 AND id < $2)`,
			r.req.Region, r.id)
		for i := 0; i*snapshotChunk < len(data); i++ {
			batch.Queue(`INSERT INTO run_snapshot (run_id, chunk, data) VALUES ($1, $2, $3)`,
				r.id, i, data[i*snapshotChunk:min(len(data), (i+1)*snapshotChunk)])
		}
		if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
			return err
		}
		took = time.Since(t)
		_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(`+snapshotLock+`)`, r.id)
		return err
	})
	if err != nil {
		return took, fmt.Errorf("save snapshot: %w", err)
	}
	return took, nil
}

// waitSnapshot waits, once the run has committed or rolled back, for its
// snapshot's transaction to end, and returns how long it waited and the
// snapshot's times. A snapshot not saved leaves the run as it is: the
// next incremental run reads its base's rows instead.
func (r *run) waitSnapshot() []StepTime {
	if r.saving == nil {
		return nil
	}
	t := time.Now()
	s := <-r.saving
	r.saving = nil
	name := fmt.Sprintf("保存快照（同时：打包 %.2fs，%.1f MB，写入 %.2fs；提交后等待）", s.packed.took.Seconds(),
		float64(len(s.data))/(1<<20), s.wrote.Seconds())
	if s.err != nil {
		name = "快照未保存：" + s.err.Error()
	}
	return []StepTime{{name, time.Since(t)}}
}

// encodeSnapshot packs the run's persons as its run_person rows hold them
// (see personWriter.row; TestIncrementalEqualsFull and the others compare
// the two).
//
// In ID order a run's persons, their names and their records lie
// scattered in memory, a cache miss or more each (a second for a million
// persons). So they are gathered by a few passes in the order they lie
// in (see gatherSnapshot), then packed in ID order.
func (r *run) encodeSnapshot() ([]byte, error) {
	s := r.state
	g, err := r.gatherSnapshot()
	if err != nil {
		return nil, err
	}
	regionAt := make([]int32, len(s.dict.vals)) // dict id → index + 1 among the regions
	var regions []string
	for _, reg := range r.regions {
		if regionAt[reg] == 0 {
			regions = append(regions, s.dict.vals[reg])
			regionAt[reg] = int32(len(regions))
		}
	}
	out := make([]byte, 0, len(g.names)+len(r.order)*16+len(g.lines)*4)
	out = append(out, snapshotMagic...)
	out = binary.AppendUvarint(out, uint64(len(g.ids)))
	out = binary.AppendUvarint(out, uint64(len(g.lines)))
	out = binary.AppendUvarint(out, uint64(len(g.names)))
	out = binary.AppendUvarint(out, uint64(len(regions)))
	for _, reg := range regions {
		out = binary.AppendUvarint(out, uint64(len(reg)))
		out = append(out, reg...)
	}
	out = binary.AppendUvarint(out, uint64(len(s.batches)))
	for _, b := range s.batches {
		out = binary.LittleEndian.AppendUint64(out, uint64(b.ID))
	}
	var last uint64
	for k, id := range g.ids {
		if k > 0 && id <= last {
			return nil, fmt.Errorf("snapshot: persons out of ID order at %d", k)
		}
		out = binary.AppendUvarint(out, id-last)
		last = id
		name := g.names[g.nameAt[k]:g.nameAt[k+1]]
		out = binary.AppendUvarint(out, uint64(len(name)))
		out = append(out, name...)
		out = binary.AppendUvarint(out, uint64(regionAt[r.regions[k]]-1))
		o := r.results[k]
		out = append(out, o.pension, o.medical, byte(o.flags), byte(o.flags>>8), bit(o.universe)|bit(o.survey)<<1)
		out = binary.AppendUvarint(out, uint64(g.refAt[k+1]-g.refAt[k]))
		for j := g.refAt[k]; j < g.refAt[k+1]; j++ {
			out = binary.AppendUvarint(out, uint64(g.batches[j]))
			out = binary.AppendVarint(out, int64(g.lines[j]))
		}
	}
	return out, nil
}

// gathered are a run's persons' IDs, names and records, by position in
// the run's order (see encodeSnapshot).
type gathered struct {
	ids           []uint64
	names         []byte
	nameAt, refAt []uint32 // position k's name is names[nameAt[k]:nameAt[k+1]], its records likewise
	batches       []uint16 // the records' batches, as indexes into the run's
	lines         []int32
}

// gatherSnapshot gathers the persons' IDs, names and records in passes
// over the persons and the links in the order they lie in, each written
// to the person's place in ID order. A ghost's records are the base's
// (see ghostRefs), any other person's the links, in the order linked.
func (r *run) gatherSnapshot() (*gathered, error) {
	s, n := r.state, len(r.order)
	g := &gathered{ids: make([]uint64, n), nameAt: make([]uint32, n+1), refAt: make([]uint32, n+1)}
	ghost := make([]bool, n)
	for pi := range s.persons {
		k := r.pos[pi]
		if k < 0 {
			continue
		}
		p := &s.persons[pi]
		g.ids[k] = p.id
		g.nameAt[k+1] = p.name.n
		if p.ghost {
			ghost[k] = true
			g.refAt[k+1] = uint32(r.inc.persons[r.inc.baseOf[pi]].nref)
		}
	}
	for _, pi := range s.linkPerson {
		if k := r.pos[pi]; k >= 0 && !ghost[k] {
			g.refAt[k+1]++
		}
	}
	for k := range n {
		g.nameAt[k+1] += g.nameAt[k]
		g.refAt[k+1] += g.refAt[k]
	}
	g.names = make([]byte, g.nameAt[n])
	g.batches, g.lines = make([]uint16, g.refAt[n]), make([]int32, g.refAt[n])
	if len(s.batches) > 1<<16 {
		return nil, fmt.Errorf("snapshot: %d batches", len(s.batches))
	}
	ids := batchIDs(batchesOf(s.batches))
	for pi := range s.persons {
		k := r.pos[pi]
		if k < 0 {
			continue
		}
		p := &s.persons[pi]
		copy(g.names[g.nameAt[k]:], s.bytes(p.name))
		if !ghost[k] {
			continue
		}
		b := &r.inc.persons[r.inc.baseOf[pi]]
		j := g.refAt[k]
		for i := b.refs; i < b.refs+b.nref; i, j = i+1, j+1 {
			bi := slices.Index(ids, r.inc.refBatch[i]) // of a few
			if bi < 0 {
				return nil, fmt.Errorf("snapshot: record of batch %d, not one of the run's", r.inc.refBatch[i])
			}
			g.batches[j], g.lines[j] = uint16(bi), r.inc.refLine[i]
		}
	}
	next := slices.Clone(g.refAt[:n])
	for li, pi := range s.linkPerson {
		if k := r.pos[pi]; k >= 0 && !ghost[k] {
			j := next[k]
			next[k]++
			g.batches[j], g.lines[j] = uint16(s.linkBatch[li]), s.linkLine[li]
		}
	}
	return g, nil
}

func bit(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// errSnapshot is a snapshot that does not decode: cut short, or not
// written by encodeSnapshot.
var errSnapshot = errors.New("snapshot damaged")

// snapReader reads a snapshot's values, noting the first overrun.
type snapReader struct {
	b   []byte
	bad bool
}

func (d *snapReader) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *snapReader) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *snapReader) bytes(n uint64) []byte {
	if uint64(len(d.b)) < n {
		d.bad, d.b = true, nil
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

// decodeSnapshot unpacks a snapshot (see encodeSnapshot).
func decodeSnapshot(data []byte) (baseRows, error) {
	var b baseRows
	if len(data) < len(snapshotMagic) || string(data[:len(snapshotMagic)]) != snapshotMagic {
		return b, errSnapshot
	}
	d := &snapReader{b: data[len(snapshotMagic):]}
	n, nref, narena := d.uvarint(), d.uvarint(), d.uvarint()
	// No count can exceed the bytes that hold it: a damaged head must not
	// allocate without bound.
	if size := uint64(len(d.b)); d.bad || n > size || nref > size || narena > size {
		return b, errSnapshot
	}
	for range min(d.uvarint(), uint64(len(d.b))) {
		b.regions = append(b.regions, string(d.bytes(d.uvarint())))
	}
	var batches []int64
	for range min(d.uvarint(), uint64(len(d.b))) {
		if v := d.bytes(8); v != nil {
			batches = append(batches, int64(binary.LittleEndian.Uint64(v)))
		}
	}
	if d.bad || len(b.regions) > 1<<16 {
		return b, errSnapshot
	}
	b.persons = make([]basePerson, 0, n)
	b.arena = make([]byte, 0, narena)
	b.refBatch, b.refLine = make([]int64, 0, nref), make([]int32, 0, nref)
	var id uint64
	for range n {
		id += d.uvarint()
		name := d.bytes(d.uvarint())
		reg := d.uvarint()
		res := d.bytes(5)
		count := d.uvarint()
		if d.bad || reg >= uint64(len(b.regions)) || count > uint64(len(d.b)) {
			return b, errSnapshot
		}
		p := basePerson{id: id, name: text{uint32(len(b.arena)), uint32(len(name))}, region: uint16(reg),
			res: outcome{pension: res[0], medical: res[1], flags: binary.LittleEndian.Uint16(res[2:4]),
				universe: res[4]&1 != 0, survey: res[4]&2 != 0},
			refs: int32(len(b.refBatch)), nref: int32(count)}
		b.arena = append(b.arena, name...)
		for range count {
			bi, line := d.uvarint(), d.varint()
			if d.bad || bi >= uint64(len(batches)) {
				return b, errSnapshot
			}
			b.refBatch = append(b.refBatch, batches[bi])
			b.refLine = append(b.refLine, int32(line))
		}
		b.persons = append(b.persons, p)
	}
	if len(d.b) != 0 || uint64(len(b.refBatch)) != nref || uint64(len(b.arena)) != narena {
		return b, errSnapshot
	}
	return b, nil
}
