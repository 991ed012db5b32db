package pgtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Twin is a sparse run SparseTwin made, and how it holds its persons.
type Twin struct {
	Run    int64 // the new run's id
	Stored int   // rows the run wrote: persons unlike the anchor's, new or changed
	Gone   int   // the anchor's persons it no longer has
	// Kept counts rows stored although like the anchor's, because
	// run_records could not derive their records: records without a key
	// (an ID ending in 000, a mangled ID merged into the person) that
	// run_link does not list. A writer of sparse runs must store them too.
	Kept int
}

// SparseTwin writes the sparse twin of the full run full against anchor,
// an earlier full run of the same region (migration 000029): a new done
// run copying full's comparison_run row with anchor set, whose
// run_person_row partition holds only full's rows that differ from
// anchor's (any column but the record arrays; changed rows too, as an
// anchor's row reads changed = false), with run_person_gone listing
// anchor's persons full lacks, and full's run_link (indexed by line, as
// a sparse run's), run_summary, run_review and run_gone copied. Every reader should answer for the twin
// what it answers for full.
func SparseTwin(t testing.TB, db *pgxpool.Pool, anchor, full int64) Twin {
	t.Helper()
	ctx := context.Background()
	var tw Twin
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		const run = `
			INSERT INTO comparison_run
			SELECT (jsonb_populate_record(NULL::comparison_run,
			        to_jsonb(c) || jsonb_build_object('id', nextval('comparison_run_id_seq'), 'anchor', $1::bigint))).*
			FROM comparison_run c WHERE c.id = $2 AND c.anchor IS NULL AND c.status = 'done'
			RETURNING id`
		if err := tx.QueryRow(ctx, run, anchor, full).Scan(&tw.Run); err != nil {
			return fmt.Errorf("twin run: %w", err)
		}
		// run_records finds the records a sparse run linked otherwise by
		// line, as the writer's index on its run_link lets it.
		if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE run_person_%d PARTITION OF run_person_row FOR VALUES IN (%[1]d);
			CREATE TABLE run_link_%[1]d PARTITION OF run_link FOR VALUES IN (%[1]d);
			CREATE INDEX ON run_link_%[1]d (batch_id, line)`, tw.Run)); err != nil {
			return fmt.Errorf("twin partitions: %w", err)
		}
		for _, q := range []string{
			`INSERT INTO run_link SELECT (jsonb_populate_record(NULL::run_link, to_jsonb(l) || jsonb_build_object('run_id', $1::bigint))).*
			 FROM run_link l WHERE l.run_id = $2`,
			`INSERT INTO run_summary (run_id, region_code, metric, n) SELECT $1, region_code, metric, n FROM run_summary WHERE run_id = $2`,
			`INSERT INTO run_review (run_id, batch_id, line, candidates, scores) SELECT $1, batch_id, line, candidates, scores FROM run_review WHERE run_id = $2`,
			`INSERT INTO run_gone (run_id, id_number, name, region_code) SELECT $1, id_number, name, region_code FROM run_gone WHERE run_id = $2`,
		} {
			if _, err := tx.Exec(ctx, q, tw.Run, full); err != nil {
				return fmt.Errorf("twin: %s: %w", q[:40], err)
			}
		}
		const stored = `
			INSERT INTO run_person_row (run_id, id_number, name, region_code, in_universe, pension, medical, flags, survey,
			                            record_batches, record_lines, changed)
			SELECT $1, b.id_number, b.name, b.region_code, b.in_universe, b.pension, b.medical, b.flags, b.survey,
			       b.record_batches, b.record_lines, b.changed
			FROM run_person_row b LEFT JOIN run_person_row a ON a.run_id = $3 AND a.id_number = b.id_number
			WHERE b.run_id = $2 AND (b.changed OR (a.name, a.region_code, a.in_universe, a.pension, a.medical, a.flags, a.survey)
			      IS DISTINCT FROM (b.name, b.region_code, b.in_universe, b.pension, b.medical, b.flags, b.survey))`
		tag, err := tx.Exec(ctx, stored, tw.Run, full, anchor)
		if err != nil {
			return fmt.Errorf("twin rows: %w", err)
		}
		tw.Stored = int(tag.RowsAffected())
		const gone = `
			INSERT INTO run_person_gone (run_id, id_number)
			SELECT $1, a.id_number FROM run_person_row a
			WHERE a.run_id = $3 AND NOT EXISTS (SELECT FROM run_person_row b WHERE b.run_id = $2 AND b.id_number = a.id_number)`
		if tag, err = tx.Exec(ctx, gone, tw.Run, full, anchor); err != nil {
			return fmt.Errorf("twin gone: %w", err)
		}
		tw.Gone = int(tag.RowsAffected())
		// Storing a person changes what run_records says of them alone.
		const kept = `
			INSERT INTO run_person_row (run_id, id_number, name, region_code, in_universe, pension, medical, flags, survey,
			                            record_batches, record_lines, changed)
			SELECT $1, b.id_number, b.name, b.region_code, b.in_universe, b.pension, b.medical, b.flags, b.survey,
			       b.record_batches, b.record_lines, b.changed
			FROM run_person_row b
			WHERE b.run_id = $2 AND b.id_number IN (
				SELECT id_number FROM (SELECT * FROM run_records($2) EXCEPT ALL SELECT * FROM run_records($1)) x
				UNION
				SELECT id_number FROM (SELECT * FROM run_records($1) EXCEPT ALL SELECT * FROM run_records($2)) y)`
		if tag, err = tx.Exec(ctx, kept, tw.Run, full); err != nil {
			return fmt.Errorf("twin kept rows: %w", err)
		}
		tw.Kept = int(tag.RowsAffected())
		tw.Stored += tw.Kept
		_, err = tx.Exec(ctx, fmt.Sprintf(`ANALYZE run_person_%d, run_link_%[1]d, run_person_gone`, tw.Run))
		return err
	})
	if err != nil {
		t.Fatalf("sparse twin of run %d on %d: %v", full, anchor, err)
	}
	return tw
}
