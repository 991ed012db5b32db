package report

import (
	"strconv"
	"time"
)

// Kind is how a column's values read.
type Kind int

// Column kinds.
const (
	Count  Kind = iota // persons, from the data
	Rate               // a percentage, from the data
	Number             // a number entered by hand (persons, 万元, sessions)
	YesNo              // 是 / 否, entered by hand
	Text               // free text, entered by hand
)

// Column is one numbered column (宾栏) of a ministry table.
type Column struct {
	No     int    // the 甲栏 number printed under the headers
	Top    string // an optional third header level above Group
	Group  string // the merged group header; "" when the label spans both rows
	Label  string
	Kind   Kind
	Manual bool   // entered by hand (report.edit), never computed
	Key    string // the item key of a manual column ("p.1"), or the count key ("b1.2")
	// Sum: a manual number of a row is the sum of the entries of every
	// region inside it (so rows add up); other manual items are the row
	// region's own entry.
	Sum bool
}

// Cell is one value of a row.
type Cell struct {
	Known bool   // false: 无数据 (never shown as 0)
	N     int64  // Count and Number (Number: hundredths when Money)
	Num   int64  // Rate: numerator
	Den   int64  // Rate: denominator
	Text  string // YesNo and Text
	Link  string // the list behind a count, "" when none
}

// Show is the cell as printed.
func (c Cell) Show(k Kind) string {
	if !c.Known {
		return "无数据"
	}
	switch k {
	case Count:
		return strconv.FormatInt(c.N, 10)
	case Number:
		return formatNumber(c.N)
	case Rate:
		if c.Den == 0 {
			return "无数据"
		}
		return strconv.FormatFloat(float64(c.Num)*100/float64(c.Den), 'f', 1, 64)
	}
	return c.Text
}

// Check is one logic check of the seed on a row.
type Check struct {
	Rule   string // "(2) ≥ (3)"
	Passed bool
	Known  bool   // false: a column it needs has no data
	Detail string // the numbers: "(2)=10 (3)=12"
}

// Row is a region's line of a table.
type Row struct {
	Code, Name string
	Total      bool // the 合计 row
	Rest       bool // persons inside the region but in none of its children
	Cells      []Cell
	Checks     []Check
}

// Table is a ministry table for a region.
type Table struct {
	Key        string // "progress", "basic1", "basic2"
	Title      string
	Unit       string // "单位：人"
	RegionCode string
	RegionName string
	Period     string    // YYYY-MM, for hand-entered items
	Basis      string    // what the numbers come from, for the reader
	RatesDay   time.Time // the day the computed rates are as of (progress)
	Notes      []string
	Columns    []Column
	Rows       []Row // the 合计 row first, as the seed prints it, then one per child region
	HasChecks  bool
	// Preparing is the run whose report rows a job is still preparing
	// (basic tables): the table has no rows until then. 0 when ready.
	Preparing int64
}

// HeaderCell is one merged cell of the header rows: at header row Row,
// column Col (0 = 项目), spanning RowSpan × ColSpan.
type HeaderCell struct {
	Row, Col         int
	RowSpan, ColSpan int
	Text             string
}

// Levels is how many header rows the table has (2 or 3).
func (t Table) Levels() int {
	for _, c := range t.Columns {
		if c.Top != "" {
			return 3
		}
	}
	return 2
}

// Header lays the header rows out as merged cells: "项目" spans every
// header row; a group spans its consecutive columns; a column without a
// group (or top) spans down to its label. The page and the xlsx file both
// draw from this, so they merge alike.
func (t Table) Header() []HeaderCell {
	levels := t.Levels()
	texts := func(c Column) []string {
		if levels == 3 {
			return []string{c.Top, c.Group, c.Label}
		}
		return []string{c.Group, c.Label}
	}
	out := []HeaderCell{{Row: 0, Col: 0, RowSpan: levels, ColSpan: 1, Text: "项目"}}
	for lvl := 0; lvl < levels; lvl++ {
		for i := 0; i < len(t.Columns); {
			tx := texts(t.Columns[i])
			if tx[lvl] == "" {
				i++
				continue
			}
			// an upper level left empty: this cell starts higher
			start := lvl
			for start > 0 && tx[start-1] == "" {
				start--
			}
			j := i + 1
			if lvl < levels-1 {
				for j < len(t.Columns) && samePrefix(texts(t.Columns[j]), tx, lvl) {
					j++
				}
			}
			out = append(out, HeaderCell{Row: start, Col: i + 1, RowSpan: lvl - start + 1, ColSpan: j - i, Text: tx[lvl]})
			i = j
		}
	}
	return out
}

// samePrefix: b continues the group a names at level lvl (same texts at
// every level up to lvl).
func samePrefix(b, a []string, lvl int) bool {
	for k := 0; k <= lvl; k++ {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}

func formatNumber(hundredths int64) string {
	neg := hundredths < 0
	if neg {
		hundredths = -hundredths
	}
	s := strconv.FormatInt(hundredths/100, 10)
	if f := hundredths % 100; f != 0 {
		s += "." + strconv.FormatInt(100+f, 10)[1:]
		for s[len(s)-1] == '0' {
			s = s[:len(s)-1]
		}
	}
	if neg {
		s = "-" + s
	}
	return s
}
