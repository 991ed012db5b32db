package survey

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/list"
)

// Follow-up states of a person willing to enroll: the comparison after
// the approval says whether they enrolled (扩面).
const (
	FollowWaiting  = "待下次比对"
	FollowEnrolled = "已参保"
	FollowNot      = "尚未参保"
)

// WillingItem is one person of the willing-to-enroll list (参保意愿 愿意参保).
type WillingItem struct {
	FormID, MemberID          int64
	Name, IDNumber, Phone     string
	HouseholdCode, RegionCode string
	SurveyedOn                *time.Time
	Reason                    string
	FollowUp                  string
	Pension, Medical          string // in the latest run after the approval ("" before one)
}

// willingSQL is the willing-to-enroll list of a round in a region ($1
// round, $2 region) in the team view of the user in $3: approved live forms saying 愿意参保, each with the
// person's result in the latest comparison run started after the
// approval. Enrolled there means neither status is 应参未参 or 缴费中断.
// A run holds the person in a row of its own or, a run with an anchor, as
// the anchor's row unless it lists them gone: the person's rows are read
// by ID (run_persons per run would read every partition for each).
var willingSQL = `
	FROM survey_form f JOIN survey_member m ON m.id = f.member_id JOIN survey_household h ON h.id = f.household_id
	LEFT JOIN LATERAL (
		SELECT x.pension, x.medical FROM (
			SELECT c.id, rp.pension, rp.medical FROM run_person_row rp JOIN comparison_run c ON c.id = rp.run_id
			WHERE rp.id_number = m.id_number AND c.status = 'done' AND c.started_at > f.reviewed_at
			UNION ALL
			SELECT c.id, rp.pension, rp.medical FROM run_person_row rp JOIN comparison_run c ON c.anchor = rp.run_id
			WHERE rp.id_number = m.id_number AND c.status = 'done' AND c.started_at > f.reviewed_at
			  AND NOT EXISTS (SELECT FROM run_person_row o WHERE o.run_id = c.id AND o.id_number = m.id_number)
			  AND NOT EXISTS (SELECT FROM run_person_gone g WHERE g.run_id = c.id AND g.id_number = m.id_number)) x
		ORDER BY x.id DESC LIMIT 1) lr ON true
	WHERE f.round_id = $1 AND f.state = 'approved' AND f.willing = '` + Willing + `' AND ` + actor.InScope("h.region_code", "$2::text") +
	` AND ` + inTeamView("h", "$3::bigint")

// followSQL is a willing person's follow-up state.
const followSQL = `CASE WHEN lr.pension IS NULL THEN '` + FollowWaiting + `'
	WHEN lr.pension NOT IN ('应参未参', '缴费中断') AND lr.medical <> '应参未参' THEN '` + FollowEnrolled + `'
	ELSE '` + FollowNot + `' END`

const willingCols = `f.id, m.id, m.name, m.id_number, coalesce(f.data->>'phone', ''), h.code, h.region_code, f.surveyed_on, f.reason,
	` + followSQL + `, coalesce(lr.pension, ''), coalesce(lr.medical, '')`

// WillingSpec is the willing list's contract: filter by follow-up state.
var WillingSpec = list.Spec{Size: 50, Filters: []string{"round", "region", "follow"}}

// Willing returns a page of round id's willing-to-enroll list in region
// code (the actor's when empty), filtered by follow-up state.
func (s *Forms) Willing(ctx context.Context, a actor.Actor, roundID int64, code string, lq list.Query) (list.Page[WillingItem], error) {
	var none list.Page[WillingItem]
	if err := a.Check(actor.ReportRead); err != nil {
		return none, err
	}
	round, err := s.progressRound(ctx, a, roundID)
	if err != nil {
		return none, err
	}
	if code, err = scopeOf(a, round, code); err != nil {
		return none, err
	}
	where := willingSQL + ` AND ($4 = '' OR ` + followSQL + ` = $4)`
	follow := lq.Filter("follow")
	var total int
	if err := s.db.QueryRow(ctx, `SELECT count(*) `+where, customPlan, round.ID, code, a.UserID, follow).Scan(&total); err != nil {
		return none, fmt.Errorf("willing list: %w", err)
	}
	rows, err := s.db.Query(ctx, `SELECT `+willingCols+where+` ORDER BY h.region_code, h.code, m.id LIMIT $5 OFFSET $6`,
		customPlan, round.ID, code, a.UserID, follow, lq.Limit(), lq.Offset())
	if err != nil {
		return none, fmt.Errorf("willing list: %w", err)
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[WillingItem])
	return list.Of(items, total, lq), err
}
