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

	"github.com/canbao/canbao/internal/batchdiff"
	"github.com/canbao/canbao/internal/registry"
)

// An incremental run gives the result a full run would give, reading only
// what changed since the region's last done run (its base):
//
//   - Batches: a batch that superseded one of the base's is matched with
//     it record by record (the digest of each record's typed columns, all
//     a run reads of it, or of its cells for batches imported before there
//     were digests; the same header and column mapping): records in both,
//     in the same relative order, are the same records under new line
//     numbers; the others are added or removed (see batchdiff). The import
//     of the newer batch recorded that match (batch_change), which is read;
//     batches imported before it are matched here.
//     A withdrawn batch removes all its records, a batch new to the region
//     adds all its own.
//   - Touched persons are the IDs of added and removed records, the persons
//     the base linked a removed record to, the persons whose registry entry
//     changed after the base run committed (another source may have changed
//     it, and a full run would set it back), persons whose ID ends in 000
//     (see mergeMangled) and, once the records are read, the persons a
//     record with such an ID may be merged into (touchMangled) and those
//     an explained record may leave for a touched candidate (touchContested).
//   - Every other person of the base is a ghost: known by ID and name (so
//     candidate searches see them as a full run would) but with no records
//     read; their result, region and records are the base's, read from its
//     snapshot (see incremental_snapshot.go) or, for a run saved before
//     snapshots, from its run_person rows.
//   - Records read: every record of a touched ID, every record the base had
//     to explain (run_link: damaged IDs, names that disagree), every record
//     a reviewer decided and every record with an ID ending in 000, found
//     through each batch's index on the records' keys (see scanTouched). All of
//     them are linked again as in a full run, reviewers' decisions since
//     the base taking effect there; but for the explained records the base
//     linked to an untouched person that no touched person contests, which
//     keep the base's link (see reuseLinks).
//   - When a record now goes to another person than in the base, or a ghost
//     takes a link or a merge, that person is touched too, their records
//     (the base's) are fetched by line and all records are linked again,
//     until nothing more changes (see readTouched). A later round starts
//     from the ghosts the first one added (see resetGhosts) and looks up
//     no damaged ID's candidates again while the known IDs stay the same
//     (see candMemo).
//
// An incremental run runs in full instead when there is no base, the as-of
// date differs from the base's, or more than maxTouchedShare of the base's
// persons are touched (reading a few records by ID then costs more than
// reading them all).

// maxTouchedShare is the share of the base's persons above which an
// incremental run runs in full.
const maxTouchedShare = 0.10

// maxRounds bounds the re-reads when links move to untouched persons.
const maxRounds = 4

// fallback stops an incremental run before it writes anything: the run
// goes on in full, and says why.
type fallback struct{ reason string }

func (f *fallback) Error() string { return "incremental comparison falls back: " + f.reason }

func fallBack(format string, args ...any) error { return &fallback{fmt.Sprintf(format, args...)} }

// incremental is an incremental run's view of its base.
type incremental struct {
	base       int64
	asOf       time.Time
	mark       int64
	started    time.Time    // when the base run started
	baseAnchor int64        // the base's anchor, 0 when it wrote every row (see incremental_sparse.go)
	persons    []basePerson // the base's run_person, in ID order
	arena      []byte       // their names
	regions    []string     // region codes, by basePerson.region
	refBatch   []int64      // their records, by basePerson.refs, in current batches and lines
	refLine    []int32
	links      map[recordKey]*linkRow // the base's explained records (current batch and line) → their run_link rows
	reuse      map[recordKey]bool     // this round's explained records taken over from the base (see reuseLinks)
	reused     []recordKey            // the same, in batch and line order
	lines      map[int64][]int32      // current batch → lines to read besides touched IDs
	keys       map[int64][]int64      // current batch → the keys (see batchdiff.Key) of those lines' records, where known (see scanTouched)
	newBatch   map[int64]bool         // the current batches new to the region since the base
	byLine     map[int64][]int32      // current batch → the lines among them whose ID is not known: found by line
	touched    map[uint64]bool
	read       map[uint64]bool       // the touched IDs whose records are in cache
	cache      map[int64][]cachedRow // the records read so far, by batch, in line order
	fetched    int                   // rows read from the batches, and kept, in this round (for the step times)
	kept       int
	ghostOf    []int32  // by base person: its index in the run's state, -1 when touched
	baseOf     []int32  // by index in the run's state: the ghost's base person (ghosts come first)
	cands      candMemo // the candidates found in the last round (see fuzzyLinks)
	emptied    []int32  // the state's ghost slots emptied so far (see resetGhosts)
}

// basePerson is a person of the base run.
type basePerson struct {
	id         uint64
	name       text
	region     uint16
	res        outcome
	refs, nref int32 // into refBatch and refLine
}

func (inc *incremental) find(id uint64) (int, bool) {
	return slices.BinarySearchFunc(inc.persons, id, func(p basePerson, id uint64) int {
		switch {
		case p.id < id:
			return -1
		case p.id > id:
			return 1
		}
		return 0
	})
}

func (inc *incremental) touch(id uint64) { inc.touched[id] = true }

func (inc *incremental) touchText(id string) {
	if v, ok := pack(id); ok {
		inc.touch(v)
	}
}

// incrementalSteps are an incremental run's steps; the first two only
// read, and may fall back to a full run.
func (r *run) incrementalSteps() []step {
	return []step{
		{"确定变动范围", r.planIncremental},
		{"读取变动记录", r.linkTouched},
		{"分类", r.classifyIncremental},
		{"与上次比对", r.compareIncremental},
		{"更新登记库", r.updateRegistry},
		{"汇总", r.summarize},
		{"保存结果", r.saveIncremental},
	}
}

// planIncremental finds the base, what changed since and the persons it
// touches.
func (r *run) planIncremental(ctx context.Context) error {
	inc := &incremental{links: map[recordKey]*linkRow{}, lines: map[int64][]int32{}, touched: map[uint64]bool{},
		keys: map[int64][]int64{}, newBatch: map[int64]bool{}, byLine: map[int64][]int32{}}
	var baseBatches []int64
	var mark *int64
	var region string
	err := r.tx.QueryRow(ctx, `SELECT id, region_code, as_of, batches, event_mark, started_at, coalesce(anchor, 0) FROM comparison_run
		WHERE region_code = $1 AND status = 'done' AND id < $2 ORDER BY id DESC LIMIT 1`, r.req.Region, r.id).
		Scan(&inc.base, &region, &inc.asOf, &baseBatches, &mark, &inc.started, &inc.baseAnchor)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fallBack("该区划还没有完成的比对")
	case err != nil:
		return fmt.Errorf("base run: %w", err)
	case !inc.asOf.Equal(r.req.AsOf):
		return fallBack("基准日与上次比对（%s）不同", inc.asOf.Format("2006-01-02"))
	case mark == nil:
		return fallBack("上次比对早于增量比对功能")
	}
	inc.mark = *mark
	// The base's persons and explained records are read on connections
	// of their own while this one diffs the batches: all are committed and
	// never change (a run's partition is written once, a batch's records
	// too), and the reads take about as long.
	t := time.Now()
	base, linked := make(chan error, 1), make(chan error, 1)
	var baseTook time.Duration
	var from string
	var links []baseLink
	go func() {
		var err error
		from, err = inc.loadBase(ctx, r.db)
		baseTook = time.Since(t)
		base <- err
	}()
	go func() {
		var err error
		links, err = inc.fetchLinks(ctx, r.db)
		linked <- err
	}()
	ch, err := r.batchChanges(ctx, baseBatches)
	diffTook := time.Since(t)
	if err := errors.Join(<-base, <-linked); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	r.parts = append(r.parts, StepTime{"· 读取上次结果（" + from + "，同时）", baseTook}, StepTime{fmt.Sprintf("· 比较批次（同时；%d/%d 对用导入时记下的变化）", ch.recorded, len(ch.pairs)), diffTook})
	t = time.Now()
	if err := inc.remap(ch); err != nil {
		return err
	}
	inc.readLinks(ch, links)
	t = r.lap("读取上次关联", t)
	if err := r.touchChanged(ctx, inc, ch); err != nil {
		return err
	}
	r.lap("变动人员", t)
	r.inc = inc
	if err := inc.checkSize(); err != nil {
		return err
	}
	sp, err := r.planSparse(ctx)
	if err != nil || sp != nil {
		r.sparse = sp
		return err
	}
	return r.startGhostRows(ctx)
}

func (inc *incremental) checkSize() error {
	if limit := int(maxTouchedShare * float64(len(inc.persons))); len(inc.touched) > limit {
		return fallBack("变动人员 %d 人，超过上次比对人员的 %d%%", len(inc.touched), int(maxTouchedShare*100))
	}
	return nil
}

// readBase reads the base's persons: ID, name, region, result and records.
// The base's persons, from a run that wrote every row, and from a sparse
// run (see incremental_sparse.go), whose records are derived.
const (
	qBaseRows = `SELECT id_number, name, region_code, in_universe, pension, medical, flags, survey, record_batches, record_lines
		FROM run_person_row WHERE run_id = $1`
	qSparseBaseRows = `SELECT p.id_number, p.name, p.region_code, p.in_universe, p.pension, p.medical, p.flags, p.survey,
		       coalesce(r.batches, '{}'), coalesce(r.lines, '{}')
		FROM run_persons($1) p
		LEFT JOIN (SELECT id_number, array_agg(batch_id ORDER BY batch_id, line) AS batches, array_agg(line ORDER BY batch_id, line) AS lines
		           FROM run_records($1) GROUP BY id_number) r ON r.id_number = p.id_number`
)

func (inc *incremental) readBase(ctx context.Context, db *pgxpool.Pool) error {
	q := qBaseRows
	if inc.baseAnchor != 0 {
		q = qSparseBaseRows
	}
	rows, err := db.Query(ctx, q, pgx.QueryResultFormats{pgx.BinaryFormatCode}, inc.base)
	if err != nil {
		return fmt.Errorf("base persons: %w", err)
	}
	defer rows.Close()
	regions := map[string]uint16{}
	for rows.Next() {
		v := rows.RawValues()
		id, ok := batchdiff.Pack(v[0])
		if !ok {
			continue // cannot happen: run_person holds valid IDs
		}
		reg, ok := regions[string(v[2])]
		if !ok {
			reg = uint16(len(inc.regions))
			regions[string(v[2])] = reg
			inc.regions = append(inc.regions, string(v[2]))
		}
		p := basePerson{id: id, name: text{uint32(len(inc.arena)), uint32(len(v[1]))}, region: reg,
			res: outcome{pension: statusIndex(v[4]), medical: statusIndex(v[5]), flags: uint16(binary.BigEndian.Uint32(v[6])),
				universe: v[3][0] == 1, survey: v[7][0] == 1},
			refs: int32(len(inc.refBatch))}
		inc.arena = append(inc.arena, v[1]...)
		inc.refBatch = appendInt8Array(inc.refBatch, v[8])
		inc.refLine = appendInt4Array(inc.refLine, v[9])
		p.nref = int32(len(inc.refBatch)) - p.refs
		inc.persons = append(inc.persons, p)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("base persons: %w", err)
	}
	slices.SortFunc(inc.persons, func(a, b basePerson) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	return nil
}

func statusIndex(b []byte) uint8 {
	return uint8(max(0, slices.Index(statuses, string(b))))
}

// arrayElems walks a one-dimensional binary array's elements.
func arrayElems(b []byte, fn func([]byte)) {
	if len(b) < 12 || binary.BigEndian.Uint32(b) == 0 {
		return
	}
	b = b[20:] // ndim, flags, element type, then one dimension's size and lower bound
	for len(b) >= 4 {
		n := int32(binary.BigEndian.Uint32(b))
		b = b[4:]
		if n < 0 {
			continue
		}
		fn(b[:n])
		b = b[n:]
	}
}

func appendInt8Array(out []int64, b []byte) []int64 {
	arrayElems(b, func(e []byte) { out = append(out, int64(binary.BigEndian.Uint64(e))) })
	return out
}

func appendInt4Array(out []int32, b []byte) []int32 {
	arrayElems(b, func(e []byte) { out = append(out, int32(binary.BigEndian.Uint32(e))) })
	return out
}

// changes are the batch changes since the base.
type changes struct {
	pairs     map[int64]*batchdiff.Diff // by the old batch
	withdrawn []int64                   // the base's batches gone without a successor in this run
	added     []int64                   // this run's batches new without a predecessor
	recorded  int                       // pairs whose change the import recorded (the others were compared here)
}

// batchChanges pairs the base's batches with this run's: the same, one
// superseding the other, withdrawn or added. A pair's change is the one
// its import recorded, else the two batches are compared here.
func (r *run) batchChanges(ctx context.Context, baseBatches []int64) (*changes, error) {
	ch := &changes{pairs: map[int64]*batchdiff.Diff{}}
	current := map[int64]bool{}
	for _, b := range r.batches {
		current[b.ID] = true
	}
	inBase := map[int64]bool{}
	for _, id := range baseBatches {
		inBase[id] = true
	}
	paired := map[int64]bool{}
	for _, old := range baseBatches {
		if current[old] {
			continue
		}
		n, ok, err := r.successor(ctx, old, current)
		if err != nil {
			return nil, err
		}
		if !ok || inBase[n] || paired[n] || !r.sameSlot(old, n, inBase) {
			ch.withdrawn = append(ch.withdrawn, old)
			continue
		}
		same, err := batchdiff.SameLayout(ctx, r.tx, old, n)
		if err != nil {
			return nil, err
		}
		if !same {
			ch.withdrawn = append(ch.withdrawn, old)
			continue
		}
		paired[n] = true
		p, ok, err := batchdiff.Load(ctx, r.tx, old, n)
		if err != nil {
			return nil, err
		}
		if ok {
			ch.recorded++
		} else if p, err = diffBatches(ctx, r.tx, old, n); err != nil {
			return nil, err
		}
		ch.pairs[old] = p
	}
	for _, b := range r.batches {
		if !inBase[b.ID] && !paired[b.ID] {
			ch.added = append(ch.added, b.ID)
		}
	}
	return ch, nil
}

// successor follows a batch's chain of superseding batches to one of this
// run's.
func (r *run) successor(ctx context.Context, id int64, current map[int64]bool) (int64, bool, error) {
	for range 100 {
		var next *int64
		if err := r.tx.QueryRow(ctx, `SELECT superseded_by FROM import_batch WHERE id = $1`, id).Scan(&next); err != nil {
			return 0, false, fmt.Errorf("successor of batch %d: %w", id, err)
		}
		if next == nil {
			return 0, false, nil
		}
		if current[*next] {
			return *next, true, nil
		}
		id = *next
	}
	return 0, false, nil
}

// sameSlot tells whether batch n takes old's place in the order records
// are read (by tier, then batch id): no other batch of the tier, in the
// base or now, lies between them.
func (r *run) sameSlot(old, n int64, inBase map[int64]bool) bool {
	tier := 0
	for _, b := range r.batches {
		if b.ID == n {
			tier = kindPriority(b.Kind)
		}
	}
	for _, b := range r.batches {
		if b.ID != n && kindPriority(b.Kind) == tier && b.ID > old && b.ID < n {
			return false
		}
	}
	return true
}

// readRawHashes reads a batch's lines with a hash of their cells and
// their valid IDs: what batches imported before there were digests are
// compared by.
func readRawHashes(ctx context.Context, tx pgx.Tx, batch int64) ([]batchdiff.Row, error) {
	rows, err := tx.Query(ctx, `SELECT line, hashtextextended(raw, 0), id_norm FROM source_record WHERE batch_id = $1`,
		pgx.QueryResultFormats{pgx.BinaryFormatCode}, batch)
	if err != nil {
		return nil, fmt.Errorf("read batch %d: %w", batch, err)
	}
	defer rows.Close()
	var out []batchdiff.Row
	for rows.Next() {
		v := rows.RawValues()
		h := batchdiff.Row{Line: int32(binary.BigEndian.Uint32(v[0])), Hash: int64(binary.BigEndian.Uint64(v[1]))}
		h.ID, _ = batchdiff.Pack(v[2])
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read batch %d: %w", batch, err)
	}
	if !batchdiff.Ordered(out) {
		return nil, fallBack("批次 %d 有重复的行号", batch)
	}
	return out, nil
}

// diffBatches compares batch n with old, the batch it superseded, when
// its import recorded no change (see batchdiff): by their digests
// (row_hash), or when either lacks one by a hash of the cells of both.
func diffBatches(ctx context.Context, tx pgx.Tx, old, n int64) (*batchdiff.Diff, error) {
	o, okO, err := batchdiff.ReadRows(ctx, tx, old)
	if err != nil {
		return nil, err
	}
	nw, okN, err := batchdiff.ReadRows(ctx, tx, n)
	if err != nil {
		return nil, err
	}
	if !okO || !okN {
		if o, err = readRawHashes(ctx, tx, old); err != nil {
			return nil, err
		}
		if nw, err = readRawHashes(ctx, tx, n); err != nil {
			return nil, err
		}
	}
	return batchdiff.Compute(old, n, o, nw), nil
}

// remap moves the base persons' records to this run's batches and lines,
// touching the persons that lost one.
func (inc *incremental) remap(ch *changes) error {
	// The few batches withdrawn or superseded, looked through for each
	// of the millions of records instead of two maps.
	type fate struct {
		batch int64
		pair  *batchdiff.Diff // nil: withdrawn
	}
	var fates []fate
	for _, b := range ch.withdrawn {
		fates = append(fates, fate{batch: b})
	}
	for b, pr := range ch.pairs {
		fates = append(fates, fate{b, pr})
	}
	for i := range inc.persons {
		p := &inc.persons[i]
		for j := p.refs; j < p.refs+p.nref; j++ {
			b, line := inc.refBatch[j], inc.refLine[j]
			k := 0
			for k < len(fates) && fates[k].batch != b {
				k++
			}
			switch {
			case k == len(fates): // the same batch
			case fates[k].pair == nil:
				inc.touch(p.id)
			case int(line) >= len(fates[k].pair.LineMap) || fates[k].pair.LineMap[line] < 0:
				inc.touch(p.id)
			default:
				pr := fates[k].pair
				inc.refBatch[j], inc.refLine[j] = pr.New, pr.LineMap[line]
			}
		}
		if endsIn000(p.id) {
			inc.touch(p.id)
		}
	}
	return nil
}

// baseLink is a record the base explained (run_link): where it was, its
// own valid ID ("" none) and its row.
type baseLink struct {
	k   recordKey
	own string
	row *linkRow
}

// linkRow is a run_link row but for its place ("" for NULL): linked is
// the person the record was linked to. A base's is written again as it
// was for a record the run takes over (see reuseLinks).
type linkRow struct {
	linked, method, reason, kind, idNorm, damage, name, region string
	nameDiff                                                   bool
}

// fetchLinks reads the base's explained records.
func (inc *incremental) fetchLinks(ctx context.Context, db *pgxpool.Pool) ([]baseLink, error) {
	rows, err := db.Query(ctx, `SELECT batch_id, line, coalesce(id_number, ''), CASE WHEN id_damage IS NULL THEN coalesce(id_norm, '') ELSE '' END,
			method, name_diff, reason, kind, id_norm, id_damage, name, region_code
		FROM run_link WHERE run_id = $1`, pgx.QueryResultFormats{pgx.BinaryFormatCode}, inc.base)
	if err != nil {
		return nil, fmt.Errorf("base links: %w", err)
	}
	defer rows.Close()
	var out []baseLink
	for rows.Next() {
		v := rows.RawValues()
		row := &linkRow{linked: string(v[2]), method: string(v[4]), nameDiff: len(v[5]) == 1 && v[5][0] == 1, reason: string(v[6]), kind: string(v[7]),
			idNorm: string(v[8]), damage: string(v[9]), name: string(v[10]), region: string(v[11])}
		out = append(out, baseLink{recordKey{int64(binary.BigEndian.Uint64(v[0])), int32(binary.BigEndian.Uint32(v[1]))}, string(v[3]), row})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("base links: %w", err)
	}
	return out, nil
}

// readLinks takes the base's explained records (see fetchLinks) under
// their current batch and line, and the lines to read again.
func (inc *incremental) readLinks(ch *changes, links []baseLink) {
	withdrawn := map[int64]bool{}
	for _, b := range ch.withdrawn {
		withdrawn[b] = true
	}
	for _, l := range links {
		k, id, own := l.k, l.row.linked, l.own
		// A record with a valid ID of its own that the base linked
		// elsewhere, or left unlinked, may link to its own ID's person when
		// read again (or to the person a mangled ID was merged into): both
		// touched now are read in the first round instead of costing a
		// second one.
		if own != "" && own != id {
			inc.touchText(own)
			inc.touchText(id)
		}
		if withdrawn[k.batch] {
			inc.touchText(id)
			continue
		}
		if pr, ok := ch.pairs[k.batch]; ok {
			if int(k.line) >= len(pr.LineMap) || pr.LineMap[k.line] < 0 {
				inc.touchText(id)
				continue
			}
			k = recordKey{pr.New, pr.LineMap[k.line]}
		}
		inc.links[k] = l.row
		inc.lines[k.batch] = append(inc.lines[k.batch], k.line)
		if v, ok := pack(own); ok {
			inc.keys[k.batch] = append(inc.keys[k.batch], int64(v))
		} else if own != "" {
			inc.byLine[k.batch] = append(inc.byLine[k.batch], k.line)
		}
	}
}

// touchChanged touches the IDs of added and removed records, those of
// batches new to the run, and the persons whose registry entry changed
// after the base; and adds the lines to read of decided and added records.
// The persons a newer batch lists whose registry entry another source
// corrected before it was imported: found by key where the batch has
// keys, else by joining its records.
const (
	qCorrectedKeyed = `SELECT DISTINCT e.id_number FROM person_event e
		WHERE e.source_kind <> 'compare' AND e.recorded_at < (SELECT created_at FROM import_batch WHERE id = $1)
		  AND EXISTS (SELECT FROM source_record s WHERE s.batch_id = $1 AND s.id_key = id_key(e.id_number))`
	qCorrected = `SELECT DISTINCT e.id_number FROM person_event e JOIN source_record s ON s.batch_id = $1 AND s.id_norm = e.id_number
		WHERE e.source_kind <> 'compare' AND e.recorded_at < (SELECT created_at FROM import_batch WHERE id = $1)`
)

func (r *run) touchChanged(ctx context.Context, inc *incremental, ch *changes) error {
	ids := func(q string, args ...any) error {
		rows, err := r.tx.Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("touched persons: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			inc.touchText(id)
		}
		return rows.Err()
	}
	for _, p := range ch.pairs {
		for _, id := range p.IDs {
			inc.touch(id)
			inc.keys[p.New] = append(inc.keys[p.New], int64(id))
		}
		inc.lines[p.New] = append(inc.lines[p.New], p.Added...)
	}
	for _, b := range ch.added {
		inc.newBatch[b] = true
		if err := ids(`SELECT DISTINCT id_norm FROM source_record WHERE batch_id = $1 AND id_norm IS NOT NULL`, b); err != nil {
			return err
		}
	}
	if err := ids(`SELECT DISTINCT id_number FROM person_event WHERE id > $1`, inc.mark); err != nil {
		return err
	}
	// A correction (a survey form, a manual change, an extract's event)
	// holds against the extracts imported before it; a newer extract that
	// still disagrees wins again (see registry.keepCorrections), in a full
	// run for every person it lists, changed or not.
	for _, p := range ch.pairs {
		keyed, err := hasKeys(ctx, r.tx, p.New)
		if err != nil {
			return err
		}
		q := qCorrectedKeyed
		if !keyed {
			q = qCorrected
		}
		if err := ids(q, p.New); err != nil {
			return err
		}
	}
	// A survey form approved, returned or superseded since may change who
	// is a survey target.
	if err := ids(`SELECT DISTINCT m.id_number FROM survey_form f JOIN survey_member m ON m.id = f.member_id
		WHERE f.updated_at >= $1 OR f.reviewed_at >= $1`, inc.started); err != nil {
		return err
	}
	rows, err := r.tx.Query(ctx, `SELECT batch_id, line FROM link_decision WHERE batch_id = ANY($1)`, batchIDs(r.batches))
	if err != nil {
		return fmt.Errorf("decided records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k recordKey
		if err := rows.Scan(&k.batch, &k.line); err != nil {
			return err
		}
		inc.lines[k.batch] = append(inc.lines[k.batch], k.line)
		inc.byLine[k.batch] = append(inc.byLine[k.batch], k.line)
	}
	return rows.Err()
}

// linkTouched reads the touched persons' records and every record to
// explain, with the untouched persons as ghosts, and links them as a full
// run does; until no link moves to or from an untouched person.
func (r *run) linkTouched(ctx context.Context) error {
	inc := r.inc
	for round := 1; ; round++ {
		decisions, err := r.decisions(ctx)
		if err != nil {
			return err
		}
		t := time.Now()
		if err := r.readTouched(ctx); err != nil {
			return err
		}
		t = r.lap(fmt.Sprintf("第 %d 轮 读取记录（取回 %d 条，留下 %d 条）", round, inc.fetched, inc.kept), t)
		inc.fetched, inc.kept = 0, 0
		inc.reuseLinks(decisions)
		r.state = inc.stateFor(r, decisions)
		inc.replay(r.state)
		t = r.lap(fmt.Sprintf("第 %d 轮 加入人员和记录", round), t)
		if err := r.fuzzyLinks(ctx); err != nil {
			return err
		}
		r.lap(fmt.Sprintf("第 %d 轮 模糊关联", round), t)
		more := inc.moved(r.state)
		if more == 0 {
			r.note = fmt.Sprintf("变动人员 %d 人，%d 轮读取 %d 条记录", len(inc.touched), round, r.state.records)
			return nil
		}
		if err := inc.checkSize(); err != nil {
			return err
		}
		if round == maxRounds {
			return fallBack("关联变动未能在 %d 轮内确定", maxRounds)
		}
	}
}

// stateFor returns a round's fresh state with the ghosts in it, before
// any record. The first round builds it (see addGhosts); a later one takes
// the previous round's state back to its ghosts (see resetGhosts) instead
// of adding a million of them again.
func (inc *incremental) stateFor(r *run, decisions map[recordKey]decision) *state {
	if inc.ghostOf == nil || r.state == nil {
		// Room for the records read and the persons they found, besides
		// the ghosts (not newState's room for every record of the batches).
		rows := 0
		for _, c := range inc.cache {
			rows += len(c)
		}
		s := newStateSized(r.req.Region, r.batches, decisions, rows, rows)
		inc.addGhosts(s)
		return s
	}
	inc.cands.sealNames(r.state)
	return inc.resetGhosts(r.state, newStateSized(r.req.Region, r.batches, decisions, 0, 0))
}

// addGhosts adds the untouched base persons to a fresh state, before any
// record: known by ID and name, never an identity to improve. They come
// in ID order (see state.sorted), found by their IDs (state.ghostIDs)
// rather than through the index: a million map inserts cost more than
// the binary searches of the few records that look a ghost up. The
// state's arena starts as a copy of the base's names, where the ghosts'
// names stay.
func (inc *incremental) addGhosts(s *state) {
	inc.ghostOf = make([]int32, len(inc.persons))
	inc.baseOf = inc.baseOf[:0]
	s.arena = append(slices.Grow(s.arena[:0], len(inc.arena)+cap(s.arena)), inc.arena...)
	s.persons = slices.Grow(s.persons[:0], len(inc.persons)+cap(s.persons))
	s.ghostIDs = make([]uint64, 0, len(inc.persons))
	inc.emptied = nil
	for i := range inc.persons {
		p := &inc.persons[i]
		if inc.touched[p.id] {
			inc.ghostOf[i] = -1
			continue
		}
		inc.ghostOf[i] = int32(len(s.persons))
		s.persons = append(s.persons, inc.ghost(p))
		s.ghostIDs = append(s.ghostIDs, p.id)
		inc.baseOf = append(inc.baseOf, int32(i))
	}
	s.sorted = len(s.persons)
	s.ghostIdx = newSortedIDs(s.ghostIDs)
}

// ghost is a base person as a ghost of the state (its name where
// addGhosts left it in the state's arena).
func (inc *incremental) ghost(p *basePerson) person {
	return person{id: p.id, name: p.name, death: noDate, ghost: true}
}

// resetGhosts moves the previous round's persons, ghost IDs and arena
// into the fresh state s, taken back to the ghosts as addGhosts left
// them: the persons the round added are dropped (the fresh index holds
// none of them), the ghosts' facts and links restored, and the ghosts
// touched since become empty slots (merged, nameless, without links:
// nothing counts, finds or names them) so that their records found
// persons of their own, as when the ghosts are added afresh. Persons'
// positions in the state decide no result (every result is taken in ID
// order).
func (inc *incremental) resetGhosts(old, s *state) *state {
	n := len(inc.baseOf)
	ps := old.persons[:n]
	for pi := range ps {
		i := inc.baseOf[pi]
		b := &inc.persons[i]
		switch {
		case inc.ghostOf[i] != int32(pi): // emptied in an earlier round
		case inc.touched[b.id]:
			ps[pi] = person{id: b.id, death: noDate, merged: true}
			inc.ghostOf[i] = -1
			inc.emptied = append(inc.emptied, int32(pi))
		default:
			ps[pi] = inc.ghost(b)
		}
	}
	slices.Sort(inc.emptied)
	s.persons, s.ghostIDs, s.ghostIdx, s.emptied = ps, old.ghostIDs, old.ghostIdx, inc.emptied
	s.arena, s.sorted = old.arena[:len(inc.arena)], n
	s.linkPerson, s.linkBatch, s.linkLine = old.linkPerson[:0], old.linkBatch[:0], old.linkLine[:0]
	return s
}

func batchesOf(bs []runBatch) []batch {
	out := make([]batch, len(bs))
	for i, b := range bs {
		out[i] = b.batch
	}
	return out
}

// moved touches the persons a record now reaches or no longer reaches
// that were ghosts, and returns how many it touched.
func (inc *incremental) moved(s *state) int {
	n := 0
	touchGhost := func(pi int32) {
		if pi >= 0 && s.persons[pi].ghost && !inc.touched[s.persons[pi].id] {
			inc.touch(s.persons[pi].id)
			n++
		}
	}
	for _, pi := range s.ghostHits {
		touchGhost(pi)
	}
	pending := make(map[recordKey]bool, len(s.pending))
	for _, p := range s.pending {
		k := recordKey{p.batchID, p.line}
		pending[k] = true
		// Not explained, the base linked it by its own valid ID (a
		// reviewer may have decided it since, from an older run's queue),
		// or it is new and its ID touched already.
		was := p.id
		if l, explained := inc.links[k]; explained {
			was = l.linked
		}
		if was != p.linked {
			if pi, ok := s.lookup(was); ok {
				touchGhost(pi)
			}
			if pi, ok := s.lookup(p.linked); ok {
				touchGhost(pi)
			}
		}
	}
	for k, l := range inc.links {
		if !pending[k] && !inc.reuse[k] {
			if pi, ok := s.lookup(l.linked); ok {
				touchGhost(pi)
			}
		}
	}
	return n
}

// classifyIncremental classifies the touched persons as classify does
// for a full run (classify itself, so every rule it applies applies
// here) and takes the ghosts' results and regions from the base, all in ID
// order.
func (r *run) classifyIncremental(ctx context.Context) error {
	if err := r.classify(ctx); err != nil {
		return err
	}
	s, inc := r.state, r.inc
	// classify met the ghosts that took a record to explain, as in the
	// base, and none of the others: all of them take the base's result.
	type entry struct {
		id uint64
		pi int32
		k  int32 // position in classify's order, -1 for a ghost it did not meet
	}
	// Both are in ID order (classify's, and the ghosts' as the base's
	// persons): merged, not sorted.
	all := make([]entry, 0, len(r.order)+len(inc.persons))
	k := 0
	for _, pi := range inc.ghostOf {
		if pi < 0 || r.pos[pi] >= 0 {
			continue
		}
		id := s.persons[pi].id
		for ; k < len(r.order) && s.persons[r.order[k]].id < id; k++ {
			all = append(all, entry{s.persons[r.order[k]].id, r.order[k], int32(k)})
		}
		all = append(all, entry{id, pi, -1})
	}
	for ; k < len(r.order); k++ {
		all = append(all, entry{s.persons[r.order[k]].id, r.order[k], int32(k)})
	}
	order := make([]int32, len(all))
	results := make([]outcome, len(all))
	regions := make([]uint32, len(all))
	// The base's regions as the state's dict ids, each looked up once, when
	// a ghost first needs it (the dict numbers values as they come).
	regionIDs := make([]uint32, len(inc.regions))
	for k, e := range all {
		order[k] = e.pi
		if s.persons[e.pi].ghost {
			b := &inc.persons[inc.baseOf[e.pi]]
			if regionIDs[b.region] == 0 {
				regionIDs[b.region] = s.dict.id([]byte(inc.regions[b.region]))
			}
			results[k], regions[k] = b.res, regionIDs[b.region]
		} else {
			results[k], regions[k] = r.results[e.k], r.regions[e.k]
		}
	}
	for k, pi := range order {
		r.pos[pi] = int32(k)
	}
	r.order, r.results, r.regions = order, results, regions
	return ctx.Err()
}

// compareIncremental marks what changed since the base, as
// compareWithBase does: ghosts are as they were.
func (r *run) compareIncremental(ctx context.Context) error {
	r.startSnapshot() // the results are final
	s, inc := r.state, r.inc
	r.base = inc.base
	r.changed = make([]bool, len(r.order))
	for k, pi := range r.order {
		p := &s.persons[pi]
		if p.ghost {
			continue
		}
		bi, ok := inc.find(p.id)
		r.changed[k] = !ok || inc.persons[bi].res != r.results[k]
	}
	for i := range inc.persons {
		b := &inc.persons[i]
		if pi := inc.ghostOf[i]; pi >= 0 && r.pos[pi] >= 0 {
			continue // a ghost: there still (found without the index, a million times)
		}
		if pi, ok := s.find(b.id); ok && r.pos[pi] >= 0 && s.persons[pi].id == b.id {
			continue
		}
		r.gone = append(r.gone, gone{unpack(b.id), string(inc.arena[b.name.off : b.name.off+b.name.n]), inc.regions[b.region]})
	}
	return ctx.Err()
}

// ghostRefs are a ghost's records: the base's, under their current batch
// and line.
func (inc *incremental) ghostRefs(pi int32, batches []int64, lines []int32) ([]int64, []int32) {
	b := &inc.persons[inc.baseOf[pi]]
	batches = append(batches, inc.refBatch[b.refs:b.refs+b.nref]...)
	lines = append(lines, inc.refLine[b.refs:b.refs+b.nref]...)
	return batches, lines
}

// touchedPersons shows an incremental run's touched persons to the
// registry: the ghosts' entries are as the base left them, or changed
// since by another source, which touches the person.
type touchedPersons struct {
	runPersons
	ks  []int32 // positions in the run's order
	pos []int32 // run order position → index into ks, -1 for a ghost
}

func newTouchedPersons(r *run) touchedPersons {
	t := touchedPersons{runPersons: runPersons{r}, pos: make([]int32, len(r.order))}
	for k, pi := range r.order {
		t.pos[k] = -1
		if !r.state.persons[pi].ghost {
			t.pos[k] = int32(len(t.ks))
			t.ks = append(t.ks, int32(k))
		}
	}
	return t
}

// Len implements registry.Persons.
func (t touchedPersons) Len() int { return len(t.ks) }

// ID implements registry.Persons.
func (t touchedPersons) ID(buf []byte, k int) []byte { return t.runPersons.ID(buf, int(t.ks[k])) }

// Asserted implements registry.Dated.
func (t touchedPersons) Asserted(k int) time.Time { return t.runPersons.Asserted(int(t.ks[k])) }

// Find implements registry.Persons.
func (t touchedPersons) Find(id []byte) (int, bool) {
	k, ok := t.runPersons.Find(id)
	if !ok || t.pos[k] < 0 {
		return 0, false
	}
	return int(t.pos[k]), true
}

// Value implements registry.Persons.
func (t touchedPersons) Value(buf []byte, k int, f registry.Field) ([]byte, bool) {
	return t.runPersons.Value(buf, int(t.ks[k]), f)
}
