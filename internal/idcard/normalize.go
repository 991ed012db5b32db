package idcard

import (
	"unicode"
	"unicode/utf8"
)

// Normalize returns the cleaned form of raw without validating it: blanks
// removed anywhere, full-width characters made half-width, x made X,
// spreadsheet quoting stripped, float notation expanded to digits, and a
// 15-digit old ID converted to 18 characters. Parse(raw).Norm == Normalize(raw).
func Normalize(raw string) string {
	s, _, _ := clean(raw)
	return s
}

// clean is Normalize that also reports whether the 15-digit form was
// converted and whether a float expansion padded lost digits with zeros.
func clean(raw string) (s string, was15, lossy bool) {
	if len(raw) == 18 && plainChars(raw) {
		return raw, false, false
	}
	var buf [32]byte
	b := fold(buf[:0], raw)
	b = trimQuotes(b)
	b, lossy = expand(b)
	if len(b) == 15 && plainChars(string(b)) {
		b = upgrade15(b)
		was15 = true
	}
	return string(b), was15, lossy
}

// fold appends raw to b without blanks or dashes between digits, with
// full-width forms and curly quotes made ASCII and x made X. Invalid UTF-8 becomes U+FFFD, which later
// fails as BadChar.
func fold(b []byte, raw string) []byte {
	for _, r := range raw {
		switch {
		case isBlank(r):
			continue
		case r >= 0xFF01 && r <= 0xFF5E: // full-width forms of ASCII '!'..'~'
			r -= 0xFF01 - '!'
		case r == '‘' || r == '’':
			r = '\''
		case r == '“' || r == '”':
			r = '"'
		}
		if r == 'x' {
			r = 'X'
		}
		if isDash(r) && len(b) > 0 && b[len(b)-1] >= '0' && b[len(b)-1] <= '9' {
			continue // 110105-19491231-002X groups digits like spaces do
		}
		b = utf8.AppendRune(b, r)
	}
	return b
}

// isDash reports a hyphen or dash that people put between groups of digits.
func isDash(r rune) bool { return r == '-' || r >= '\u2010' && r <= '\u2015' || r == '\u2212' }

// isBlank reports white space, including the invisible characters that
// exports leave behind (zero-width space, word joiner, BOM at a file start).
func isBlank(r rune) bool {
	switch r {
	case '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF':
		return true
	}
	return unicode.IsSpace(r)
}

// trimQuotes strips what spreadsheets wrap around text: a leading apostrophe
// ('110105...), surrounding quotes, and the ="..." formula trick used in CSV
// exports to keep digits as text. It loops so that the result is stable.
func trimQuotes(b []byte) []byte {
	for {
		n := len(b)
		if len(b) > 1 && b[0] == '=' && isQuote(b[1]) {
			b = b[1:]
		}
		for len(b) > 0 && isQuote(b[0]) {
			b = b[1:]
		}
		for len(b) > 0 && isQuote(b[len(b)-1]) {
			b = b[:len(b)-1]
		}
		if len(b) == n {
			return b
		}
	}
}

func isQuote(c byte) bool { return c == '\'' || c == '"' || c == '`' }

// maxDigits bounds float expansion so that "1E+999999" cannot allocate much.
const maxDigits = 20

// expand rewrites a number a spreadsheet printed as a float, such as
// "4.40981199001011E+17", "4.40981199001011e17" or "440981199001011000.0",
// as plain digits. lossy reports that the float had fewer significant digits
// than the integer it stands for and 15 or more digits in all: the missing
// digits became zeros. A float showing all 15 digits of a 15-digit number is
// exact (spreadsheets keep 15), which is how an old 15-digit ID survives as
// "1.10105491231002E+14"; one showing fewer ("4.4098190101E+14") was cut
// short by a column's display format and is never taken as an exact ID.
// Anything else is returned unchanged.
func expand(b []byte) ([]byte, bool) {
	mant, exp, ok := splitExp(b)
	if !ok {
		return trimZeroFraction(b), false
	}
	intPart, frac := splitDot(mant)
	if len(intPart) == 0 || intPart[0] == '0' || !isDigits(intPart) || !isDigits(frac) || len(frac) > exp {
		return b, false
	}
	total := len(intPart) + exp
	if total > maxDigits {
		return b, false
	}
	sig := len(intPart) + len(frac)
	copy(b[len(intPart):], frac) // close the gap left by the '.'
	b = b[:sig]
	for len(b) < total {
		b = append(b, '0')
	}
	return b, total >= 15 && sig < total
}

// splitExp splits "m E [+] ddd" into mantissa and exponent; ok is false when
// b has no exponent or a malformed (or negative) one.
func splitExp(b []byte) (mant []byte, exp int, ok bool) {
	i := len(b) - 1
	for i >= 0 && b[i] != 'E' && b[i] != 'e' {
		i--
	}
	if i <= 0 {
		return nil, 0, false
	}
	e := b[i+1:]
	if len(e) > 0 && e[0] == '+' {
		e = e[1:]
	}
	if len(e) == 0 || len(e) > 3 || !isDigits(e) {
		return nil, 0, false
	}
	for _, c := range e {
		exp = exp*10 + int(c-'0')
	}
	return b[:i], exp, true
}

// splitDot splits b at its first '.'; frac is empty when there is none.
func splitDot(b []byte) (intPart, frac []byte) {
	for i, c := range b {
		if c == '.' {
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

// trimZeroFraction turns "440981199001011000.0" into its integer digits;
// other input is returned unchanged.
func trimZeroFraction(b []byte) []byte {
	intPart, frac := splitDot(b)
	if len(intPart) == 0 || len(frac) == 0 || !isDigits(intPart) {
		return b
	}
	for _, c := range frac {
		if c != '0' {
			return b
		}
	}
	return intPart
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// upgrade15 converts an old 15-digit ID (YYMMDD of the 1900s) to 18
// characters: "19" goes before the year and the check character is added.
func upgrade15(b []byte) []byte {
	b = append(b, 0, 0, 0)
	copy(b[8:17], b[6:15])
	b[6], b[7] = '1', '9'
	b[17] = checkChar(b)
	return b
}
