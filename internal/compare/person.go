package compare

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/list"
)

// LinkedRecord is a source record linked to the person in the latest run,
// with its cells as given.
type LinkedRecord struct {
	BatchID        int64
	Line           int
	Kind, FileName string
	Method         string
	NameDiff       bool
	IDDamage       string
	Header, Cells  []string
	Mapping        map[string]int // field key (source.KeyID, source.KeyName, ...) → index into Header and Cells
}

// PersonResult is the person's classification in one run.
type PersonResult struct {
	RunID            int64
	AsOf             time.Time
	RunRegion        string
	Universe         bool
	Pension, Medical string
	Flags            int
	Survey           bool
}

// Results returns a person's classification in every run that met them
// and that the actor may open (a run of their region, of one inside it or
// of one above it), newest first. The caller has found the person in the
// registry, in scope; a run of another county that also met the person is
// none of the actor's business.
func (e *Engine) Results(ctx context.Context, a actor.Actor, id string) ([]PersonResult, error) {
	if err := a.Check(actor.CompareRead); err != nil {
		return nil, err
	}
	rows, err := e.db.Query(ctx, `
		SELECT rp.run_id, c.as_of, c.region_code, rp.in_universe, rp.pension, rp.medical, rp.flags, rp.survey
		FROM run_person rp JOIN comparison_run c ON c.id = rp.run_id
		WHERE rp.id_number = $1 AND (`+actor.InScope("c.region_code", "$2")+` OR `+actor.InScope("$2", "c.region_code")+`)
		ORDER BY rp.run_id DESC`, id, a.Region)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PersonResult])
}

// LinkedRecords reads a person's records in a run, batch by batch: each
// query is pruned to its batch's partition when planned, and each line is
// found through the partition's BRIN index. A person the run placed
// outside the actor's region has no records for them.
func (e *Engine) LinkedRecords(ctx context.Context, a actor.Actor, runID int64, id string) ([]LinkedRecord, error) {
	if err := a.Check(actor.CompareRead); err != nil {
		return nil, err
	}
	var batches []int64
	var lines []int32
	err := e.db.QueryRow(ctx, `SELECT record_batches, record_lines FROM run_person
		WHERE run_id = $1 AND id_number = $2 AND `+actor.InScope("region_code", "$3"), runID, id, a.Region).
		Scan(&batches, &lines)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("linked records: %w", err)
	}
	byBatch := map[int64][]int32{}
	for i, b := range batches {
		byBatch[b] = append(byBatch[b], lines[i])
	}
	how, err := e.linkMethods(ctx, runID, id)
	if err != nil {
		return nil, err
	}
	var out []LinkedRecord
	err = e.byLine(ctx, func(tx pgx.Tx) error {
		for _, b := range slices.Sorted(maps.Keys(byBatch)) {
			recs, err := batchRecords(ctx, tx, b, byBatch[b], how)
			if err != nil {
				return err
			}
			out = append(out, recs...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b LinkedRecord) int {
		return cmp.Or(kindPriority(a.Kind)-kindPriority(b.Kind), cmp.Compare(a.BatchID, b.BatchID), a.Line-b.Line)
	})
	return out, nil
}

// byLine runs fn in a read-only transaction set for finding records by
// batch and line: a batch imported minutes ago has no statistics yet, and
// without them the planner would rather scan the whole batch (a million
// rows) than use its BRIN index, for every line.
func (e *Engine) byLine(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := e.db.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// batchRecords reads lines of one batch, with how each was linked.
func batchRecords(ctx context.Context, tx pgx.Tx, batch int64, lines []int32, how map[recordKey]linkMethod) ([]LinkedRecord, error) {
	rows, err := tx.Query(ctx, `
			SELECT b.id, s.line, b.kind, b.file_name, coalesce(s.id_damage, 'ok'), b.header, s.raw, b.mapping
			FROM import_batch b
			CROSS JOIN unnest($2::int[]) AS l(line)
			-- OFFSET 0: one line at a time, not a join over the partition
			CROSS JOIN LATERAL (SELECT * FROM source_record s WHERE s.batch_id = $1 AND s.line = l.line OFFSET 0) s
			WHERE b.id = $1`, batch, lines)
	if err != nil {
		return nil, fmt.Errorf("linked records: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (LinkedRecord, error) {
		var r LinkedRecord
		var raw string
		err := row.Scan(&r.BatchID, &r.Line, &r.Kind, &r.FileName, &r.IDDamage, &r.Header, &raw, &r.Mapping)
		r.Cells = splitRaw(raw)
		r.Method = "exact" // a record not in run_link was linked by its own valid ID
		if m, ok := how[recordKey{r.BatchID, int32(r.Line)}]; ok {
			r.Method, r.NameDiff = m.method, m.nameDiff
		}
		return r, err
	})
}

type linkMethod struct {
	method   string
	nameDiff bool
}

// linkMethods returns how a person's records not linked by their own ID
// were linked in a run.
func (e *Engine) linkMethods(ctx context.Context, runID int64, id string) (map[recordKey]linkMethod, error) {
	rows, err := e.db.Query(ctx, `SELECT batch_id, line, method, name_diff FROM run_link WHERE run_id = $1 AND id_number = $2`, runID, id)
	if err != nil {
		return nil, fmt.Errorf("link methods: %w", err)
	}
	defer rows.Close()
	out := map[recordKey]linkMethod{}
	for rows.Next() {
		var k recordKey
		var m linkMethod
		if err := rows.Scan(&k.batch, &k.line, &m.method, &m.nameDiff); err != nil {
			return nil, err
		}
		out[k] = m
	}
	return out, rows.Err()
}

// DiffRow is a person whose result changed between two runs.
type DiffRow struct {
	IDNumber, Name           string
	OldPension, NewPension   string
	OldMedical, NewMedical   string
	OldFlags, NewFlags       int
	OldUniverse, NewUniverse *bool
}

// Diff lists the persons of region (inside the actor's) whose
// classification differs between run a (older) and run b, a page at a time.
func (e *Engine) Diff(ctx context.Context, who actor.Actor, a, b int64, region string, q list.Query) (list.Page[DiffRow], error) {
	if err := who.CheckIn(actor.CompareRead, region, "区划 "+region); err != nil {
		return list.Page[DiffRow]{}, err
	}
	var base *int64
	if err := e.db.QueryRow(ctx, `SELECT base_run FROM comparison_run WHERE id = $1`, b).Scan(&base); err != nil {
		return list.Page[DiffRow]{}, fmt.Errorf("diff: %w", err)
	}
	if base != nil && *base == a {
		return e.diffWithBase(ctx, a, b, region, q)
	}
	return e.diffAny(ctx, a, b, region, q)
}

// diffWithBase lists what run b found changed since its base run a: the
// persons it marked changed (new, or a result unlike a's) in region by
// their region in b, and a's persons b no longer has, by their region in a.
func (e *Engine) diffWithBase(ctx context.Context, a, b int64, region string, q list.Query) (list.Page[DiffRow], error) {
	d := `
		WITH d AS (
			SELECT id_number, name FROM run_person WHERE run_id = $2 AND changed AND ` + actor.InScope("region_code", "$3") + `
			UNION ALL
			SELECT id_number, name FROM run_gone WHERE run_id = $2 AND ` + actor.InScope("region_code", "$3") + `)`
	rows, err := e.db.Query(ctx, d+`, page AS (SELECT * FROM d ORDER BY id_number LIMIT $4 OFFSET $5)
		SELECT p.id_number, p.name, coalesce(o.pension, ''), coalesce(n.pension, ''), coalesce(o.medical, ''), coalesce(n.medical, ''),
		       coalesce(o.flags, 0), coalesce(n.flags, 0), o.in_universe, n.in_universe, (SELECT count(*) FROM d)
		FROM page p
		LEFT JOIN run_person o ON o.run_id = $1 AND o.id_number = p.id_number
		LEFT JOIN run_person n ON n.run_id = $2 AND n.id_number = p.id_number
		ORDER BY p.id_number`, a, b, region, q.Limit(), q.Offset())
	if err != nil {
		return list.Page[DiffRow]{}, fmt.Errorf("diff: %w", err)
	}
	count := `SELECT (SELECT count(*) FROM run_person WHERE run_id = $1 AND changed AND ` + actor.InScope("region_code", "$2") + `)
		+ (SELECT count(*) FROM run_gone WHERE run_id = $1 AND ` + actor.InScope("region_code", "$2") + `)`
	return e.diffRows(ctx, rows, q, count, b, region)
}

// diffAny compares any two runs by joining them.
func (e *Engine) diffAny(ctx context.Context, a, b int64, region string, q list.Query) (list.Page[DiffRow], error) {
	from := `
		FROM (SELECT * FROM run_person WHERE run_id = $1 AND ` + actor.InScope("region_code", "$3") + `) o
		FULL JOIN (SELECT * FROM run_person WHERE run_id = $2 AND ` + actor.InScope("region_code", "$3") + `) n USING (id_number)
		WHERE (o.pension, o.medical, o.flags, o.in_universe, o.survey) IS DISTINCT FROM (n.pension, n.medical, n.flags, n.in_universe, n.survey)`
	// One pass gives the page and the total (a county's diff joins two
	// million rows); only a page past the end needs a count of its own.
	rows, err := e.db.Query(ctx, `SELECT id_number, coalesce(n.name, o.name), coalesce(o.pension, ''), coalesce(n.pension, ''),
		coalesce(o.medical, ''), coalesce(n.medical, ''), coalesce(o.flags, 0), coalesce(n.flags, 0), o.in_universe, n.in_universe,
		count(*) OVER ()`+from+` ORDER BY id_number LIMIT $4 OFFSET $5`, a, b, region, q.Limit(), q.Offset())
	if err != nil {
		return list.Page[DiffRow]{}, fmt.Errorf("diff: %w", err)
	}
	return e.diffRows(ctx, rows, q, `SELECT count(*)`+from, a, b, region)
}

// diffRows reads a page of a diff whose last column is the total; only a
// page past the end needs the count query of its own.
func (e *Engine) diffRows(ctx context.Context, rows pgx.Rows, q list.Query, count string, args ...any) (list.Page[DiffRow], error) {
	defer rows.Close()
	var out []DiffRow
	total := 0
	for rows.Next() {
		var d DiffRow
		if err := rows.Scan(&d.IDNumber, &d.Name, &d.OldPension, &d.NewPension, &d.OldMedical, &d.NewMedical,
			&d.OldFlags, &d.NewFlags, &d.OldUniverse, &d.NewUniverse, &total); err != nil {
			return list.Page[DiffRow]{}, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return list.Page[DiffRow]{}, fmt.Errorf("diff: %w", err)
	}
	if len(out) == 0 && q.Offset() > 0 {
		if err := e.db.QueryRow(ctx, count, args...).Scan(&total); err != nil {
			return list.Page[DiffRow]{}, fmt.Errorf("diff: %w", err)
		}
	}
	return list.Of(out, total, q), nil
}

func splitRaw(raw string) []string { return strings.Split(raw, "\x1f") }
