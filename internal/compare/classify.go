package compare

import (
	"context"
	"fmt"
	"math/bits"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/source"
)

// Bits of the per-row fact mask that factsSQL ORs together per person.
const (
	bitHukouLocal = 1 << iota
	bitHukouNormal
	bitResidentLocal
	bitDeath
	bitStudent
	bitPensionOK
	bitLocalActive
	bitAnyActive
	bitInfoError
)

// factsSQL gathers each linked person's Facts in one pass over the run's
// links (%s), which carry the records' facts. Each row's facts become bits
// ORed per person, so five aggregates do the work of sixteen and no
// DISTINCT forces a sort. $1 is the run's region, $2 and $3 the pension and
// medical scheme keys (an active scheme sets its bit), $4 the persons with
// one scheme active in two counties. home picks the person's region:
// hukou, else residence, else an active local enrollment.
const factsSQL = `
	SELECT f.*, i.name, i.birth FROM (
	SELECT l.id_number, bit_or(x.mask), bit_or(x.pension), bit_or(x.medical),
	       min(l.death_date) FILTER (WHERE l.kind = '死亡信息'), min(x.home)
	FROM %s l
	CROSS JOIN LATERAL (SELECT
	       l.kind = '参保信息' AND coalesce(l.enroll_status, 1) <> 4 AND coalesce(l.pay_status, 1) <> 3 AS active,
	       coalesce(l.enroll_status, 1) = 2 OR coalesce(l.pay_status, 1) = 2 AS interrupted,
	       l.region_code LIKE $1 || '%%' AS local,
	       l.kind = '户籍人口' AND l.pop_status = '正常' AS hukou) a
	CROSS JOIN LATERAL (SELECT
	       (CASE WHEN a.hukou AND l.hukou_region LIKE $1 || '%%' THEN 1 ELSE 0 END) |
	       (CASE WHEN a.hukou THEN 2 ELSE 0 END) |
	       (CASE WHEN l.kind = '居住人口' AND a.local THEN 4 ELSE 0 END) |
	       (CASE WHEN l.kind = '死亡信息' THEN 8 ELSE 0 END) |
	       (CASE WHEN l.kind = '在校学生' THEN 16 ELSE 0 END) |
	       (CASE WHEN a.active AND NOT a.interrupted AND l.scheme = ANY($2) THEN 32 ELSE 0 END) |
	       (CASE WHEN a.active AND a.local THEN 64 ELSE 0 END) |
	       (CASE WHEN a.active THEN 128 ELSE 0 END) |
	       (CASE WHEN l.id_damage IS NOT NULL OR l.name_diff THEN 256 ELSE 0 END) AS mask,
	       CASE WHEN a.active THEN coalesce(1 << array_position($2::text[], l.scheme), 0) ELSE 0 END AS pension,
	       CASE WHEN a.active THEN coalesce(1 << array_position($3::text[], l.scheme), 0) ELSE 0 END AS medical,
	       CASE WHEN a.hukou AND l.hukou_region LIKE $1 || '%%' THEN '1' || l.hukou_region
	            WHEN l.kind = '居住人口' AND a.local THEN '2' || l.region_code
	            WHEN a.active AND a.local THEN '3' || l.region_code END AS home) x
	WHERE l.id_number IS NOT NULL
	GROUP BY l.id_number) f
	JOIN cmp_ident i ON i.id_number = f.id_number`

// classify gathers the facts in SQL, applies Classify to each person in
// Go (where the rules are unit-tested) and writes run_person.
func (r *run) classify(ctx context.Context) error {
	pension, medical := schemeKeys(source.GroupPension), schemeKeys(source.GroupMedical)
	r.persons = fmt.Sprintf("public.run_person_%d", r.id)
	if err := r.exec(ctx, fmt.Sprintf(`CREATE TABLE %s (LIKE run_person INCLUDING DEFAULTS, CHECK (run_id = %d))`, r.persons, r.id)); err != nil {
		return err
	}
	crossRegion, err := r.crossRegion(ctx)
	if err != nil {
		return err
	}
	rows, err := r.tx.Query(ctx, fmt.Sprintf(factsSQL, r.links), r.req.Region, pension, medical)
	if err != nil {
		return fmt.Errorf("facts: %w", err)
	}
	// A city has millions of persons: results go through a temporary file
	// rather than memory, then back in with one COPY.
	spool, err := newSpool()
	if err != nil {
		rows.Close()
		return err
	}
	defer spool.close()
	cross := map[string]bool{}
	for _, id := range crossRegion {
		cross[id] = true
	}
	for rows.Next() {
		var (
			id, name                       string
			home                           *string
			death, birth                   *time.Time
			mask, pensionBits, medicalBits int
		)
		if err := rows.Scan(&id, &mask, &pensionBits, &medicalBits, &death, &home, &name, &birth); err != nil {
			rows.Close()
			return err
		}
		f := Facts{
			HukouLocal: mask&bitHukouLocal != 0, HukouNormal: mask&bitHukouNormal != 0,
			ResidentLocal: mask&bitResidentLocal != 0, HasDeath: mask&bitDeath != 0, Student: mask&bitStudent != 0,
			PensionSchemes: bits.OnesCount(uint(pensionBits)), PensionOK: mask&bitPensionOK != 0,
			MedicalSchemes: bits.OnesCount(uint(medicalBits)), CrossRegion: cross[id],
			LocalActive: mask&bitLocalActive != 0, AnyActive: mask&bitAnyActive != 0, InfoError: mask&bitInfoError != 0,
		}
		if death != nil {
			f.DeathDate = *death
		}
		if birth != nil {
			f.Birth = *birth
		}
		region := r.req.Region
		if home != nil {
			region = (*home)[1:]
		}
		res := Classify(f, r.req.AsOf)
		spool.write(strconv.FormatInt(r.id, 10), id, name, region, pgBool(res.Universe), res.Pension, res.Medical,
			strconv.Itoa(res.Flags), pgBool(res.Survey))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	const cols = `run_id, id_number, name, region_code, in_universe, pension, medical, flags, survey`
	if err := spool.copyTo(ctx, r.tx, r.persons+" ("+cols+")"); err != nil {
		return fmt.Errorf("write run_person: %w", err)
	}
	return r.exec(ctx, fmt.Sprintf(`ALTER TABLE %s ADD PRIMARY KEY (id_number, run_id)`, r.persons), `ANALYZE `+r.persons)
}

// crossRegion returns the persons with one scheme active in two or more
// counties (参保地), from a small grouping of the active enrollments.
func (r *run) crossRegion(ctx context.Context) ([]string, error) {
	rows, err := r.tx.Query(ctx, fmt.Sprintf(`
		SELECT DISTINCT id_number FROM (
			SELECT id_number FROM %s
			WHERE id_number IS NOT NULL AND kind = '参保信息' AND scheme IS NOT NULL
			  AND coalesce(enroll_status, 1) <> 4 AND coalesce(pay_status, 1) <> 3
			GROUP BY id_number, scheme
			HAVING min(left(region_code, 6)) <> max(left(region_code, 6))) x`, r.links))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func schemeKeys(group string) []string {
	var out []string
	for _, s := range source.Schemes() {
		if s.Group == group {
			out = append(out, s.Key)
		}
	}
	return out
}
