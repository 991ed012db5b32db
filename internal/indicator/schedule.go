package indicator

import (
	"context"
	"fmt"
	"time"

	"github.com/canbao/canbao/internal/actor"
)

// Schedule is the survey round a region is judged against: when it
// started and its deadline.
type Schedule struct {
	Round           int64
	Title           string
	Start, Deadline time.Time
}

// Schedules finds, for each region code, the newest survey round with a
// deadline that covers it or lies inside it.
func (st *Store) Schedules(ctx context.Context, codes []string) (map[string]Schedule, error) {
	q := `
		SELECT DISTINCT ON (k.code) k.code, r.id, r.title, r.created_at, r.deadline
		FROM unnest($1::text[]) AS k (code)
		JOIN survey_round r ON (` + actor.InScope("k.code", "r.region_code") + ` OR ` + actor.InScope("r.region_code", "k.code") + `)
		WHERE r.deadline IS NOT NULL
		ORDER BY k.code, r.id DESC`
	rows, err := st.db.Query(ctx, q, codes)
	if err != nil {
		return nil, fmt.Errorf("schedules: %w", err)
	}
	defer rows.Close()
	out := map[string]Schedule{}
	for rows.Next() {
		var code string
		var s Schedule
		if err := rows.Scan(&code, &s.Round, &s.Title, &s.Start, &s.Deadline); err != nil {
			return nil, err
		}
		out[code] = s
	}
	return out, rows.Err()
}

// Light is a region's progress against its round's deadline.
type Light string

// The lights. None: no deadline or nothing to survey.
const (
	Green Light = "green"
	Amber Light = "amber"
	Red   Light = "red"
	None  Light = ""
)

// Label is the light in Chinese.
func (l Light) Label() string {
	switch l {
	case Green:
		return "正常"
	case Amber:
		return "稍慢"
	case Red:
		return "滞后"
	}
	return "—"
}

// AmberMargin is how far (in percentage points of 入户调查完成率) a region
// may lag the schedule and still be amber rather than red.
const AmberMargin = 0.10

// RuleText explains Judge on the page.
const RuleText = "按入户调查完成率对照本轮调查的截止日期评定：应完成进度 = 自本轮发布起已过天数 ÷ 发布至截止日期总天数。" +
	"完成率达到 100%，或不低于应完成进度为绿色（正常）；低于应完成进度但差距不超过 10 个百分点为黄色（稍慢）；" +
	"差距超过 10 个百分点，或已过截止日期仍未完成为红色（滞后）。未设截止日期或无需入户调查的区划不评定。"

// Judge rates survey completion done (confirmed / to survey) against s on
// day, and gives the share of the round's time gone by (the progress
// expected by then).
func Judge(done Value, s Schedule, day time.Time) (Light, float64) {
	if s.Deadline.IsZero() || done.Den == 0 {
		return None, 0
	}
	start, end, now := dayOf(s.Start), dayOf(s.Deadline), dayOf(day)
	expected := 1.0
	if total := end.Sub(start); total > 0 {
		expected = min(1, max(0, float64(now.Sub(start))/float64(total)))
	}
	rate, _ := done.Ratio()
	switch {
	case rate >= 1:
		return Green, expected
	case now.After(end):
		return Red, expected
	case rate >= expected:
		return Green, expected
	case rate >= expected-AmberMargin:
		return Amber, expected
	}
	return Red, expected
}
