package compare

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/list"
)

// Run is a comparison run as listed.
type Run struct {
	ID                                          int64
	RegionCode, RegionName                      string
	AsOf                                        time.Time
	Status, Error                               string
	Records, Linked, Review, Unmatched, Persons int
	CreatedName                                 string
	StartedAt                                   time.Time
	DurationMS                                  int
	Mode, ModeNote                              string // full or incremental, and what it touched or why it ran in full
}

const runCols = `c.id, c.region_code, coalesce(r.name, ''), c.as_of, c.status, c.error, c.records, c.linked, c.review,
	c.unmatched, c.persons, c.created_name, c.started_at, c.duration_ms, c.mode, c.mode_note`

// visible: a run of the viewer's region, of a region inside it, or of a
// region above it (a township clerk reads the county run's township part).
var runVisible = `(` + actor.InScope("c.region_code", "$1") + ` OR ` + actor.InScope("$1", "c.region_code") + `)`

// Runs lists the runs visible to the actor, newest first.
func (e *Engine) Runs(ctx context.Context, a actor.Actor, q list.Query) (list.Page[Run], error) {
	if err := a.Check(actor.CompareRead); err != nil {
		return list.Page[Run]{}, err
	}
	scope := a.Region
	var total int
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM comparison_run c WHERE `+runVisible, scope).Scan(&total); err != nil {
		return list.Page[Run]{}, err
	}
	rows, err := e.db.Query(ctx, `SELECT `+runCols+` FROM comparison_run c LEFT JOIN region r ON r.code = c.region_code
		WHERE `+runVisible+` ORDER BY c.id DESC LIMIT $2 OFFSET $3`, scope, q.Limit(), q.Offset())
	if err != nil {
		return list.Page[Run]{}, fmt.Errorf("runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Run])
	return list.Of(runs, total, q), err
}

// GetRun returns one run visible to the actor.
func (e *Engine) GetRun(ctx context.Context, a actor.Actor, id int64) (Run, error) {
	if err := a.Check(actor.CompareRead); err != nil {
		return Run{}, err
	}
	rows, err := e.db.Query(ctx, `SELECT `+runCols+` FROM comparison_run c LEFT JOIN region r ON r.code = c.region_code
		WHERE c.id = $2 AND `+runVisible, a.Region, id)
	if err != nil {
		return Run{}, err
	}
	run, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Run])
	if errors.Is(err, pgx.ErrNoRows) {
		return Run{}, apperr.NotFoundf("比对批次 #%d 不存在", id)
	}
	return run, err
}

// Latest returns the newest successful run covering the actor's region, if any.
func (e *Engine) Latest(ctx context.Context, a actor.Actor) (Run, bool, error) {
	if err := a.Check(actor.CompareRead); err != nil {
		return Run{}, false, err
	}
	rows, err := e.db.Query(ctx, `SELECT `+runCols+` FROM comparison_run c LEFT JOIN region r ON r.code = c.region_code
		WHERE c.status = 'done' AND `+actor.InScope("$1", "c.region_code")+` ORDER BY c.id DESC LIMIT 1`, a.Region)
	if err != nil {
		return Run{}, false, err
	}
	run, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Run])
	if errors.Is(err, pgx.ErrNoRows) {
		return Run{}, false, nil
	}
	return run, err == nil, err
}

// SummaryRow is a region's numbers: metric key → count.
type SummaryRow struct {
	Code, Name string
	Counts     map[string]int
}

// Summary returns the numbers of region (inside the actor's) in a run, and
// of each region directly below it that has any.
func (e *Engine) Summary(ctx context.Context, a actor.Actor, runID int64, region string) (SummaryRow, []SummaryRow, error) {
	if err := a.CheckIn(actor.CompareRead, region, "区划 "+region); err != nil {
		return SummaryRow{}, nil, err
	}
	q := `
		SELECT s.region_code, coalesce(r.name, ''), s.metric, s.n
		FROM run_summary s LEFT JOIN region r ON r.code = s.region_code
		WHERE s.run_id = $1 AND (s.region_code = $2 OR (` + actor.InScope("s.region_code", "$2") + ` AND r.parent_code = $2))
		ORDER BY s.region_code`
	rows, err := e.db.Query(ctx, q, runID, region)
	if err != nil {
		return SummaryRow{}, nil, fmt.Errorf("summary: %w", err)
	}
	defer rows.Close()
	total := SummaryRow{Code: region, Counts: map[string]int{}}
	var children []SummaryRow
	for rows.Next() {
		var code, name, metric string
		var n int
		if err := rows.Scan(&code, &name, &metric, &n); err != nil {
			return SummaryRow{}, nil, err
		}
		if code == region {
			total.Name, total.Counts[metric] = name, n
			continue
		}
		if len(children) == 0 || children[len(children)-1].Code != code {
			children = append(children, SummaryRow{Code: code, Name: name, Counts: map[string]int{}})
		}
		children[len(children)-1].Counts[metric] = n
	}
	return total, children, rows.Err()
}

// PersonRow is a person in a result list (the caller masks the ID).
type PersonRow struct {
	IDNumber, Name, RegionCode string
	Universe                   bool
	Pension, Medical           string
	Flags                      int
	Survey                     bool
}

// Persons lists the persons of region (inside the actor's) matching metric
// in a run; search filters by name or ID prefix. Without it the total is
// the summary's number.
func (e *Engine) Persons(ctx context.Context, a actor.Actor, runID int64, region string, m Metric, search string, lq list.Query) (list.Page[PersonRow], error) {
	if err := a.CheckIn(actor.CompareRead, region, "区划 "+region); err != nil {
		return list.Page[PersonRow]{}, err
	}
	cond := actor.InScope("region_code", "$2") + ` AND (` + m.Where + `)
		AND ($3 = '' OR left(name, 64) LIKE $3 || '%' OR id_number LIKE $3 || '%')`
	// Names are indexed by their first 64 characters; a search of at most
	// 30 (escaped: 60) finds the same persons through that index.
	if r := []rune(search); len(r) > 30 {
		search = string(r[:30])
	}
	q := likeEscape(search)
	total, err := e.countPersons(ctx, runID, region, m, q, ` FROM run_persons($1) WHERE `+cond)
	if err != nil {
		return list.Page[PersonRow]{}, err
	}
	rows, err := e.personPage(ctx, runID, region, q, cond, lq)
	if err != nil {
		return list.Page[PersonRow]{}, fmt.Errorf("persons: %w", err)
	}
	persons, err := pgx.CollectRows(rows, pgx.RowToStructByPos[PersonRow])
	return list.Of(persons, total, lq), err
}

// personCols are the columns of a PersonRow.
const personCols = `id_number, name, region_code, in_universe, pension, medical, flags, survey`

// personPage reads one page of the persons matching cond in
// (region_code, id_number) order, the order of the run_person_region
// index. A page reached by a "next" link seeks past the previous page's
// last key; a jump deep into the list finds the page's keys first, by an
// index-only scan where an index covers the metric (the survey list), and
// only then reads its 50 rows, instead of reading every row it skips.
func (e *Engine) personPage(ctx context.Context, runID int64, region, q, cond string, lq list.Query) (pgx.Rows, error) {
	var anchor *int64
	if err := e.db.QueryRow(ctx, `SELECT anchor FROM comparison_run WHERE id = $1`, runID).Scan(&anchor); err != nil {
		return nil, err
	}
	switch {
	case len(lq.After) == 2:
		return e.db.Query(ctx, inOrder(personCols, cond+` AND (region_code, id_number) > ($6, $7)`, `LIMIT $4`, `LIMIT $4`),
			runID, region, q, lq.Limit(), anchor, lq.After[0], lq.After[1])
	case lq.Offset() > 0:
		return e.db.Query(ctx, `SELECT p.id_number, p.name, p.region_code, p.in_universe, p.pension, p.medical, p.flags, p.survey
			FROM (`+inOrder(`region_code, id_number`, cond, `LIMIT $4::int + $6::int`, `LIMIT $4 OFFSET $6`)+`) k
			-- OFFSET 0: each row found by its key, not a join with the whole run
			CROSS JOIN LATERAL (SELECT * FROM run_persons($1) p WHERE p.id_number = k.id_number OFFSET 0) p
			ORDER BY k.region_code, k.id_number`, runID, region, q, lq.Limit(), anchor, lq.Offset())
	}
	return e.db.Query(ctx, inOrder(personCols, cond, `LIMIT $4`, `LIMIT $4`), runID, region, q, lq.Limit(), anchor)
}

// inOrder selects cols of the persons of run $1 matching cond in
// (region_code, id_number) order, limited by outer: the run's own rows and
// those of its anchor ($5, NULL for a run without one) it keeps (see
// run_persons in migration 000029), each read in its partition's index
// order and limited by inner. Reading run_persons itself would sort the
// whole run for a page: PostgreSQL keeps no index order through a union
// whose branches filter. The anchor is a parameter, not looked up here,
// so that the plan reads its partition alone, by an index-only scan where
// the index covers cols and cond.
func inOrder(cols, cond, inner, outer string) string {
	return `SELECT ` + cols + ` FROM (
		(SELECT ` + cols + ` FROM run_person_row WHERE run_id = $1 AND ` + cond + ` ORDER BY region_code, id_number ` + inner + `)
		UNION ALL
		(SELECT ` + cols + ` FROM run_person_row a WHERE a.run_id = $5::bigint AND ` + cond + `
		   AND NOT EXISTS (SELECT FROM run_person_row o WHERE o.run_id = $1 AND o.id_number = a.id_number)
		   AND NOT EXISTS (SELECT FROM run_person_gone g WHERE g.run_id = $1 AND g.id_number = a.id_number)
		 ORDER BY region_code, id_number ` + inner + `)) p
		ORDER BY region_code, id_number ` + outer
}

// countPersons is the length of a list. Unfiltered, it is the summary's
// number, written by the run from the same predicate (TestSummaryEqualsLists
// holds the two together), which spares counting a million rows per page.
func (e *Engine) countPersons(ctx context.Context, runID int64, region string, m Metric, q, where string) (int, error) {
	if q == "" {
		var n *int
		err := e.db.QueryRow(ctx, `SELECT (SELECT n FROM run_summary WHERE run_id = $1 AND region_code = $2 AND metric = $3)
			WHERE EXISTS (SELECT 1 FROM run_summary WHERE run_id = $1 AND region_code = $2)`, runID, region, m.Key).Scan(&n)
		if err == nil {
			if n == nil {
				return 0, nil
			}
			return *n, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return 0, err
		}
	}
	var total int
	if err := e.db.QueryRow(ctx, `SELECT count(*)`+where, runID, region, q).Scan(&total); err != nil {
		return 0, fmt.Errorf("count persons: %w", err)
	}
	return total, nil
}

// RecordRow is an unmatched or in-review record.
type RecordRow struct {
	BatchID        int64
	Line           int
	Kind, FileName string
	IDNorm, Name   string
	Damage, Reason string
	RegionCode     string
}

// recordRegion is the region a run's record counts in: its own when inside
// the run's, else the run's (c.region of the query's WITH c).
var recordRegion = `(CASE WHEN ` + actor.InScope("l.region_code", "c.region") + ` THEN l.region_code ELSE c.region END)`

var recordWhere = `
	FROM run_link l
	JOIN import_batch b ON b.id = l.batch_id
	CROSS JOIN c
	WHERE l.run_id = $1 AND l.id_number IS NULL AND (l.method = 'review') = $2
	  AND ` + actor.InScope(recordRegion, "$3") + `
	  AND ($4 = '' OR l.name LIKE $4 || '%' OR l.id_norm LIKE $4 || '%')`

// Records lists a run's unmatched (or in-review) records in region (inside
// the actor's) whose name or ID starts with search.
func (e *Engine) Records(ctx context.Context, a actor.Actor, runID int64, region string, review bool, search string, lq list.Query) (list.Page[RecordRow], error) {
	if err := a.CheckIn(actor.CompareRead, region, "区划 "+region); err != nil {
		return list.Page[RecordRow]{}, err
	}
	with := `WITH c AS (SELECT region_code AS region FROM comparison_run WHERE id = $1) `
	q := likeEscape(search)
	from := recordWhere
	var total int
	if err := e.db.QueryRow(ctx, with+`SELECT count(*)`+from, runID, review, region, q).Scan(&total); err != nil {
		return list.Page[RecordRow]{}, fmt.Errorf("count records: %w", err)
	}
	rows, err := e.db.Query(ctx, with+`SELECT l.batch_id, l.line, l.kind, b.file_name, coalesce(l.id_norm, ''), coalesce(l.name, ''),
		coalesce(l.id_damage, 'ok'), coalesce(l.reason, ''), coalesce(l.region_code, '')`+from+` ORDER BY l.batch_id, l.line LIMIT $5 OFFSET $6`,
		runID, review, region, q, lq.Limit(), lq.Offset())
	if err != nil {
		return list.Page[RecordRow]{}, fmt.Errorf("records: %w", err)
	}
	records, err := pgx.CollectRows(rows, pgx.RowToStructByPos[RecordRow])
	return list.Of(records, total, lq), err
}

// likeEscape makes a user's search text match literally in LIKE.
func likeEscape(q string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)
}
