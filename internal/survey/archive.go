package survey

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
)

// Archive is where a village's paper forms of a round are kept (归档), or
// that they are not archived yet (Boxes 0).
type Archive struct {
	VillageCode, VillageName string
	Households, Persons      int
	Unassigned               int // households no team has
	Boxes                    int
	Note                     string
	ArchivedName             string
	ArchivedAt               *time.Time
}

// Archives lists every village of region that has households in the
// round, with its archive.
func (s *Store) Archives(ctx context.Context, a actor.Actor, r Round, region string) ([]Archive, error) {
	if err := s.Scope(a, r, region); err != nil {
		return nil, err
	}
	q := `
		SELECT v.region_code, coalesce(g.name, ''), v.households, v.persons, v.unassigned,
		       coalesce(x.boxes, 0), coalesce(x.note, ''), coalesce(x.archived_name, ''), x.archived_at
		FROM (SELECT h.region_code, count(*) AS households, sum(h.persons) AS persons, count(*) FILTER (WHERE h.team_id IS NULL) AS unassigned
		      FROM survey_household h
		      WHERE h.round_id = $1 AND h.region_code LIKE $2 || '%' AND ` + inTeamView("h", "$3") + ` GROUP BY h.region_code) v
		LEFT JOIN region g ON g.code = v.region_code
		LEFT JOIN survey_archive x ON x.round_id = $1 AND x.village_code = v.region_code
		ORDER BY v.region_code`
	rows, err := s.db.Query(ctx, q, r.ID, region, a.UserID)
	if err != nil {
		return nil, fmt.Errorf("archives: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Archive])
}

// SetArchive records that a village's paper forms are archived in boxes
// (boxes 0 takes the record back), and audits it.
func (s *Store) SetArchive(ctx context.Context, a actor.Actor, r Round, village string, boxes int, note string) error {
	e := audit.For(a, AuditArchive, fmt.Sprintf("round:%d", r.ID))
	err := s.setArchive(ctx, a, r, village, boxes, strings.TrimSpace(note), e)
	if err != nil && apperr.KindOf(err) != apperr.Internal {
		return audit.Reject(ctx, s.db, e, err)
	}
	return err
}

func (s *Store) setArchive(ctx context.Context, a actor.Actor, r Round, village string, boxes int, note string, e audit.Entry) error {
	if err := a.Check(actor.SurveyAssign); err != nil {
		return err
	}
	if err := s.Scope(a, r, village); err != nil {
		return err
	}
	if err := checkManager(ctx, s.db, a); err != nil {
		return err
	}
	if boxes < 0 || boxes > 10000 {
		return apperr.Invalidf("箱数应为 0–10000（0 表示撤销归档记录）")
	}
	if len([]rune(note)) > 200 {
		return apperr.Invalidf("备注不能超过 200 个字")
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM survey_household WHERE round_id = $1 AND region_code = $2`, r.ID, village).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return apperr.NotFoundf("本批次在 %s 没有调查户", village)
	}
	if boxes == 0 {
		_, err = tx.Exec(ctx, `DELETE FROM survey_archive WHERE round_id = $1 AND village_code = $2`, r.ID, village)
	} else {
		const q = `
			INSERT INTO survey_archive (round_id, village_code, boxes, note, archived_by, archived_name)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (round_id, village_code) DO UPDATE
			SET boxes = excluded.boxes, note = excluded.note, archived_by = excluded.archived_by,
			    archived_name = excluded.archived_name, archived_at = now()`
		_, err = tx.Exec(ctx, q, r.ID, village, boxes, note, e.UserID, a.Username)
	}
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	e.Detail = fmt.Sprintf("归档 %s：%d 箱 %s", village, boxes, note)
	if err := audit.Record(ctx, tx, e); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
