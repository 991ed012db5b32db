package survey

import (
	"strings"
	"unicode"
)

// codeAlphabet has no characters that look alike on paper or on a phone
// keyboard: no 0/O, 1/I/L.
const codeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

const (
	codeBase  = 31
	codeSpace = 887503681 // 31^6
	codeMul   = 387420489 // 3^18, coprime with 31^6: a bijection of [0, codeSpace)
	codeAdd   = 123456789
)

// TaskCode is a household's task code from its id: what survey_task_code
// in migration 000009 computes (a test holds the two together). Six
// characters and a check character that catches any one mistyped
// character and any two neighbours swapped.
func TaskCode(id int64) string {
	n := ((id%codeSpace)*codeMul + codeAdd) % codeSpace
	var b [7]byte
	sum := 0
	for i := 1; i <= 6; i++ {
		d := int(n % codeBase)
		n /= codeBase
		b[6-i] = codeAlphabet[d]
		sum += d * (7 - i)
	}
	b[6] = codeAlphabet[sum%codeBase]
	return string(b[:])
}

// NormalizeCode turns what a clerk typed into a code's canonical form:
// spaces and dashes dropped, upper case, full-width characters made
// half-width. ok is false unless the result is a well-formed
// code with a correct check character.
func NormalizeCode(s string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if unicode.IsSpace(r) || r == '-' || r == '－' {
			continue
		}
		switch { // full-width from a Chinese keyboard
		case r >= 'Ａ' && r <= 'Ｚ':
			r -= 'Ａ' - 'A'
		case r >= '０' && r <= '９':
			r -= '０' - '0'
		}
		b.WriteRune(r)
	}
	code := b.String()
	return code, validCode(code)
}

// validCode reports whether code has the form and check character of a
// task code.
func validCode(code string) bool {
	if len(code) != 7 {
		return false
	}
	sum := 0
	for i := 0; i < 6; i++ {
		d := strings.IndexByte(codeAlphabet, code[i])
		if d < 0 {
			return false
		}
		sum += d * (i + 1)
	}
	return code[6] == codeAlphabet[sum%codeBase]
}
