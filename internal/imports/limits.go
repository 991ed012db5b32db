package imports

import (
	"strconv"
	"unicode/utf8"
)

// Field length limits. A department extract holds names, codes and
// addresses; a cell far longer than any of them is a damaged or hostile
// file, and must not reach the database, where it would bloat every page
// that shows it (and once broke every comparison of a county through an
// index on names).
const (
	// MaxNameLen is the longest accepted name, in characters (transliterated
	// minority names run to about 30).
	MaxNameLen = 50
	// MaxCellLen is the longest accepted cell of any column, in characters
	// (long enough for a full address with village and house number).
	MaxCellLen = 500
	// maxIssueValue is how much of a value an issue keeps for the report.
	maxIssueValue = 100
)

// tooLong returns the index of the first cell of vals longer than
// MaxCellLen, or -1. Bytes are checked first: almost every cell is far
// shorter than the limit even in bytes, so characters are rarely counted.
func tooLong(vals []string) int {
	for i, v := range vals {
		if len(v) > MaxCellLen && utf8.RuneCountInString(v) > MaxCellLen {
			return i
		}
	}
	return -1
}

// nameTooLong reports whether a name exceeds MaxNameLen characters.
func nameTooLong(name string) bool {
	return len(name) > MaxNameLen && utf8.RuneCountInString(name) > MaxNameLen
}

// clip shortens a value for the issue log, saying how long it was.
func clip(v string) string {
	if len(v) <= maxIssueValue || utf8.RuneCountInString(v) <= maxIssueValue {
		return v
	}
	r := []rune(v)
	return string(r[:maxIssueValue]) + "…（共" + strconv.Itoa(len(r)) + "个字符）"
}

// checkLengths rejects a row holding an oversized cell or name; it reports
// whether the row may go on.
func (c *converter) checkLengths(line int, vals []string) bool {
	if i := tooLong(vals); i >= 0 {
		col := ""
		if i < len(c.header) {
			col = c.header[i]
		}
		c.rejected++
		c.issues.add(Issue{Line: line, Rejected: true, Column: col, Value: vals[i],
			Reason: "内容超过" + strconv.Itoa(MaxCellLen) + "个字符，疑似数据错误，该行未导入"})
		return false
	}
	if name := c.cell(vals, fName); nameTooLong(name) {
		c.reject(line, fName, name, "姓名超过"+strconv.Itoa(MaxNameLen)+"个字符，疑似数据错误，该行未导入")
		return false
	}
	return true
}
