package demo

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// The check character of GB 11643-1999. It is computed here rather than
// imported because internal/idcard is being written at the same time and
// the generator must not depend on the code it is meant to test.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// checkChar returns the check character for the first 17 digits of body.
func checkChar(body string) byte {
	sum := 0
	for i := range 17 {
		sum += int(body[i]-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// makeID builds an 18-character ID; seq must already carry the sex parity.
func makeID(area string, birth time.Time, seq int) string {
	body := area + birth.Format("20060102") + fmt.Sprintf("%03d", seq)
	return body + string(checkChar(body))
}

// checksumOK reports whether id looks like a valid 18-character ID. The
// generator uses it to make sure a damaged ID never turns valid by chance.
func checksumOK(id string) bool {
	if len(id) != 18 {
		return false
	}
	for i := range 17 {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return checkChar(id) == id[17]
}

// idWrongDigit replaces one character of id by another digit.
func idWrongDigit(id string, r *rand.Rand) string {
	b := []byte(id)
	i := r.IntN(18)
	d := byte('0' + r.IntN(10))
	for d == b[i] {
		d = byte('0' + r.IntN(10))
	}
	b[i] = d
	return string(b)
}

// idSwap exchanges two neighbouring, different characters of id.
func idSwap(id string, r *rand.Rand) string {
	b := []byte(id)
	for range 50 {
		i := r.IntN(17)
		if b[i] != b[i+1] {
			b[i], b[i+1] = b[i+1], b[i]
			return string(b)
		}
	}
	return id
}

// idNeighbours calls f with every string one substitution or one
// neighbour swap away from id: the candidates a linker would try.
func idNeighbours(id string, f func(string)) {
	b := []byte(id)
	for i := range b {
		orig := b[i]
		for _, c := range []byte("0123456789X") {
			if c != orig {
				b[i] = c
				f(string(b))
			}
		}
		b[i] = orig
	}
	for i := 0; i+1 < len(b); i++ {
		if b[i] != b[i+1] {
			b[i], b[i+1] = b[i+1], b[i]
			f(string(b))
			b[i], b[i+1] = b[i+1], b[i]
		}
	}
}

// idScientific renders an all-digit id the way a spreadsheet exports a
// number: 15 significant digits in scientific notation.
func idScientific(id string) string {
	m := strings.TrimRight(id[1:15], "0")
	if m == "" {
		return id[:1] + "E+17"
	}
	return id[:1] + "." + m + "E+17"
}

// idAsNumber is the value a spreadsheet keeps when an ID is typed into a
// number cell: the first 15 digits, the rest zeros.
func idAsNumber(id string) float64 {
	v, _ := strconv.ParseFloat(id[:15]+"000", 64)
	return v
}

// idRounded renders an all-digit id as a spreadsheet writes a number out:
// 15 significant digits, rounded (Excel truncates only on entry).
func idRounded(id string) string {
	v, _ := strconv.ParseFloat(id, 64)
	return strconv.FormatFloat(v, 'E', 14, 64)
}

// idOld returns the 15-character form used before 1999 (no century, no check).
func idOld(id string) string { return id[:6] + id[8:17] }

// fullWidth turns ASCII digits and letters into their full-width forms,
// as typed by a Chinese input method left in full-width mode.
func fullWidth(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '!' && c <= '~' {
			c += 0xFEE0
		}
		b.WriteRune(c)
	}
	return b.String()
}

// idSpaced inserts the spaces that copying from a printed form leaves.
func idSpaced(id string, r *rand.Rand) string {
	switch r.IntN(3) {
	case 0:
		return id[:6] + " " + id[6:14] + " " + id[14:]
	case 1:
		return " " + id + " "
	}
	return id[:6] + " " + id[6:]
}
