package compare

import (
	"cmp"
	"context"
	"fmt"
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
	// A run holds the person in a row of its own, or (a run with an
	// anchor) as the anchor's row unless it lists them gone. The person's
	// rows are found once, by the primary key of each partition; a
	// run_persons per run would read every partition for every run.
	rows, err := e.db.Query(ctx, `
		WITH mine AS MATERIALIZED (
			SELECT run_id, in_universe, pension, medical, flags, survey FROM run_person_row WHERE id_number = $1)
		SELECT c.id, c.as_of, c.region_code, r.in_universe, r.pension, r.medical, r.flags, r.survey
		FROM comparison_run c JOIN mine r ON r.run_id = c.id
		   OR (r.run_id = c.anchor AND NOT EXISTS (SELECT FROM mine o WHERE o.run_id = c.id)
		       AND NOT EXISTS (SELECT FROM run_person_gone g WHERE g.run_id = c.id AND g.id_number = $1))
		WHERE (`+actor.InScope("c.region_code", "$2")+` OR `+actor.InScope("$2", "c.region_code")+`)
		ORDER BY c.id DESC`, id, a.Region)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PersonResult])
}

// LinkedRecords reads a person's records in a run, with how each was
// linked, in one round trip: the records are found line by line, each
// lookup pruned to its batch's partition as it runs and read through that
// partition's BRIN index. A person the run placed outside the actor's
// region has no records for them.
func (e *Engine) LinkedRecords(ctx context.Context, a actor.Actor, runID int64, id string) ([]LinkedRecord, error) {
	if err := a.Check(actor.CompareRead); err != nil {
		return nil, err
	}
	// A record absent from run_link was linked by its own valid ID.
	q := `
		SELECT b.id, l.line, b.kind, b.file_name, coalesce(s.id_damage, 'ok'), b.header, s.raw, b.mapping,
		       coalesce(k.method, 'exact'), coalesce(k.name_diff, false)
		FROM run_records($1) l
		JOIN import_batch b ON b.id = l.batch_id
		-- OFFSET 0: one line at a time, not a join over the partitions
		CROSS JOIN LATERAL (SELECT s.id_damage, s.raw FROM source_record s WHERE s.batch_id = l.batch_id AND s.line = l.line OFFSET 0) s
		LEFT JOIN run_link k ON k.run_id = $1 AND k.id_number = $2 AND k.batch_id = l.batch_id AND k.line = l.line
		WHERE l.id_number = $2
		  AND EXISTS (SELECT FROM run_persons($1) rp WHERE rp.id_number = $2 AND ` + actor.InScope("rp.region_code", "$3") + `)`
	var out []LinkedRecord
	err := e.byLine(ctx, q, []any{runID, id, a.Region}, func(row pgx.CollectableRow) error {
		var r LinkedRecord
		var raw string
		if err := row.Scan(&r.BatchID, &r.Line, &r.Kind, &r.FileName, &r.IDDamage, &r.Header, &raw, &r.Mapping, &r.Method, &r.NameDiff); err != nil {
			return err
		}
		r.Cells = splitRaw(raw)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("linked records: %w", err)
	}
	slices.SortFunc(out, func(a, b LinkedRecord) int {
		return cmp.Or(kindPriority(a.Kind)-kindPriority(b.Kind), cmp.Compare(a.BatchID, b.BatchID), a.Line-b.Line)
	})
	return out, nil
}

// byLine runs a query that finds records by batch and line in a read-only
// transaction set for it, sent with the transaction's statements in one
// round trip: a batch imported minutes ago has no statistics yet, and
// without them the planner would rather scan the whole batch (a million
// rows) than use its BRIN index, for every line. A failure leaves the
// connection inside the transaction, and the pool then discards it.
func (e *Engine) byLine(ctx context.Context, q string, args []any, row func(pgx.CollectableRow) error) error {
	b := &pgx.Batch{}
	b.Queue(`BEGIN READ ONLY`)
	b.Queue(`SET LOCAL enable_seqscan = off`)
	b.Queue(q, args...)
	b.Queue(`COMMIT`)
	br := e.db.SendBatch(ctx, b)
	defer func() { _ = br.Close() }() // an error is the first statement's that failed, returned below
	for range 2 {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	for rows.Next() {
		if err := row(rows); err != nil {
			rows.Close()
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	_, err = br.Exec()
	return err
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
			SELECT id_number, name FROM run_persons($2) WHERE changed AND ` + actor.InScope("region_code", "$3") + `
			UNION ALL
			SELECT id_number, name FROM run_gone WHERE run_id = $2 AND ` + actor.InScope("region_code", "$3") + `)`
	rows, err := e.db.Query(ctx, d+`, page AS (SELECT * FROM d ORDER BY id_number LIMIT $4 OFFSET $5)
		SELECT p.id_number, p.name, coalesce(o.pension, ''), coalesce(n.pension, ''), coalesce(o.medical, ''), coalesce(n.medical, ''),
		       coalesce(o.flags, 0), coalesce(n.flags, 0), o.in_universe, n.in_universe, (SELECT count(*) FROM d)
		FROM page p
		-- OFFSET 0: each row found by its key, not a join with the whole run
		LEFT JOIN LATERAL (SELECT * FROM run_persons($1) o WHERE o.id_number = p.id_number OFFSET 0) o ON true
		LEFT JOIN LATERAL (SELECT * FROM run_persons($2) n WHERE n.id_number = p.id_number OFFSET 0) n ON true
		ORDER BY p.id_number`, a, b, region, q.Limit(), q.Offset())
	if err != nil {
		return list.Page[DiffRow]{}, fmt.Errorf("diff: %w", err)
	}
	count := `SELECT (SELECT count(*) FROM run_persons($1) WHERE changed AND ` + actor.InScope("region_code", "$2") + `)
		+ (SELECT count(*) FROM run_gone WHERE run_id = $1 AND ` + actor.InScope("region_code", "$2") + `)`
	return e.diffRows(ctx, rows, q, count, b, region)
}

// diffAny compares any two runs by joining them.
func (e *Engine) diffAny(ctx context.Context, a, b int64, region string, q list.Query) (list.Page[DiffRow], error) {
	from := `
		FROM (SELECT * FROM run_persons($1) WHERE ` + actor.InScope("region_code", "$3") + `) o
		FULL JOIN (SELECT * FROM run_persons($2) WHERE ` + actor.InScope("region_code", "$3") + `) n USING (id_number)
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
