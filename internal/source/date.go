package source

import (
	"strings"
	"time"
)

// Plausible bounds: anything outside is a typo or a misread column.
const (
	minYear   = 1800
	maxYear   = 2199
	maxSerial = 80000 // Excel serial of 2119-01-11
)

// ParseDate parses the date formats found in extracts and returns midnight UTC
// of that civil date; any time part is ignored. Accepted: 2017-06-30,
// 2017/6/30, 2017.6.30, 20170630, 2017年6月30日, each optionally followed by
// a time (" 08:00:00", "T08:00:00Z"), and Excel serial numbers 1..80000 in the
// 1900 date system (42916, 42916.0, 42916.5). It does not allocate.
func ParseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	n := leadingDigits(s)
	switch {
	case n == 0:
		return time.Time{}, false
	case n == 8 && (len(s) == 8 || isTimeTail(s[8:])):
		return civilDate(atoi(s[:4]), atoi(s[4:6]), atoi(s[6:8]))
	case n <= 5 && isSerialTail(s[n:]) && !yearMonth(s, n):
		return excelSerial(atoi(s[:n]))
	case n == 4:
		return separatedDate(s)
	}
	return time.Time{}, false
}

// separatedDate parses y-m-d with '-', '/', '.' or 年月日, all separators alike.
func separatedDate(s string) (time.Time, bool) {
	y, rest := atoi(s[:4]), s[4:]
	sep1, sep2 := "", ""
	for _, p := range [...][2]string{{"-", "-"}, {"/", "/"}, {".", "."}, {"年", "月"}} {
		if strings.HasPrefix(rest, p[0]) {
			sep1, sep2 = p[0], p[1]
			break
		}
	}
	if sep1 == "" {
		return time.Time{}, false
	}
	rest = rest[len(sep1):]
	m, rest, ok := shortNumber(rest)
	if !ok || !strings.HasPrefix(rest, sep2) {
		return time.Time{}, false
	}
	d, rest, ok := shortNumber(rest[len(sep2):])
	if !ok {
		return time.Time{}, false
	}
	if sep1 == "年" {
		rest = strings.TrimPrefix(rest, "日")
	}
	if rest != "" && !isTimeTail(rest) {
		return time.Time{}, false
	}
	return civilDate(y, m, d)
}

// shortNumber reads a 1- or 2-digit number from the start of s.
func shortNumber(s string) (int, string, bool) {
	n := min(leadingDigits(s), 3)
	if n == 0 || n > 2 {
		return 0, s, false
	}
	return atoi(s[:n]), s[n:], true
}

// civilDate validates y-m-d, including the length of the month.
func civilDate(y, m, d int) (time.Time, bool) {
	if y < minYear || y > maxYear || m < 1 || m > 12 || d < 1 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d { // 2月30日 rolled over into March
		return time.Time{}, false
	}
	return t, true
}

// excelSerial converts a 1900-system serial. Excel counts the non-existent
// 1900-02-29 as serial 60, so serials after it are one day ahead of a plain
// day count from 1899-12-31.
func excelSerial(n int) (time.Time, bool) {
	switch {
	case n < 1 || n > maxSerial || n == 60:
		return time.Time{}, false
	case n < 60:
		return time.Date(1899, 12, 31+n, 0, 0, 0, 0, time.UTC), true
	}
	return time.Date(1899, 12, 30+n, 0, 0, 0, 0, time.UTC), true
}

// yearMonth spots "2017" and "2017.06": a bare year or a year and month, not
// serial 2017 (1905-07-09), a date no living person's record has.
func yearMonth(s string, n int) bool {
	y := atoi(s[:n])
	return n == 4 && y >= minYear && y <= maxYear && len(s) <= n+3
}

// isSerialTail accepts "" or a fractional part (".0", ".5") after a serial.
func isSerialTail(s string) bool {
	if s == "" {
		return true
	}
	return s[0] == '.' && len(s) > 1 && leadingDigits(s[1:]) == len(s)-1
}

// isTimeTail accepts a time after a date: a space or 'T', then clock text.
func isTimeTail(s string) bool {
	if s == "" || (s[0] != ' ' && s[0] != 'T') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9') && !strings.ContainsRune(" :.+-Z", rune(c)) {
			return false
		}
	}
	return true
}

// leadingDigits counts the ASCII digits at the start of s.
func leadingDigits(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// atoi converts a short run of ASCII digits; callers guarantee digits only.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// China is the time the bureaus keep (UTC+8, no daylight saving): the
// calendar day of an import, a change or "today" is China's, wherever the
// server's clock is set.
var China = time.FixedZone("CST", 8*3600)

// Day is the calendar day of t in China time, as midnight UTC (the form
// ParseDate gives dates in and a date column reads back as).
func Day(t time.Time) time.Time {
	y, m, d := t.In(China).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
