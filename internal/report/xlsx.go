package report

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/xuri/excelize/v2"
)

// WriteXLSX writes the table in the ministry's layout: title, 填报单位, the
// merged header rows, the 甲栏 row of column numbers, the 合计 row, one
// row per child region, the logic checks (table 一) and the notes. It
// streams rows (excelize's StreamWriter); text is written as text cells,
// never as formulas, whatever it starts with.
func WriteXLSX(t Table, w io.Writer) error {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	const sheet = "Sheet1"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	border := []excelize.Border{{Type: "left", Color: "000000", Style: 1}, {Type: "right", Color: "000000", Style: 1},
		{Type: "top", Color: "000000", Style: 1}, {Type: "bottom", Color: "000000", Style: 1}}
	center := &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}
	titleStyle, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}, Alignment: center})
	if err != nil {
		return err
	}
	headStyle, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: center, Border: border})
	if err != nil {
		return err
	}
	cellStyle, err := f.NewStyle(&excelize.Style{Border: border, Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}})
	if err != nil {
		return err
	}
	oneDecimal := "0.0"
	rateStyle, err := f.NewStyle(&excelize.Style{Border: border, CustomNumFmt: &oneDecimal})
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	width := len(t.Columns) + 1
	if t.HasChecks {
		width++
	}
	if err := sw.SetColWidth(1, 1, 16); err != nil {
		return err
	}
	if err := sw.SetColWidth(2, len(t.Columns)+1, 11); err != nil {
		return err
	}
	if t.HasChecks {
		if err := sw.SetColWidth(width, width, 40); err != nil {
			return err
		}
	}
	row := 0
	put := func(cells []any, opts ...excelize.RowOpts) error {
		row++
		c, _ := excelize.CoordinatesToCellName(1, row)
		return sw.SetRow(c, cells, opts...)
	}
	merge := func(c1, r1, c2, r2 int) error {
		a, _ := excelize.CoordinatesToCellName(c1, r1)
		b, _ := excelize.CoordinatesToCellName(c2, r2)
		return sw.MergeCell(a, b)
	}
	// title and 填报单位
	if err := put([]any{excelize.Cell{StyleID: titleStyle, Value: t.Title}}, excelize.RowOpts{Height: 28}); err != nil {
		return err
	}
	if err := merge(1, row, width, row); err != nil {
		return err
	}
	info := "填报单位名称：" + t.RegionName + "（" + t.RegionCode + "）"
	right := "报告期：" + t.Period
	if t.Unit != "" {
		right += "　" + t.Unit
	}
	if err := put([]any{info}); err != nil {
		return err
	}
	if err := merge(1, row, width, row); err != nil {
		return err
	}
	if err := put([]any{right}); err != nil {
		return err
	}
	if err := merge(1, row, width, row); err != nil {
		return err
	}
	// header rows
	levels := t.Levels()
	top := row + 1
	grid := make([][]any, levels)
	for i := range grid {
		grid[i] = make([]any, width)
		for j := range grid[i] {
			grid[i][j] = excelize.Cell{StyleID: headStyle}
		}
	}
	for _, h := range t.Header() {
		grid[h.Row][h.Col] = excelize.Cell{StyleID: headStyle, Value: h.Text}
	}
	if t.HasChecks {
		grid[0][width-1] = excelize.Cell{StyleID: headStyle, Value: "逻辑校验"}
	}
	for _, g := range grid {
		if err := put(g, excelize.RowOpts{Height: 48}); err != nil {
			return err
		}
	}
	for _, h := range t.Header() {
		if h.RowSpan > 1 || h.ColSpan > 1 {
			if err := merge(h.Col+1, top+h.Row, h.Col+h.ColSpan, top+h.Row+h.RowSpan-1); err != nil {
				return err
			}
		}
	}
	if t.HasChecks && levels > 1 {
		if err := merge(width, top, width, top+levels-1); err != nil {
			return err
		}
	}
	// 甲栏
	nums := []any{excelize.Cell{StyleID: headStyle, Value: "甲栏"}}
	for _, col := range t.Columns {
		nums = append(nums, excelize.Cell{StyleID: headStyle, Value: col.No})
	}
	if t.HasChecks {
		nums = append(nums, excelize.Cell{StyleID: headStyle})
	}
	if err := put(nums); err != nil {
		return err
	}
	for _, r := range t.Rows {
		cells := []any{excelize.Cell{StyleID: cellStyle, Value: r.Name}}
		for i, col := range t.Columns {
			style := cellStyle
			if col.Kind == Rate {
				style = rateStyle
			}
			cells = append(cells, excelize.Cell{StyleID: style, Value: xlsxValue(r.Cells[i], col.Kind)})
		}
		if t.HasChecks {
			cells = append(cells, excelize.Cell{StyleID: cellStyle, Value: checksText(r.Checks)})
		}
		if err := put(cells); err != nil {
			return err
		}
	}
	notes := append([]string{t.Basis}, t.Notes...)
	for _, n := range notes {
		if n == "" {
			continue
		}
		if err := put([]any{n}); err != nil {
			return err
		}
		if err := merge(1, row, width, row); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

// xlsxValue is a cell as stored: numbers as numbers, 无数据 and text as
// text (a string cell is never evaluated, so "=…" stays text).
func xlsxValue(c Cell, k Kind) any {
	if !c.Known {
		return "无数据"
	}
	switch k {
	case Count:
		return c.N
	case Number:
		if c.N%100 == 0 {
			return c.N / 100
		}
		return float64(c.N) / 100
	case Rate:
		if c.Den == 0 {
			return "无数据"
		}
		return math.Round(float64(c.Num)*1000/float64(c.Den)) / 10
	}
	return c.Text
}

// checksText is a row's logic checks in one cell.
func checksText(cs []Check) string {
	var out []string
	for _, c := range cs {
		state := "通过"
		switch {
		case !c.Known:
			state = "未校验（缺数据）"
		case !c.Passed:
			state = "不通过"
		}
		out = append(out, fmt.Sprintf("%s %s：%s", c.Rule, state, c.Detail))
	}
	return strings.Join(out, "\n")
}
