package idcard

import "time"

// as18 returns id as 18 characters: unchanged when it has 18, converted
// when it is an old 15-digit ID (as peers accept), "" otherwise.
func as18(id string) string {
	switch {
	case len(id) == 18:
		return id
	case len(id) == 15 && plainChars(id):
		var buf [18]byte
		return string(upgrade15(append(buf[:0], id...)))
	}
	return ""
}

// Birth returns the birth date of an 18-character or old 15-digit ID as
// midnight UTC (a calendar date, not an instant); false if the date is not
// real or before 1890. The check character is not verified.
func Birth(id string) (time.Time, bool) {
	id = as18(id)
	if id == "" {
		return time.Time{}, false
	}
	k := birthKey(id)
	if k == 0 {
		return time.Time{}, false
	}
	return time.Date(k/10000, time.Month(k/100%100), k%100, 0, 0, 0, 0, time.UTC), true
}

// Sex reads the sex from the sequence digit (odd = male) of an 18-character
// or old 15-digit ID. ok is false when there is no such digit or when the
// number is a spreadsheet-mangled one, whose sequence is zero padding.
func Sex(id string) (male, ok bool) {
	id = as18(id)
	if id == "" || id[16] < '0' || id[16] > '9' || classify18(id, clock) == Mangled {
		return false, false
	}
	return (id[16]-'0')%2 == 1, true
}

// Male reports whether Sex reads male; false also when Sex cannot tell,
// so check validity first or use Sex.
func Male(id string) bool {
	male, ok := Sex(id)
	return male && ok
}

// AgeOn returns the age in full years on day (its calendar date in its own
// location). The birthday itself counts as reached; someone born on 29 Feb
// reaches the birthday on 1 Mar in non-leap years (as 28 Feb is still before it).
// It reports false for a bad birth date or a day before the birth. The
// old 15-digit form is accepted.
func AgeOn(id string, day time.Time) (int, bool) {
	if id = as18(id); id == "" {
		return 0, false
	}
	b := birthKey(id)
	d := dateKey(day)
	if b == 0 || d < b {
		return 0, false
	}
	age := d/10000 - b/10000
	if d%10000 < b%10000 { // month and day not yet reached this year
		age--
	}
	return age, true
}

// Mask hides an ID for display: 15 or more characters keep the first 6 and
// the last 4 (440981********1234); shorter strings keep only the last 2,
// and strings of 2 characters or fewer are masked entirely. Blanks, dashes
// and full-width characters are normalized first, so that a full-width ID
// is masked like its half-width form.
func Mask(id string) string {
	var buf [32]byte
	r := []rune(string(fold(buf[:0], id)))
	head, tail := 6, 4
	if len(r) < 15 {
		head, tail = 0, 2
	}
	if len(r) <= tail {
		tail = 0
	}
	for i := head; i < len(r)-tail; i++ {
		r[i] = '*'
	}
	return string(r)
}

// Prefix15 returns the first 15 characters of n for matching mangled IDs
// against known ones, or "" when n has no trustworthy 15: it must be valid or
// Mangled with a real birth date (a float rounded to a few digits gives none).
func Prefix15(n Number) string {
	if len(n.Norm) != 18 {
		return ""
	}
	switch n.Damage {
	case OK:
		return n.Norm[:15]
	case Mangled:
		if birthKey(n.Norm) != 0 {
			return n.Norm[:15]
		}
	}
	return ""
}

// Neighbours returns every valid ID (judged by today in Beijing) that differs
// from the 18-character id by one changed character (a digit at positions
// 0-16, a digit or X at 17) or by two swapped adjacent characters; id itself
// (upper-cased) is excluded. The order is fixed: changes by position then by character,
// then swaps by position. It returns nil unless id has 18 bytes.
func Neighbours(id string) []string {
	return neighbours(id, clock)
}

const digitsX = "0123456789X"

func neighbours(id string, today int) []string {
	if len(id) != 18 {
		return nil
	}
	if id[17] == 'x' {
		id = id[:17] + "X" // else its own upper-cased form would be a neighbour
	}
	var out []string
	b := []byte(id)
	keep := func() {
		if classify18(b, today) == OK {
			out = append(out, string(b))
		}
	}
	// A valid ID's check character is the one the weighted sum of its 17
	// digits gives (see checkChar). Of the ~190 candidates, those whose sum
	// gives another check character than theirs are left out before
	// classify18 judges the rest: about one in eleven. When a character
	// is not a digit every candidate is judged.
	sum, digits := 0, true
	for i := 0; i < 17; i++ {
		if b[i] < '0' || b[i] > '9' {
			digits = false
		}
		sum += weights[i] * int(b[i]-'0')
	}
	// passes tells whether a candidate whose sum is the ID's plus delta and
	// whose check character is check may be valid.
	passes := func(delta int, check byte) bool {
		return !digits || checkChars[((sum+delta)%11+11)%11] == check
	}
	for i := range b {
		alphabet := digitsX[:10]
		if i == 17 {
			alphabet = digitsX // only the check character may be X
		}
		orig := b[i]
		for j := 0; j < len(alphabet); j++ {
			c := alphabet[j]
			if c == orig {
				continue
			}
			if i < 17 && !passes(weights[i]*(int(c)-int(orig)), b[17]) || i == 17 && !passes(0, c) {
				continue
			}
			b[i] = c
			keep()
		}
		b[i] = orig
	}
	for i := 0; i+1 < len(b); i++ {
		if b[i] == b[i+1] {
			continue
		}
		if i+1 < 17 && !passes((weights[i]-weights[i+1])*(int(b[i+1])-int(b[i])), b[17]) {
			continue
		}
		b[i], b[i+1] = b[i+1], b[i]
		keep()
		b[i], b[i+1] = b[i+1], b[i]
	}
	return out
}
