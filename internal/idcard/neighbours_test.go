package idcard

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// neighboursEveryOne is neighbours as it was before the check-sum
// shortcut: every candidate judged by classify18.
func neighboursEveryOne(id string, today int) []string {
	if len(id) != 18 {
		return nil
	}
	if id[17] == 'x' {
		id = id[:17] + "X"
	}
	var out []string
	b := []byte(id)
	keep := func() {
		if classify18(b, today) == OK {
			out = append(out, string(b))
		}
	}
	for i := range b {
		alphabet := digitsX[:10]
		if i == 17 {
			alphabet = digitsX
		}
		orig := b[i]
		for j := 0; j < len(alphabet); j++ {
			if alphabet[j] != orig {
				b[i] = alphabet[j]
				keep()
			}
		}
		b[i] = orig
	}
	for i := 0; i+1 < len(b); i++ {
		if b[i] != b[i+1] {
			b[i], b[i+1] = b[i+1], b[i]
			keep()
			b[i], b[i+1] = b[i+1], b[i]
		}
	}
	return out
}

// TestNeighboursShortcut holds neighbours to judging every candidate, in
// the same order, on valid IDs damaged every way a record's are: digits
// changed or swapped, check characters wrong, letters, a lower-case x,
// mangled tails.
func TestNeighboursShortcut(t *testing.T) {
	today := dateKey(today)
	rng := rand.New(rand.NewPCG(7, 7))
	ids := []string{"440981199001011239", "11010519491231002x", "11010519491231002X", "44098119900101I239",
		"440981195410113000", "4409811990010112X9", "x40981199001011239", "44098119900101123", "0000000000000000000"}
	for range 3000 {
		body := []byte("440981")
		if rng.IntN(4) == 0 {
			body = []byte{byte('1' + rng.IntN(6)), byte('0' + rng.IntN(10)), '0', '1', '0', '2'}
		}
		y := 1900 + rng.IntN(130)
		body = append(body, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
		m, d := 1+rng.IntN(12), 1+rng.IntN(31)
		body = append(body, byte('0'+m/10), byte('0'+m%10), byte('0'+d/10), byte('0'+d%10))
		for range 3 {
			body = append(body, byte('0'+rng.IntN(10)))
		}
		id := append(body, checkChar(body))
		switch rng.IntN(6) {
		case 0: // one digit changed
			id[rng.IntN(17)] = byte('0' + rng.IntN(10))
		case 1: // two adjacent swapped
			i := rng.IntN(17)
			id[i], id[i+1] = id[i+1], id[i]
		case 2: // wrong check character
			id[17] = digitsX[rng.IntN(11)]
		case 3: // a letter
			id[rng.IntN(18)] = "IOlx "[rng.IntN(5)]
		case 4: // mangled
			copy(id[15:], "000")
		}
		ids = append(ids, string(id))
	}
	for _, id := range ids {
		got, want := neighbours(id, today), neighboursEveryOne(id, today)
		if !slices.Equal(got, want) {
			t.Fatalf("neighbours(%q) = %v, judging every candidate gives %v", id, got, want)
		}
	}
}
