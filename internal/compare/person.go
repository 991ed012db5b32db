package compare

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/region"
)

// Person is the registry entry of one person with everything behind it.
type Person struct {
	IDNumber, Name, Sex    string
	Birth                  *time.Time
	Household, Relation    string
	HukouRegion, PopStatus string
	IdentityKind           string
	RegionCode             string
	Records                []LinkedRecord
	History                []PersonResult
	Changes                []Change
}

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

// Change is one recorded change of a registry field.
type Change struct {
	RunID                     int64
	Field, OldValue, NewValue string
	At                        time.Time
}

// Person returns a registry entry; outside scope it does not exist.
func (e *Engine) Person(ctx context.Context, scope, id string) (Person, error) {
	var p Person
	err := e.db.QueryRow(ctx, `SELECT id_number, name, coalesce(sex, ''), birth, coalesce(household, ''), coalesce(relation, ''),
		coalesce(hukou_region, ''), coalesce(pop_status, ''), identity_kind, region_code FROM person WHERE id_number = $1`, id).
		Scan(&p.IDNumber, &p.Name, &p.Sex, &p.Birth, &p.Household, &p.Relation, &p.HukouRegion, &p.PopStatus, &p.IdentityKind, &p.RegionCode)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !region.Within(scope, p.RegionCode)) {
		return Person{}, apperr.NotFoundf("登记库中没有该人员")
	}
	if err != nil {
		return Person{}, fmt.Errorf("person: %w", err)
	}
	if p.History, err = e.history(ctx, id); err != nil {
		return Person{}, err
	}
	if len(p.History) > 0 {
		if p.Records, err = e.linkedRecords(ctx, p.History[0].RunID, id); err != nil {
			return Person{}, err
		}
	}
	p.Changes, err = e.changes(ctx, id)
	return p, err
}

func (e *Engine) history(ctx context.Context, id string) ([]PersonResult, error) {
	rows, err := e.db.Query(ctx, `
		SELECT rp.run_id, c.as_of, c.region_code, rp.in_universe, rp.pension, rp.medical, rp.flags, rp.survey
		FROM run_person rp JOIN comparison_run c ON c.id = rp.run_id
		WHERE rp.id_number = $1 ORDER BY rp.run_id DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PersonResult])
}

func (e *Engine) linkedRecords(ctx context.Context, runID int64, id string) ([]LinkedRecord, error) {
	// A record not in run_link was linked by its own valid ID.
	rows, err := e.db.Query(ctx, `
		SELECT r.batch_id, r.line, b.kind, b.file_name, coalesce(l.method, 'exact'), coalesce(l.name_diff, false),
		       coalesce(s.id_damage, 'ok'), b.header, s.raw, b.mapping
		FROM run_person rp
		CROSS JOIN LATERAL unnest(rp.record_batches, rp.record_lines) AS r(batch_id, line)
		-- one record at a time (OFFSET 0 keeps the planner from turning this
		-- into a join over every record): each lookup is pruned to its
		-- batch's partition and found through its BRIN index
		CROSS JOIN LATERAL (SELECT s.raw, s.id_damage FROM source_record s WHERE s.batch_id = r.batch_id AND s.line = r.line OFFSET 0) s
		JOIN import_batch b ON b.id = r.batch_id
		LEFT JOIN run_link l ON l.run_id = rp.run_id AND l.id_number = rp.id_number AND l.batch_id = r.batch_id AND l.line = r.line
		WHERE rp.run_id = $1 AND rp.id_number = $2
		ORDER BY CASE b.kind WHEN '户籍人口' THEN 1 WHEN '居住人口' THEN 2 ELSE 3 END, r.batch_id, r.line`, runID, id)
	if err != nil {
		return nil, fmt.Errorf("linked records: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (LinkedRecord, error) {
		var r LinkedRecord
		var raw string
		err := row.Scan(&r.BatchID, &r.Line, &r.Kind, &r.FileName, &r.Method, &r.NameDiff, &r.IDDamage, &r.Header, &raw, &r.Mapping)
		r.Cells = splitRaw(raw)
		return r, err
	})
}

func (e *Engine) changes(ctx context.Context, id string) ([]Change, error) {
	rows, err := e.db.Query(ctx, `SELECT run_id, field, coalesce(old_value, ''), coalesce(new_value, ''), at
		FROM person_change WHERE id_number = $1 ORDER BY id DESC LIMIT 100`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Change])
}

// DiffRow is a person whose result changed between two runs.
type DiffRow struct {
	IDNumber, Name           string
	OldPension, NewPension   string
	OldMedical, NewMedical   string
	OldFlags, NewFlags       int
	OldUniverse, NewUniverse *bool
}

// Diff lists the persons of region whose classification differs between
// run a (older) and run b, and how many there are.
func (e *Engine) Diff(ctx context.Context, a, b int64, region string, limit, offset int) ([]DiffRow, int, error) {
	const from = `
		FROM (SELECT * FROM run_person WHERE run_id = $1 AND region_code LIKE $3 || '%') o
		FULL JOIN (SELECT * FROM run_person WHERE run_id = $2 AND region_code LIKE $3 || '%') n USING (id_number)
		WHERE (o.pension, o.medical, o.flags, o.in_universe, o.survey) IS DISTINCT FROM (n.pension, n.medical, n.flags, n.in_universe, n.survey)`
	var total int
	if err := e.db.QueryRow(ctx, `SELECT count(*)`+from, a, b, region).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("diff: %w", err)
	}
	rows, err := e.db.Query(ctx, `SELECT id_number, coalesce(n.name, o.name), coalesce(o.pension, ''), coalesce(n.pension, ''),
		coalesce(o.medical, ''), coalesce(n.medical, ''), coalesce(o.flags, 0), coalesce(n.flags, 0), o.in_universe, n.in_universe`+
		from+` ORDER BY id_number LIMIT $4 OFFSET $5`, a, b, region, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("diff: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[DiffRow])
	return list, total, err
}

func splitRaw(raw string) []string { return strings.Split(raw, "\x1f") }
