package idcard

import (
	"sync/atomic"
	"time"
)

// Number is a parsed ID.
type Number struct {
	// Norm is the normalized form: 18 characters when possible; for Mangled
	// the recovered digits padded with zeros to 18; otherwise the cleaned input.
	Norm   string
	Damage Damage // Damage is OK for a valid ID.
	Was15  bool   // Was15 reports that the input was the old 15-digit form (converted, not an error).
}

// minYear is the earliest birth year accepted; older dates are typing errors.
const minYear = 1890

// beijing is the zone "today" is taken in: IDs carry Beijing calendar dates,
// so a baby born just after midnight in China must not look born in the future
// on a server running in UTC.
var beijing = time.FixedZone("CST", 8*60*60)

// Parse normalizes and classifies raw, judging future birth dates by today's date in Beijing.
func Parse(raw string) Number {
	return parse(raw, clock)
}

// ParseAt is Parse with an explicit today (its calendar date in its own location), for deterministic tests.
func ParseAt(raw string, today time.Time) Number {
	return parse(raw, dateKey(today))
}

// Valid reports whether n is a valid ID after normalization (Parse is
// lenient about blanks, width, case and the 15-digit form; see ValidAsGiven).
func (n Number) Valid() bool { return n.Damage == OK }

// ValidAsGiven reports whether id is valid exactly as given, with no
// normalization: 18 characters, a known province, a real birth date not
// in the future, a correct check character. It is strict where
// Parse(raw).Valid() is lenient (that one judges the normalized form).
func ValidAsGiven(id string) bool {
	return len(id) == 18 && classify18(id, clock) == OK
}

// parse keeps the common case (an already clean 18-character ID) free of
// allocations: only when that fails does it run the full cleaning.
func parse(raw string, today int) Number {
	if len(raw) == 18 {
		if d := classify18(raw, today); d != BadChar {
			return Number{Norm: raw, Damage: d}
		}
	}
	s, was15, lossy := clean(raw)
	return Number{Norm: s, Damage: classify(s, lossy, today), Was15: was15}
}

// classify judges a cleaned ID. lossy means it came from a float that lost
// digits, which is Mangled whatever the check character says: a padded
// number passes the check by chance one time in eleven.
func classify(s string, lossy bool, today int) Damage {
	switch {
	case s == "":
		return Blank
	case len(s) != 18 && digitsFinalX(s):
		return BadLength // 1101051949123102X is a digit short, not a bad character
	case !plainChars(s):
		return BadChar
	case len(s) != 18:
		return BadLength
	case lossy:
		return Mangled
	}
	return classify18(s, today)
}

// plainChars reports whether s holds only ASCII digits, allowing a final X
// when s has 18 characters (the check character is the only place for X).
func plainChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' || c == 'X' && i == 17 && len(s) == 18 {
			continue
		}
		return false
	}
	return true
}

// digitsFinalX reports whether s is ASCII digits, the last one possibly X.
func digitsFinalX(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c == 'X' && i == len(s)-1) {
			return false
		}
	}
	return true
}

// classify18 judges an 18-byte ID. It is generic so that Neighbours can test
// candidates in a byte buffer without converting each one to a string.
// Digits ending in "00" with a failing check are taken as a float whose last
// digits were zeroed (a spreadsheet), not as a typo.
func classify18[T ~string | ~[]byte](s T, today int) Damage {
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return BadChar
		}
	}
	if last := s[17]; (last < '0' || last > '9') && last != 'X' {
		return BadChar
	}
	if !knownProvince(s) {
		return BadRegion
	}
	if k := birthKey(s); k == 0 || !notFuture(k, today) {
		return BadDate
	}
	switch {
	case checkChar(s) == s[17]:
		return OK
	case s[16] == '0' && s[17] == '0':
		return Mangled
	}
	return BadCheck
}

var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const checkChars = "10X98765432"

// CheckChar returns the check character ('0'-'9' or 'X') for the first 17 digits of an ID.
// It never panics: it returns 0 unless first17 is exactly 17 ASCII digits.
func CheckChar(first17 string) byte {
	if len(first17) != 17 {
		return 0
	}
	return checkChar(first17)
}

// checkChar computes the check character of s[:17], or 0 if a byte there is not a digit.
func checkChar[T ~string | ~[]byte](s T) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		d := s[i] - '0'
		if d > 9 {
			return 0
		}
		sum += weights[i] * int(d)
	}
	return checkChars[sum%11]
}

// clock, passed where a today date key is expected, means "read the clock
// when needed". No real date key is 0.
const clock = 0

// seenToday is the latest date key read from the clock. Calendar days only
// move forward, so a birth date up to it is not in the future and needs no
// clock read: on virtual machines time.Now costs more than a whole Parse.
var seenToday atomic.Int64

// notFuture reports whether the birth date key k is on or before today.
func notFuture(k, today int) bool {
	if today != clock {
		return k <= today
	}
	if int64(k) <= seenToday.Load() {
		return true
	}
	t := todayKey()
	seenToday.Store(int64(t))
	return k <= t
}

// todayKey is today's date in Beijing as yyyymmdd.
func todayKey() int { return dateKey(time.Now().In(beijing)) }

// dateKey packs a calendar date as yyyymmdd so that comparing dates is comparing ints.
func dateKey(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// birthKey returns the birth date at s[6:14] as yyyymmdd, or 0 if it is not
// a real calendar date on or after 1890-01-01. s must have at least 14 bytes.
func birthKey[T ~string | ~[]byte](s T) int {
	k := 0
	for i := 6; i < 14; i++ {
		d := s[i] - '0'
		if d > 9 {
			return 0
		}
		k = k*10 + int(d)
	}
	y, m, d := k/10000, k/100%100, k%100
	if y < minYear || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0
	}
	return k
}

// daysIn returns the number of days in month m of year y (proleptic Gregorian).
func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
