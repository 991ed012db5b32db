package compare

import (
	"slices"
	"strconv"

	"github.com/canbao/canbao/internal/batchdiff"
	"github.com/canbao/canbao/internal/idcard"
)

// knownIDs is the set of valid IDs of a run, packed as sorted integers (8
// bytes a person instead of a map entry), so that a city's million persons
// fit in a few megabytes and candidate lookups are binary searches.
type knownIDs []uint64

// pack turns an 18-character ID into an integer that sorts like the text:
// the 17 digits, then the check character with X as 10.
func pack(id string) (uint64, bool) {
	if len(id) != 18 {
		return 0, false
	}
	n, err := strconv.ParseUint(id[:17], 10, 64)
	if err != nil {
		return 0, false
	}
	c := id[17]
	switch {
	case c >= '0' && c <= '9':
		return n*11 + uint64(c-'0'), true
	case c == 'X':
		return n*11 + 10, true
	}
	return 0, false
}

func unpack(v uint64) string { return batchdiff.Unpack(v) }

func (k knownIDs) has(id string) bool {
	v, ok := pack(id)
	if !ok {
		return false
	}
	_, found := slices.BinarySearch(k, v)
	return found
}

// withPrefix15 returns the known IDs whose first 15 characters are p.
func (k knownIDs) withPrefix15(p string) []string {
	base, err := strconv.ParseUint(p, 10, 64)
	if err != nil || len(p) != 15 {
		return nil
	}
	return k.inRange(nil, base*100*11, (base+1)*100*11)
}

// withPrefix14 returns the known IDs whose first 14 characters (region and
// birth date) are p.
func (k knownIDs) withPrefix14(p string) []string {
	base, err := strconv.ParseUint(p, 10, 64)
	if err != nil || len(p) != 14 {
		return nil
	}
	return k.inRange(nil, base*1000*11, (base+1)*1000*11)
}

// inRange appends the known IDs v with lo <= v < hi to out.
func (k knownIDs) inRange(out []string, lo, hi uint64) []string {
	i, _ := slices.BinarySearch(k, lo)
	for ; i < len(k) && k[i] < hi; i++ {
		out = append(out, unpack(k[i]))
	}
	return out
}

// roundedFrom returns the known IDs a spreadsheet number with the first 15
// digits p may stand for. Spreadsheets keep 15 significant digits: Excel
// truncates on entry, but a number written out is rounded, so the true
// first 15 digits are p or, rounded up, p minus one in the last place
// (issue 15: 440981199708130741 is stored as 4.40981199708131E+17).
func (k knownIDs) roundedFrom(p string) []string {
	base, err := strconv.ParseUint(p, 10, 64)
	if err != nil || len(p) != 15 {
		return nil
	}
	out := k.inRange(nil, base*1100, (base+1)*1100)
	if base > 0 {
		out = k.inRange(out, (base-1)*1100, base*1100)
	}
	return out
}

// candidates are the known persons a pending record may belong to by its
// ID: its own valid ID (the name decides, with same-name persons added by
// the caller), the IDs one typo away from a damaged one, or, for a number
// a spreadsheet mangled, those its first 15 characters may be rounded from. The check
// character catches every single typo, so a valid ID has no valid
// neighbours worth trying.
func (k knownIDs) candidates(p *pending) []string {
	switch p.damage {
	case "ok":
		return []string{p.id}
	case "check", "date", "region":
		var out []string
		for _, n := range idcard.Neighbours(p.id) {
			if k.has(n) {
				out = append(out, n)
			}
		}
		return out
	case "mangled":
		return k.roundedFrom(idcard.Prefix15(idcard.Number{Norm: p.id, Damage: idcard.Mangled}))
	}
	return nil
}
