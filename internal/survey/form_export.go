package survey

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/sheet"
	"github.com/canbao/canbao/internal/source"
)

// AuditFormExport is the audit action of the survey exports.
const AuditFormExport = "survey.export"

// exportScope checks an export of round id in region code (the actor's
// when empty) and returns the region.
func (s *Forms) exportScope(ctx context.Context, a actor.Actor, roundID int64, code string) (RoundRef, string, error) {
	if err := a.Check(actor.Export); err != nil {
		return RoundRef{}, "", err
	}
	round, err := s.progressRound(ctx, a, roundID)
	if err != nil {
		return round, "", err
	}
	code, err = scopeOf(a, round, code)
	return round, code, err
}

// auditExport records a finished export of n rows with whole ID numbers.
func (s *Forms) auditExport(ctx context.Context, a actor.Actor, round int64, code, what string, n int) error {
	e := audit.For(a, AuditFormExport, "survey_round:"+strconv.FormatInt(round, 10))
	e.Result, e.Detail = "ok", fmt.Sprintf("%s %s %d 行", what, code, n)
	return audit.Record(ctx, s.db, e)
}

// ApprovedHeader is the approved forms export's header: every item of
// the 全民参保登记表 (DOMAIN §6), the scheme lines as 是否参保 and 参保地.
func ApprovedHeader() []string {
	h := []string{"任务编码", "区划代码", "姓名", "公民身份号码", "性别", "民族", "出生日期", "户籍地址", "常住地址", "联系电话", "户口性质",
		"户主姓名", "与户主关系", "就业状态", "就业单位"}
	for _, s := range source.Schemes() {
		h = append(h, s.Key+"是否参保", s.Key+"参保地")
	}
	return append(h, "未参保原因", "原因说明", "参保意愿", "核查方式", "调查员", "调查日期", "人员状况", "迁出或死亡日期", "录入人", "审核人",
		"入库时间", "更正项数", "备注")
}

// ExportApproved writes the approved live forms of a round in a region,
// one row per form, and audits the download.
func (s *Forms) ExportApproved(ctx context.Context, a actor.Actor, roundID int64, code string, w sheet.Writer) (int, error) {
	round, code, err := s.exportScope(ctx, a, roundID, code)
	if err != nil {
		return 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT h.code, h.region_code, f.data, f.entered_name, f.reviewed_name, f.reviewed_at, f.corrected
		FROM survey_form f JOIN survey_household h ON h.id = f.household_id
		WHERE f.round_id = $1 AND f.state = 'approved' AND `+actor.InScope("h.region_code", "$2")+` AND `+inTeamView("h", "$3")+`
		ORDER BY h.region_code, h.code, f.id`, round.ID, code, a.UserID)
	if err != nil {
		return 0, fmt.Errorf("export approved: %w", err)
	}
	defer rows.Close()
	if err := w.Write(ApprovedHeader()); err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		var hc, region, entered, reviewed string
		var data []byte
		var at *time.Time
		var corrected int
		if err := rows.Scan(&hc, &region, &data, &entered, &reviewed, &at, &corrected); err != nil {
			return n, err
		}
		var f Form
		if err := json.Unmarshal(data, &f); err != nil {
			return n, err
		}
		row := []string{hc, region, f.Name, f.IDNumber, f.Sex, f.Ethnic, f.Birth, f.HukouAddress, f.HomeAddress, f.Phone, f.HukouType,
			f.HeadName, f.Relation, f.Employment, f.Employer}
		for _, s := range source.Schemes() {
			ans := f.Schemes[s.Key]
			row = append(row, ans.Insured, ans.Place)
		}
		reviewedAt := ""
		if at != nil {
			reviewedAt = at.In(beijing).Format("2006-01-02 15:04")
		}
		row = append(row, f.Reason, f.ReasonText, f.Willing, f.Method, f.Surveyor, f.SurveyedOn, OutcomeLabel(f.Outcome), f.OutcomeDate,
			entered, reviewed, reviewedAt, strconv.Itoa(corrected), f.Note)
		if err := w.Write(escapeAll(row)); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, s.auditExport(ctx, a, round.ID, code, "已入库调查表", n)
}

// escapeAll keeps every typed cell from being run as a formula.
func escapeAll(row []string) []string {
	for i, v := range row {
		row[i] = sheet.Escape(v)
	}
	return row
}

// WillingHeader is the willing-to-enroll export's header.
var WillingHeader = []string{"任务编码", "区划代码", "姓名", "公民身份号码", "联系电话", "调查日期", "未参保原因", "跟进状态", "最新比对养老", "最新比对医疗"}

// ExportWilling writes a round's willing-to-enroll list in a region for
// the expansion drive (扩面), with each person's follow-up state.
func (s *Forms) ExportWilling(ctx context.Context, a actor.Actor, roundID int64, code string, w sheet.Writer) (int, error) {
	round, code, err := s.exportScope(ctx, a, roundID, code)
	if err != nil {
		return 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+willingCols+willingSQL+` ORDER BY h.region_code, h.code, m.id`, round.ID, code, a.UserID)
	if err != nil {
		return 0, fmt.Errorf("export willing: %w", err)
	}
	defer rows.Close()
	if err := w.Write(WillingHeader); err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		var it WillingItem
		if err := rows.Scan(&it.FormID, &it.MemberID, &it.Name, &it.IDNumber, &it.Phone, &it.HouseholdCode, &it.RegionCode, &it.SurveyedOn,
			&it.Reason, &it.FollowUp, &it.Pension, &it.Medical); err != nil {
			return n, err
		}
		on := ""
		if it.SurveyedOn != nil {
			on = it.SurveyedOn.Format("2006-01-02")
		}
		row := []string{it.HouseholdCode, it.RegionCode, it.Name, it.IDNumber, it.Phone, on, it.Reason, it.FollowUp, it.Pension, it.Medical}
		if err := w.Write(escapeAll(row)); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, s.auditExport(ctx, a, round.ID, code, "参保意愿名单", n)
}

// ReasonsHeader is the not-insured reasons export's header.
var ReasonsHeader = []string{"未参保原因", "原因说明", "任务编码", "区划代码", "姓名", "公民身份号码", "参保意愿", "调查日期"}

// ExportReasons writes every approved form of a round in a region that
// gives a 未参保原因, grouped by reason in the ministry's order.
func (s *Forms) ExportReasons(ctx context.Context, a actor.Actor, roundID int64, code string, w sheet.Writer) (int, error) {
	round, code, err := s.exportScope(ctx, a, roundID, code)
	if err != nil {
		return 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT f.reason, coalesce(f.data->>'reason_text', ''), h.code, h.region_code, m.name, m.id_number, f.willing,
		coalesce(to_char(f.surveyed_on, 'YYYY-MM-DD'), '')
		FROM survey_form f JOIN survey_member m ON m.id = f.member_id JOIN survey_household h ON h.id = f.household_id
		WHERE f.round_id = $1 AND f.state = 'approved' AND f.reason <> '' AND `+actor.InScope("h.region_code", "$2")+` AND `+inTeamView("h", "$4")+`
		ORDER BY array_position($3::text[], f.reason), h.region_code, h.code, m.id`, round.ID, code, Reasons, a.UserID)
	if err != nil {
		return 0, fmt.Errorf("export reasons: %w", err)
	}
	defer rows.Close()
	if err := w.Write(ReasonsHeader); err != nil {
		return 0, err
	}
	n := 0
	row := make([]string, 8)
	for rows.Next() {
		if err := rows.Scan(&row[0], &row[1], &row[2], &row[3], &row[4], &row[5], &row[6], &row[7]); err != nil {
			return n, err
		}
		if err := w.Write(escapeAll(row)); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, s.auditExport(ctx, a, round.ID, code, "未参保原因", n)
}
