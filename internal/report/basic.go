package report

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/list"
)

// ListPath is the page listing the persons behind a figure.
const ListPath = "/reports/list"

// place is a region as a table row needs it.
type place struct{ Code, Name string }

// places reads region (inside the actor's) and its children.
func (s *Store) places(ctx context.Context, a actor.Actor, region string) (place, []place, error) {
	if err := a.CheckIn(actor.ReportRead, region, "区划 "+region); err != nil {
		return place{}, nil, err
	}
	var self place
	err := s.db.QueryRow(ctx, `SELECT code, name FROM region WHERE code = $1`, region).Scan(&self.Code, &self.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return place{}, nil, apperr.NotFoundf("区划 %s 不存在", region)
	}
	if err != nil {
		return place{}, nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT code, name FROM region WHERE parent_code = $1 ORDER BY code`, region)
	if err != nil {
		return place{}, nil, err
	}
	kids, err := pgx.CollectRows(rows, pgx.RowToStructByPos[place])
	return self, kids, err
}

// localNote explains 本省 below province level (the seed's tables are the
// provinces').
func localNote(name string, level int) string {
	if level == 1 {
		return ""
	}
	return "本表按部发省级表式填报。在市、县级使用时，表中“本省”“省内”“全省”均指本报表区划（" + name + "），“非本省户籍”指非本区划户籍，“省外”指本区划以外。"
}

func levelOf(code string) int {
	switch len(code) {
	case 2:
		return 1
	case 4:
		return 2
	case 6:
		return 3
	}
	return 4
}

// Basic builds basic-data table 一 or 二 ("basic1", "basic2") for region
// (inside the actor's) at the end of day: counts from the newest
// comparison run covering the region by then and from survey forms
// approved by then; hand-entered columns from day's month.
func (s *Store) Basic(ctx context.Context, a actor.Actor, table, region string, day time.Time) (Table, error) {
	cols := ColumnsOf(table)
	if cols == nil || table == "progress" {
		return Table{}, apperr.NotFoundf("报表不存在")
	}
	self, kids, err := s.places(ctx, a, region)
	if err != nil {
		return Table{}, err
	}
	t := Table{Key: table, Title: TableTitle(table), Unit: "单位：人", RegionCode: self.Code, RegionName: self.Name,
		Period: day.Format("2006-01"), Columns: cols, HasChecks: table == "basic1"}
	if n := localNote(self.Name, levelOf(self.Code)); n != "" {
		t.Notes = append(t.Notes, n)
	}
	codes := []string{self.Code}
	for _, k := range kids {
		codes = append(codes, k.Code)
	}
	run, ok, err := s.CurrentRun(ctx, self.Code, day)
	if err != nil {
		return Table{}, err
	}
	counts := map[string]map[string]int64{}
	if ok {
		ready, err := s.Prepared(ctx, run.ID)
		if err != nil {
			return Table{}, err
		}
		if !ready { // a job prepares the run's rows; the page shows its progress
			t.Preparing = run.ID
			t.Basis = fmt.Sprintf("正在准备报表数据（比对批次 #%d，%s，基准日 %s），完成后显示各栏人数。", run.ID, run.RegionCode, run.AsOf.Format("2006-01-02"))
			return t, nil
		}
		if counts, err = s.counts(ctx, run.ID, codes); err != nil {
			return Table{}, err
		}
		t.Basis = fmt.Sprintf("比对数据：比对批次 #%d（%s，基准日 %s）；调查数据：截至 %s 审核通过的调查表；手工填报项：报告期 %s。",
			run.ID, run.RegionCode, run.AsOf.Format("2006-01-02"), day.Format("2006-01-02"), t.Period)
	} else {
		t.Basis = fmt.Sprintf("截至 %s 本区划尚无完成的数据比对，比对类指标无数据。", day.Format("2006-01-02"))
	}
	childLen := len(self.Code) + 3
	if len(self.Code) < 6 {
		childLen = len(self.Code) + 2
	}
	survey, err := s.surveyCounts(ctx, self.Code, childLen, day)
	if err != nil {
		return Table{}, err
	}
	_, sums, err := s.manualValues(ctx, codes, t.Period, cols)
	if err != nil {
		return Table{}, err
	}
	if table == "basic1" {
		t.Notes = append(t.Notes, "“无数据”栏目本系统无法取得（需省级或部级接口），可由经办人员按报告期手工填报；手工填报数为本区划及下级区划填报数之和。")
	}
	t.Notes = append(t.Notes, "点击数字可查看对应人员名单（身份证号已脱敏）。")
	dayS := day.Format("2006-01-02")
	cell := func(c Column, code string, fromSurvey map[string]int64, link bool) Cell {
		switch {
		case c.Manual:
			if n, ok := sums[code][c.Key]; ok {
				return Cell{Known: true, N: n}
			}
			return Cell{}
		case surveyPreds[c.Key] != nil:
			return Cell{Known: true, N: fromSurvey[c.Key], Link: listLink(link, c.Key, code, dayS)}
		case ok:
			return Cell{Known: true, N: counts[code][c.Key], Link: listLink(link, c.Key, code, dayS)}
		}
		return Cell{}
	}
	total := Row{Code: self.Code, Name: "合计", Total: true}
	for _, c := range cols {
		total.Cells = append(total.Cells, cell(c, self.Code, survey[""], true))
	}
	t.Rows = append(t.Rows, total)
	for _, k := range kids {
		r := Row{Code: k.Code, Name: k.Name}
		for _, c := range cols {
			r.Cells = append(r.Cells, cell(c, k.Code, survey[k.Code], true))
		}
		t.Rows = append(t.Rows, r)
	}
	if rest, any := restRow(t); any {
		t.Rows = append(t.Rows, rest)
	}
	if t.HasChecks {
		for i := range t.Rows {
			t.Rows[i].Checks = basic1Checks(t.Rows[i])
		}
	}
	return t, nil
}

// restRow holds what lies in the region but in none of its children (an
// address naming only the region), so the rows add up to 合计.
func restRow(t Table) (Row, bool) {
	rest := Row{Name: "未落到下级区划", Rest: true}
	any := false
	for i, c := range t.Columns {
		tc := t.Rows[0].Cells[i]
		if !tc.Known || c.Manual {
			rest.Cells = append(rest.Cells, Cell{Known: tc.Known && !c.Manual})
			continue
		}
		n := tc.N
		for _, r := range t.Rows[1:] {
			n -= r.Cells[i].N
		}
		any = any || n != 0
		rest.Cells = append(rest.Cells, Cell{Known: true, N: n})
	}
	return rest, any && len(t.Rows) > 1
}

func listLink(on bool, key, code, day string) string {
	if !on {
		return ""
	}
	return ListPath + "?" + url.Values{"col": {key}, "region": {code}, "date": {day}}.Encode()
}

// basic1Checks are the seed's 逻辑关系式 on a row of table 一.
func basic1Checks(r Row) []Check {
	v := func(no int) Cell { return r.Cells[no-1] }
	n := func(no int) int64 {
		c := v(no)
		if c.Known && basic1Columns[no-1].Kind == Number {
			return c.N / 100
		}
		return c.N
	}
	show := func(nos ...int) string {
		s := ""
		for i, no := range nos {
			if i > 0 {
				s += " "
			}
			if v(no).Known {
				s += fmt.Sprintf("(%d)=%d", no, n(no))
			} else {
				s += fmt.Sprintf("(%d)=无数据", no)
			}
		}
		return s
	}
	known := func(nos ...int) bool {
		for _, no := range nos {
			if !v(no).Known {
				return false
			}
		}
		return true
	}
	var out []Check
	c := Check{Rule: "(2) ≥ (3)", Known: known(2, 3), Detail: show(2, 3)}
	c.Passed = c.Known && n(2) >= n(3)
	out = append(out, c)
	c = Check{Rule: "(1) = (2) − (3) + (4) + (5)", Known: known(1, 2, 3, 4, 5), Detail: show(1, 2, 3, 4, 5)}
	if c.Known {
		rhs := n(2) - n(3) + n(4) + n(5)
		c.Passed = n(1) == rhs
		if !c.Passed {
			c.Detail += fmt.Sprintf("，右边 = %d，相差 %d", rhs, n(1)-rhs)
		}
	}
	out = append(out, c)
	c = Check{Rule: "(5) ≥ (6)", Known: known(5, 6), Detail: show(5, 6)}
	c.Passed = c.Known && n(5) >= n(6)
	return append(out, c)
}

// Persons lists the persons behind count column key in region (inside the
// actor's) at the end of day; its total is the table's figure.
func (s *Store) Persons(ctx context.Context, a actor.Actor, key, region string, day time.Time, lq list.Query) (list.Page[PersonRow], string, error) {
	if err := a.CheckIn(actor.ReportRead, region, "区划 "+region); err != nil {
		return list.Page[PersonRow]{}, "", err
	}
	c, ok := column(key)
	if !ok || c.Manual || (countPreds[key] == "" && surveyPreds[key] == nil) {
		return list.Page[PersonRow]{}, "", apperr.NotFoundf("没有这一栏的人员名单")
	}
	label := c.Label
	if surveyPreds[key] != nil {
		items, total, err := s.surveyPersons(ctx, key, region, day, lq.Offset(), lq.Limit())
		return list.Of(items, total, lq), label, err
	}
	run, ok, err := s.CurrentRun(ctx, region, day)
	if err != nil || !ok {
		return list.Page[PersonRow]{}, label, err
	}
	if ready, err := s.Prepared(ctx, run.ID); err != nil || !ready {
		if err == nil {
			err = errPreparing(run.ID, "人员名单")
		}
		return list.Page[PersonRow]{}, "", err
	}
	var total int
	const qc = `SELECT coalesce((SELECT (counts->>$3)::int FROM report_count WHERE run_id = $1 AND region_code = $2), 0)`
	if err := s.db.QueryRow(ctx, qc, run.ID, region, key).Scan(&total); err != nil {
		return list.Page[PersonRow]{}, "", err
	}
	rows, err := s.personPage(ctx, run.ID, region, countPreds[key], lq)
	if err != nil {
		return list.Page[PersonRow]{}, "", fmt.Errorf("persons of %s: %w", key, err)
	}
	items, err := collectPersons(rows)
	return list.Of(items, total, lq), label, err
}

// personPage reads one page of the persons matching pred in (region_code,
// id_number) order, the order of the report_person_list index: after the
// previous page's last key when the request followed a "next" link, else
// by skipping rows. The page's keys are found first and only its rows
// are joined to the run's persons for the names.
func (s *Store) personPage(ctx context.Context, runID int64, region, pred string, lq list.Query) (pgx.Rows, error) {
	keys := `SELECT p.region_code, p.id_number FROM report_person p
		WHERE p.run_id = $1 AND ` + actor.InScope("p.region_code", "$2") + ` AND ` + pred
	args := []any{runID, region, lq.Limit()}
	if len(lq.After) == 2 {
		keys += ` AND (p.region_code, p.id_number) > ($4, $5) ORDER BY p.region_code, p.id_number LIMIT $3`
		args = append(args, lq.After[0], lq.After[1])
	} else {
		keys += ` ORDER BY p.region_code, p.id_number LIMIT $3 OFFSET $4`
		args = append(args, lq.Offset())
	}
	q := `SELECT k.id_number, rp.name, k.region_code FROM (` + keys + `) k
		-- OFFSET 0: each name found by its key, not a join with the whole run
		CROSS JOIN LATERAL (SELECT rp.name FROM run_persons($1) rp WHERE rp.id_number = k.id_number OFFSET 0) rp
		ORDER BY k.region_code, k.id_number`
	return s.db.Query(ctx, q, args...)
}
