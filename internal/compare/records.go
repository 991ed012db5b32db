package compare

import "strings"

// RecordsOf is the SQL of run_records(run) (migration 000029) for a reader
// of a whole run's records, run being the SQL of the run's id ("$1"): the
// same rows, found by joining the anchor's persons to the records by their
// ID instead of by id_key(ID). Hashing on the expression evaluates it again
// for every record it meets: on a 100,000-person county run_records took
// 1.3 s where this takes 0.5 s. A record's id_key is set exactly when its
// ID is valid and not ending in 000, and id_norm is then that ID, so the
// two joins find the same records. Readers of a few persons keep
// run_records, which finds them through each batch's id_key index.
func RecordsOf(run string) string {
	return strings.ReplaceAll(`
		SELECT p.id_number, x.batch_id, x.line
		FROM run_person_row p, unnest(p.record_batches, p.record_lines) AS x (batch_id, line)
		WHERE p.run_id = RUN
		UNION ALL
		SELECT a.id_number, s.batch_id, s.line
		FROM run_person_row a
		JOIN source_record s ON s.id_norm COLLATE "C" = a.id_number AND s.id_key IS NOT NULL
		WHERE a.run_id = (SELECT anchor FROM comparison_run WHERE id = RUN)
		  AND (SELECT anchor FROM comparison_run WHERE id = RUN) IS NOT NULL -- a full run reads no batch here
		  AND s.batch_id = ANY ((SELECT batches FROM comparison_run WHERE id = RUN)::bigint[])
		  AND NOT EXISTS (SELECT FROM run_person_row o WHERE o.run_id = RUN AND o.id_number = a.id_number)
		  AND NOT EXISTS (SELECT FROM run_person_gone g WHERE g.run_id = RUN AND g.id_number = a.id_number)
		  AND NOT EXISTS (SELECT FROM run_link l WHERE l.run_id = RUN AND l.batch_id = s.batch_id AND l.line = s.line)
		UNION ALL
		SELECT l.id_number COLLATE "C", l.batch_id, l.line
		FROM run_link l
		WHERE l.run_id = RUN AND l.id_number IS NOT NULL
		  AND (SELECT anchor FROM comparison_run WHERE id = RUN) IS NOT NULL
		  AND NOT EXISTS (SELECT FROM run_person_row o WHERE o.run_id = RUN AND o.id_number = l.id_number)`, "RUN", run)
}
