package compare

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/list"
)

// ReviewItem is a record whose candidates were too close to call.
type ReviewItem struct {
	Record     LinkedRecord
	Candidates []Candidate
	Decided    bool
	Choice     int // when Decided: the chosen candidate's index, or -1 for none of them
}

// Candidate is a person a record may belong to, with the name score.
type Candidate struct {
	IDNumber, Name, Sex string
	RegionCode          string
	Score               float32
}

// ReviewQueue lists a run's review items in region (by the record's
// region as in the unmatched list).
func (e *Engine) ReviewQueue(ctx context.Context, a actor.Actor, runID int64, region string, q list.Query) (list.Page[RecordRow], error) {
	return e.Records(ctx, a, runID, region, true, "", q)
}

// ReviewItem returns one record of the queue, inside the actor's region,
// with its candidates.
func (e *Engine) ReviewItem(ctx context.Context, a actor.Actor, runID, batchID int64, line int) (ReviewItem, error) {
	var it ReviewItem
	if _, err := e.RecordRegion(ctx, a, runID, batchID, line); err != nil {
		return it, err
	}
	var ids []string
	var scores []float32
	err := e.db.QueryRow(ctx, `SELECT candidates, scores FROM run_review WHERE run_id = $1 AND batch_id = $2 AND line = $3`,
		runID, batchID, line).Scan(&ids, &scores)
	if err == pgx.ErrNoRows {
		return it, apperr.NotFoundf("审核记录不存在")
	}
	if err != nil {
		return it, err
	}
	var raw string
	var decided *string
	found := false
	err = e.byLine(ctx, `
		SELECT s.batch_id, s.line, b.kind, b.file_name, coalesce(s.id_damage, 'ok'), b.header, s.raw, b.mapping,
		       d.batch_id IS NOT NULL, d.id_number
		FROM source_record s JOIN import_batch b ON b.id = s.batch_id
		LEFT JOIN link_decision d ON d.batch_id = s.batch_id AND d.line = s.line
		WHERE s.batch_id = $1 AND s.line = $2`, []any{batchID, line}, func(row pgx.CollectableRow) error {
		found = true
		return row.Scan(&it.Record.BatchID, &it.Record.Line, &it.Record.Kind, &it.Record.FileName, &it.Record.IDDamage, &it.Record.Header, &raw,
			&it.Record.Mapping, &it.Decided, &decided)
	})
	if err == nil && !found {
		err = pgx.ErrNoRows
	}
	if err != nil {
		return it, fmt.Errorf("review record: %w", err)
	}
	it.Choice = -1
	if decided != nil {
		it.Choice = slices.Index(ids, *decided)
	}
	it.Record.Cells = splitRaw(raw)
	rows, err := e.db.Query(ctx, `SELECT id_number, name, coalesce(sex, ''), region_code FROM person WHERE id_number = ANY($1)`, ids)
	if err != nil {
		return it, err
	}
	byID := map[string]Candidate{}
	for rows.Next() {
		var c Candidate
		if err := rows.Scan(&c.IDNumber, &c.Name, &c.Sex, &c.RegionCode); err != nil {
			rows.Close()
			return it, err
		}
		byID[c.IDNumber] = c
	}
	rows.Close()
	for i, id := range ids {
		c := byID[id]
		c.IDNumber, c.Score = id, scores[i]
		it.Candidates = append(it.Candidates, c)
	}
	// The page shows the record's cells and its candidates: a read of
	// personal data, recorded before anything is shown.
	e2 := audit.For(a, audit.RecordView, fmt.Sprintf("record:%d:%d", batchID, line))
	e2.Detail = "审核记录"
	if err := audit.Record(ctx, e.db, e2); err != nil {
		return ReviewItem{}, err
	}
	return it, nil
}

// Decide records a reviewer's decision for a record inside the actor's
// region: choice is the index of the chosen candidate, or -1 for none of
// them (the page never carries the candidates' full IDs). The next run
// applies it. The decision and its audit line commit together; a refusal
// is audited too.
func (e *Engine) Decide(ctx context.Context, a actor.Actor, runID, batchID int64, line int, choice int) error {
	who := audit.For(a, audit.CompareReview, fmt.Sprintf("record:%d:%d", batchID, line))
	if err := e.decide(ctx, a, runID, batchID, line, choice, who); err != nil {
		return audit.Reject(ctx, e.db, who, err)
	}
	return nil
}

func (e *Engine) decide(ctx context.Context, a actor.Actor, runID, batchID int64, line int, choice int, who audit.Entry) error {
	if err := a.Check(actor.Review); err != nil {
		return err
	}
	if _, err := e.RecordRegion(ctx, a, runID, batchID, line); err != nil {
		return err
	}
	tx, err := e.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var candidates []string
	err = tx.QueryRow(ctx, `SELECT candidates FROM run_review WHERE run_id = $1 AND batch_id = $2 AND line = $3`, runID, batchID, line).Scan(&candidates)
	if err == pgx.ErrNoRows {
		return apperr.NotFoundf("审核记录不存在")
	}
	if err != nil {
		return err
	}
	if choice < -1 || choice >= len(candidates) {
		return apperr.Invalidf("所选人员不在候选名单中")
	}
	var chosen *string
	if choice >= 0 {
		chosen = &candidates[choice]
		if err := candidateVisible(ctx, tx, a, *chosen); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `INSERT INTO link_decision (batch_id, line, id_number, decided_by, decided_name) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (batch_id, line) DO UPDATE SET id_number = excluded.id_number, decided_by = excluded.decided_by,
		decided_name = excluded.decided_name, decided_at = now()`, batchID, line, chosen, who.UserID, who.Username)
	if err != nil {
		return fmt.Errorf("decide: %w", err)
	}
	who.Detail = "认定无匹配人员"
	if chosen != nil {
		who.Detail = fmt.Sprintf("选择候选人员 %d（%s）", choice+1, idcard.Mask(*chosen))
	}
	who.Detail += "（比对批次 #" + strconv.FormatInt(runID, 10) + "）"
	if err := audit.Record(ctx, tx, who); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// candidateVisible refuses a candidate outside the actor's region: the
// review page hides such candidates, so only a crafted request names one.
func candidateVisible(ctx context.Context, tx pgx.Tx, a actor.Actor, id string) error {
	var code string
	err := tx.QueryRow(ctx, `SELECT region_code FROM person WHERE id_number = $1`, id).Scan(&code)
	if err == pgx.ErrNoRows || (err == nil && !a.Sees(code)) {
		return apperr.NotFoundf("所选人员不在候选名单中")
	}
	return err
}

// RecordRegion is the region a run's record counts in (its own region when
// inside the run's, else the run's): what scopes the review of it. A record
// outside the actor's region does not exist for them.
func (e *Engine) RecordRegion(ctx context.Context, a actor.Actor, runID, batchID int64, line int) (string, error) {
	if err := a.Check(actor.CompareRead); err != nil {
		return "", err
	}
	var code string
	err := e.db.QueryRow(ctx, `
		WITH c AS (SELECT region_code AS region FROM comparison_run WHERE id = $1)
		SELECT `+recordRegion+`
		FROM run_link l CROSS JOIN c
		WHERE l.run_id = $1 AND l.batch_id = $2 AND l.line = $3`, runID, batchID, line).Scan(&code)
	if err == pgx.ErrNoRows || (err == nil && !a.Sees(code)) {
		return "", apperr.NotFoundf("审核记录不存在")
	}
	return code, err
}
