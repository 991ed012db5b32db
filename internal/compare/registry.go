package compare

import (
	"context"
	"fmt"
	"strings"
)

// updateRegistry writes this run's identities into the registry of
// persons, recording every changed field first so nothing is overwritten
// without history.
func (r *run) updateRegistry(ctx context.Context) error {
	changes := fmt.Sprintf(`
		INSERT INTO person_change (run_id, id_number, field, old_value, new_value)
		SELECT %d, p.id_number, f.field, f.old_value, f.new_value
		FROM person p
		JOIN cmp_ident i ON i.id_number = p.id_number
		JOIN %[2]s c ON c.id_number = p.id_number
		CROSS JOIN LATERAL (VALUES
			('name', p.name, i.name), ('sex', p.sex, i.sex), ('birth', p.birth::text, i.birth::text),
			('household', p.household, i.household), ('relation', p.relation, i.relation),
			('hukou_region', p.hukou_region, i.hukou_region), ('pop_status', p.pop_status, i.pop_status),
			('region_code', p.region_code, c.region_code)) f(field, old_value, new_value)
		WHERE f.old_value IS DISTINCT FROM f.new_value`, r.id, r.persons)
	// New persons are inserted and changed ones updated in two set-based
	// statements: cheaper than an upsert's per-row conflict check when a
	// first run brings a million new persons.
	const fields = `name, sex, birth, household, relation, hukou_region, pop_status, identity_kind, region_code`
	const values = `i.name, i.sex, i.birth, i.household, i.relation, i.hukou_region, i.pop_status, i.kind, c.region_code`
	update := fmt.Sprintf(`
		UPDATE person p SET (%[3]s, last_run, updated_at) = (%[4]s, %[1]d, now())
		FROM cmp_ident i JOIN %[2]s c ON c.id_number = i.id_number
		WHERE p.id_number = i.id_number AND (p.name, p.sex, p.birth, p.household, p.relation, p.hukou_region, p.pop_status,
		      p.identity_kind, p.region_code) IS DISTINCT FROM (%[4]s)`, r.id, r.persons, fields, values)
	insert := fmt.Sprintf(`
		INSERT INTO person (id_number, %[3]s, first_run, last_run)
		SELECT i.id_number, %[4]s, %[1]d, %[1]d
		FROM cmp_ident i JOIN %[2]s c ON c.id_number = i.id_number
		WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.id_number = i.id_number)
		ORDER BY i.id_number`, r.id, r.persons, fields, values)
	return r.exec(ctx, changes, update, insert)
}

// summarize counts every metric for the run's region and each region below
// it where persons live, using the same predicates as the lists.
func (r *run) summarize(ctx context.Context) error {
	var cols []string
	for _, m := range Metrics {
		cols = append(cols, fmt.Sprintf("count(*) FILTER (WHERE %s) AS m%d", m.Where, len(cols)))
	}
	// Each person counts in every region from the run's region down to
	// their own village; one row per (region, metric) holding a non-zero count.
	q := fmt.Sprintf(`
		WITH per_region AS (
			SELECT g.code, %[2]s
			FROM %[5]s rp
			CROSS JOIN LATERAL (SELECT left(rp.region_code, n) AS code FROM unnest(ARRAY[%[3]s]) n
			                    WHERE n >= length($1) AND n <= length(rp.region_code)) g
			GROUP BY g.code)
		INSERT INTO run_summary (run_id, region_code, metric, n)
		SELECT %[1]d, p.code, m.metric, m.n
		FROM per_region p
		CROSS JOIN LATERAL unnest($2::text[], ARRAY[%[4]s]) AS m(metric, n)
		WHERE m.n > 0`, r.id, strings.Join(cols, ", "), levelLengths(r.req.Region), metricColumns(), r.persons)
	keys := make([]string, len(Metrics))
	for i, m := range Metrics {
		keys[i] = m.Key
	}
	if _, err := r.tx.Exec(ctx, q, r.req.Region, keys); err != nil {
		return fmt.Errorf("summaries: %w", err)
	}
	return r.summarizeRecords(ctx)
}

// summarizeRecords counts unmatched and in-review records by the region
// they name (the batch's region when theirs lies outside the run's).
func (r *run) summarizeRecords(ctx context.Context) error {
	q := fmt.Sprintf(`
		WITH rec AS (
			SELECT l.method, CASE WHEN l.region_code LIKE $1 || '%%' THEN l.region_code ELSE $1 END AS code
			FROM %[5]s l
			WHERE l.id_number IS NULL)
		INSERT INTO run_summary (run_id, region_code, metric, n)
		SELECT %[1]d, left(rec.code, n), CASE WHEN rec.method = 'review' THEN '%[2]s' ELSE '%[3]s' END, count(*)
		FROM rec CROSS JOIN LATERAL unnest(ARRAY[%[4]s]) n
		WHERE n >= length($1) AND n <= length(rec.code)
		GROUP BY 2, 3`, r.id, MetricReview, MetricUnmatched, levelLengths(r.req.Region), r.links)
	_, err := r.tx.Exec(ctx, q, r.req.Region)
	return err
}

// levelLengths lists the code lengths from region's level down to villages.
func levelLengths(region string) string {
	var out []string
	for _, n := range []int{0, 2, 4, 6, 9, 12} {
		if n >= len(region) {
			out = append(out, fmt.Sprint(n))
		}
	}
	return strings.Join(out, ",")
}

func metricColumns() string {
	out := make([]string, len(Metrics))
	for i := range Metrics {
		out[i] = fmt.Sprintf("p.m%d", i)
	}
	return strings.Join(out, ", ")
}
