package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/indicator"
)

// PeriodEnd is the day a period's computed figures are read at: its last
// day, or today while it runs.
func PeriodEnd(period string, now time.Time) (time.Time, error) {
	start, err := time.ParseInLocation("2006-01", period, time.UTC)
	if err != nil {
		return time.Time{}, apperr.Invalidf("报告期格式应为 年-月（如 2017-06）")
	}
	end := start.AddDate(0, 1, -1)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if end.After(today) {
		end = today
	}
	return end, nil
}

// lines are the indicator values of region and its children at day.
type lines struct {
	byCode map[string]map[string]indicator.Value
	basis  string
	day    time.Time // the snapshot's day, or the day computed for
}

// indicatorLines reads the indicators of region and its children at the
// end of day from the newest daily snapshot taken on or before day. Pages
// read snapshots only (package indicator computes them once a day for
// every region); without one the rates are 无数据, never computed per
// request over a million persons.
func (s *Store) indicatorLines(ctx context.Context, a actor.Actor, region string, day time.Time) (lines, error) {
	out := lines{byCode: map[string]map[string]indicator.Value{}}
	var snap time.Time
	var computed time.Time
	err := s.db.QueryRow(ctx, `SELECT day, computed_at FROM indicator_day WHERE day <= $1 ORDER BY day DESC LIMIT 1`, day).Scan(&snap, &computed)
	if errors.Is(err, pgx.ErrNoRows) {
		out.basis = "截至 " + day.Format("2006-01-02") + " 尚无每日指标快照，计算类指标暂无数据（快照每日自动生成，也可在领导驾驶舱更新）。"
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("snapshot day: %w", err)
	}
	// A snapshot recomputed has a new computed time: its lines never change.
	key := fmt.Sprintf("lines|%s|%s|%d", region, snap.Format("2006-01-02"), computed.UnixNano())
	if v, ok := s.fixed.get(key); ok {
		return v.(lines), nil
	}
	total, kids, err := indicator.NewStore(s.db).Board(ctx, a, region, snap)
	if err != nil {
		return out, err
	}
	out.byCode[total.Code] = total.Values
	for _, k := range kids {
		if !k.Rest {
			out.byCode[k.Code] = k.Values
		}
	}
	out.basis = "计算类指标取自 " + snap.Format("2006-01-02") + " 的每日指标快照。"
	out.day = snap
	s.fixed.put(key, out)
	return out, nil
}

// Progress builds the progress table of region (inside the actor's) for a
// period: the organisational items entered for the period and the rates of
// package indicator at the period's end.
func (s *Store) Progress(ctx context.Context, a actor.Actor, region, period string, now time.Time) (Table, error) {
	day, err := PeriodEnd(period, now)
	if err != nil {
		return Table{}, err
	}
	self, kids, err := s.places(ctx, a, region)
	if err != nil {
		return Table{}, err
	}
	t := Table{Key: "progress", Title: TableTitle("progress"), RegionCode: self.Code, RegionName: self.Name,
		Period: period, Columns: progressColumns}
	if n := localNote(self.Name, levelOf(self.Code)); n != "" {
		t.Notes = append(t.Notes, n+"“人社厅”读作本级人社部门，“地市个数”读作下级区划个数。")
	}
	t.Notes = append(t.Notes,
		"第13–18、22、27、28栏按部发指标解释由系统计算（%）；第15、16栏（跨市、跨省比对）需省级、部级数据，本系统无数据。",
		"其余栏目由经办人员按报告期填报；金额、场次、人次、个数为本区划及下级区划填报数之和，是否类和文字类为本区划自身填报。",
		"甲栏编号按部发原表，原表无第26栏。")
	codes := []string{self.Code}
	for _, k := range kids {
		codes = append(codes, k.Code)
	}
	ls, err := s.indicatorLines(ctx, a, self.Code, day)
	if err != nil {
		return Table{}, err
	}
	t.Basis = ls.basis + "填报项：报告期 " + period + "。"
	t.RatesDay = ls.day
	own, sums, err := s.manualValues(ctx, codes, period, progressColumns)
	if err != nil {
		return Table{}, err
	}
	mk := func(code, name string, total bool) Row {
		r := Row{Code: code, Name: name, Total: total}
		for _, c := range progressColumns {
			var cell Cell
			switch {
			case c.Manual && c.Sum:
				if n, ok := sums[code][c.Key]; ok {
					cell = Cell{Known: true, N: n}
				}
			case c.Manual:
				if v, ok := own[code][c.Key]; ok {
					cell = Cell{Known: true, Text: v}
				}
			case c.Key != "":
				if v, ok := ls.byCode[code][c.Key]; ok && v.Den != 0 {
					cell = Cell{Known: true, Num: v.Num, Den: v.Den}
				}
			}
			r.Cells = append(r.Cells, cell)
		}
		return r
	}
	t.Rows = append(t.Rows, mk(self.Code, "合计", true))
	for _, k := range kids {
		t.Rows = append(t.Rows, mk(k.Code, k.Name, false))
	}
	return t, nil
}
