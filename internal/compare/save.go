package compare

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/batchdiff"
	"github.com/canbao/canbao/internal/pgcopy"
)

// summarize counts every metric for the run's region and each region below
// it where persons live: each person counts in every region from the run's
// down to their own village, each unmatched or in-review record in the
// region it names (the run's when it names one outside).
func (r *run) summarize(ctx context.Context) error {
	levels := levelLengths(r.req.Region)
	counts := map[string][]int{}
	add := func(code string, metric, n int) {
		for _, l := range levels {
			if l > len(code) {
				break
			}
			c := counts[code[:l]]
			if c == nil {
				c = make([]int, len(Metrics)+2)
				counts[code[:l]] = c
			}
			c[metric] += n
		}
	}
	// Persons alike in region and result count alike: a few thousand
	// such groups stand for a million persons, each tested once.
	type group struct {
		region uint32
		o      outcome
	}
	groups := map[group]int{}
	for k, o := range r.results {
		groups[group{r.regions[k], o}]++
	}
	for g, n := range groups {
		res := g.o.result()
		for m, metric := range Metrics {
			if metric.has(res) {
				add(r.state.dict.vals[g.region], m, n)
			}
		}
	}
	review, unmatched := len(Metrics), len(Metrics)+1
	for _, p := range r.state.pending {
		if p.linked != "" {
			continue
		}
		code := r.req.Region
		if p.region != "" && strings.HasPrefix(p.region, r.req.Region) {
			code = p.region
		}
		if p.method == "review" {
			add(code, review, 1)
		} else {
			add(code, unmatched, 1)
		}
	}
	keys := make([]string, 0, len(Metrics)+2)
	for _, m := range Metrics {
		keys = append(keys, m.Key)
	}
	keys = append(keys, MetricReview, MetricUnmatched)
	var rows [][]any
	for code, c := range counts {
		for m, n := range c {
			if n > 0 {
				rows = append(rows, []any{r.id, code, keys[m], n})
			}
		}
	}
	err := r.withCachedPlans(ctx, func() error {
		_, err := r.tx.CopyFrom(ctx, pgx.Identifier{"run_summary"}, []string{"run_id", "region_code", "metric", "n"}, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return fmt.Errorf("summaries: %w", err)
	}
	return nil
}

// levelLengths lists the code lengths from region's level down to villages.
func levelLengths(region string) []int {
	var out []int
	for _, n := range []int{0, 2, 4, 6, 9, 12} {
		if n >= len(region) {
			out = append(out, n)
		}
	}
	return out
}

// personCopyCols are the run_person columns a run writes, in the order
// its rows give them.
const personCopyCols = `run_id, id_number, name, region_code, in_universe, pension, medical, flags, survey, record_batches, record_lines, changed`

// personStatCols are the columns a run's partition is analyzed on. No
// statistics on the record lists: no query filters on them, and their
// element statistics took most of ANALYZE's time.
const personStatCols = `id_number, name, region_code, in_universe, pension, medical, flags, survey, changed`

// writePersons writes the run's run_person partition: one row per person
// with the records linked to them (in the order they were linked; readers
// order them as they need). Rows go in region then ID order: lists and
// diffs read a township or a village, which then lie on neighbouring pages
// instead of one row on each of thousands. A sparse run writes only the
// persons at the positions (of r.order) marked in only.
func (r *run) writePersons(ctx context.Context, only []bool) (int64, error) {
	r.persons = fmt.Sprintf("public.run_person_%d", r.id)
	if err := r.exec(ctx, fmt.Sprintf(`CREATE TABLE %s (LIKE run_person_row INCLUDING DEFAULTS, CHECK (run_id = %d))`, r.persons, r.id)); err != nil {
		return 0, err
	}
	// Frozen: the lists' index-only scans work from the run's first page
	// view on, not only once autovacuum has been round.
	return pgcopy.FromFrozen(ctx, r.tx.Conn().PgConn(), r.persons+" ("+personCopyCols+")", func(e *pgcopy.Encoder) error {
		w := r.newPersonWriter()
		for _, k := range r.byRegion() {
			if only == nil || only[k] {
				e.FlushIfFull()
				w.row(e, k)
			}
		}
		return nil
	})
}

// personWriter writes the run's persons' rows.
type personWriter struct {
	r               *run
	start, byPerson []int32 // person pi's links are byPerson[start[pi]:start[pi+1]]
	batches         []int64
	lines           []int32
	id              []byte
}

func (r *run) newPersonWriter() *personWriter {
	s := r.state
	// The links grouped by person: start[pi] is where person pi's links
	// begin in byPerson.
	start := make([]int32, len(s.persons)+1)
	for _, pi := range s.linkPerson {
		start[pi+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	byPerson := make([]int32, len(s.linkPerson))
	next := slices.Clone(start[:len(s.persons)])
	for li, pi := range s.linkPerson {
		byPerson[next[pi]] = int32(li)
		next[pi]++
	}
	return &personWriter{r: r, start: start, byPerson: byPerson}
}

// row writes the row of the person at position k of the run's order.
func (w *personWriter) row(e *pgcopy.Encoder, k int32) {
	r, s := w.r, w.r.state
	pi := r.order[k]
	w.batches, w.lines = w.batches[:0], w.lines[:0]
	p := &s.persons[pi]
	if p.ghost {
		w.batches, w.lines = r.inc.ghostRefs(pi, w.batches, w.lines)
	} else {
		for _, li := range w.byPerson[w.start[pi]:w.start[pi+1]] {
			w.batches = append(w.batches, s.batches[s.linkBatch[li]].ID)
			w.lines = append(w.lines, s.linkLine[li])
		}
	}
	o := r.results[k]
	w.id = batchdiff.AppendID(w.id[:0], p.id)
	e.Row(12)
	e.Int64(r.id)
	e.TextBytes(w.id)
	if name := s.bytes(p.name); len(name) > 0 {
		e.TextBytes(name)
	} else {
		e.TextNotNull("")
	}
	e.TextNotNull(s.dict.vals[r.regions[k]])
	e.Bool(o.universe)
	e.Text(statuses[o.pension])
	e.Text(statuses[o.medical])
	e.Int32(int32(o.flags))
	e.Bool(o.survey)
	e.Int64Array(w.batches)
	e.Int32Array(w.lines)
	e.Bool(r.changed[k])
}

// byRegion returns the positions of r.order (ID order) sorted by region
// code, keeping ID order within a region: a counting sort over the few
// distinct regions.
func (r *run) byRegion() []int32 {
	vals := r.state.dict.vals
	ids := make([]uint32, len(vals))
	for i := range ids {
		ids[i] = uint32(i)
	}
	slices.SortFunc(ids, func(a, b uint32) int { return strings.Compare(vals[a], vals[b]) })
	rank := make([]int32, len(vals))
	for i, id := range ids {
		rank[id] = int32(i)
	}
	start := make([]int32, len(vals)+1)
	for _, reg := range r.regions {
		start[rank[reg]+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	out := make([]int32, len(r.regions))
	for k, reg := range r.regions {
		out[start[rank[reg]]] = int32(k)
		start[rank[reg]]++
	}
	return out
}

// linkTable names a run's run_link partition.
func linkTable(runID int64) string { return fmt.Sprintf("public.run_link_%d", runID) }

// writeLinks writes the run's run_link partition: the records not linked
// by their own valid ID, with what became of them (those an incremental
// run took over from its base as the base had them), and the review queue.
func (r *run) writeLinks(ctx context.Context) error {
	r.links = linkTable(r.id)
	if err := r.exec(ctx, fmt.Sprintf(`CREATE TABLE %s (LIKE run_link INCLUDING DEFAULTS, CHECK (run_id = %d))`, r.links, r.id)); err != nil {
		return err
	}
	const cols = `run_id, batch_id, line, id_number, method, name_diff, reason, kind, id_norm, id_damage, name, region_code`
	_, err := pgcopy.FromFrozen(ctx, r.tx.Conn().PgConn(), r.links+" ("+cols+")", func(e *pgcopy.Encoder) error {
		for _, p := range r.state.pending {
			damage := p.damage
			if damage == "ok" {
				damage = ""
			}
			encodeLink(e, r.id, recordKey{p.batchID, p.line}, &linkRow{linked: p.linked, method: p.method, nameDiff: p.nameDiff,
				reason: p.reason, kind: p.kind, idNorm: p.id, damage: damage, name: p.name, region: p.region})
		}
		if r.inc != nil {
			for _, k := range r.inc.reused {
				encodeLink(e, r.id, k, r.inc.links[k])
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write run_link: %w", err)
	}
	var reviews [][]any
	for _, p := range r.state.pending {
		if p.method != "review" {
			continue
		}
		ids := make([]string, len(p.candidates))
		scores := make([]float32, len(p.candidates))
		for i, c := range p.candidates {
			ids[i] = c.id
			// two decimals, as shown to the reviewer
			f, _ := strconv.ParseFloat(strconv.FormatFloat(c.score, 'f', 2, 64), 32)
			scores[i] = float32(f)
		}
		reviews = append(reviews, []any{r.id, p.batchID, p.line, ids, scores})
	}
	return r.withCachedPlans(ctx, func() error {
		_, err := r.tx.CopyFrom(ctx, pgx.Identifier{"run_review"}, []string{"run_id", "batch_id", "line", "candidates", "scores"}, pgx.CopyFromRows(reviews))
		return err
	})
}

// encodeLink encodes one run_link row of the columns writeLinks writes.
func encodeLink(e *pgcopy.Encoder, run int64, k recordKey, l *linkRow) {
	e.FlushIfFull()
	e.Row(12)
	e.Int64(run)
	e.Int64(k.batch)
	e.Int32(k.line)
	e.Text(l.linked)
	e.TextNotNull(l.method)
	e.Bool(l.nameDiff)
	e.Text(l.reason)
	e.TextNotNull(l.kind)
	e.Text(l.idNorm)
	e.Text(l.damage)
	e.Text(l.name)
	e.Text(l.region)
}

// writeGone writes the base run's persons no longer in this run.
func (r *run) writeGone(ctx context.Context) error {
	rows := make([][]any, len(r.gone))
	for i, g := range r.gone {
		rows[i] = []any{r.id, g.id, g.name, g.region}
	}
	return r.withCachedPlans(ctx, func() error {
		_, err := r.tx.CopyFrom(ctx, pgx.Identifier{"run_gone"}, []string{"run_id", "id_number", "name", "region_code"}, pgx.CopyFromRows(rows))
		return err
	})
}
