// Package names compares Chinese personal names for record linkage.
//
// Department extracts misspell names the way clerks do: a homophone picked
// from the input method (丽/莉), a look-alike misread from a form (己/已),
// or a surname heard in Cantonese (黄/王 are both "Wong"). Compare says
// which of these, if any, explains the difference between two spellings;
// Key gives a blocking key under which homophones meet; Score ranks
// candidates.
//
// Readings come from github.com/mozillazg/go-pinyin. Homophone and Key
// trust only its first (standard) reading of a character, plus the few
// extra readings listed in pinyin.go that names really use (曾 zēng, 单
// shàn, 区 ōu…): the dictionary's full list of readings would make common
// surnames sound alike through archaic readings (叶 xié = 谢, 沈 chén = 陈,
// 方 wǎng = 王). The full list (heteronym mode) only lets a single differing
// given-name character count as Similar; a surname keeps its standard and
// curated readings.
//
// All functions are safe for concurrent use.
package names

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Match says how two names relate.
type Match int

// Matches from weakest to strongest, so that callers can compare them
// (m >= Homophone) rather than list them.
const (
	// Different means spelling does not tell that the names are one.
	Different Match = iota
	// Similar means one character differs, by a look-alike, Cantonese or fuzzy-pinyin confusion.
	Similar
	// Homophone means every character reads the same, tones ignored.
	Homophone
	// Same means the names are identical once normalized.
	Same
)

// String names the match in Chinese, as the registry's reports do.
func (m Match) String() string {
	switch m {
	case Different:
		return "不同"
	case Similar:
		return "形近"
	case Homophone:
		return "同音"
	case Same:
		return "相同"
	}
	return "Match(" + strconv.Itoa(int(m)) + ")"
}

// normRune maps a rune to what a normalized name holds, or to -1 when the
// rune is dropped. Spaces of any kind and the dots that separate parts of
// minority names (阿依古丽·买买提, typed with whatever dot was at hand)
// carry no identity; full-width Latin is what a Chinese input method
// produced for the same letters.
func normRune(r rune) rune {
	if r >= 0xFF01 && r <= 0xFF5E {
		r -= 0xFEE0 // full-width ASCII → ASCII
	}
	switch r {
	case '.', '\u00B7', '\u0387', '\u2022', '\u2027', '\u2219', '\u22C5',
		'\u2E31', '\u30FB', '\uFF65', // middle dots and their look-alikes
		'\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF': // zero-width
		return -1
	}
	if r < 0x80 {
		if r <= ' ' || r == 0x7F {
			return -1
		}
		return r
	}
	if unicode.IsSpace(r) || unicode.IsControl(r) {
		return -1
	}
	return r
}

// Normalize trims and removes spaces (including the full-width U+3000),
// removes middle dots (·•・ and kin) and zero-width characters, and turns
// full-width Latin into ASCII. It keeps letter case: Compare and Key
// ignore it, but a caller displaying the name may not want it changed.
func Normalize(name string) string {
	clean := true
	for _, r := range name {
		if normRune(r) != r {
			clean = false
			break
		}
	}
	if clean && utf8.ValidString(name) {
		return name // the common case allocates nothing
	}
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		if r = normRune(r); r >= 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// appendRunes appends the runes of the normalized name to dst, so that
// Compare and Score can work on a stack buffer without building strings.
func appendRunes(dst []rune, name string) []rune {
	for _, r := range name {
		if r = normRune(r); r >= 0 {
			dst = append(dst, r)
		}
	}
	return dst
}

// Compare says how a and b relate after normalization. An empty name is
// Different from everything, itself included: a missing name proves
// nothing. Similar requires exactly one differing character (two typos
// in a two- or three-character name are as likely another person), a
// look-alike, a Cantonese or fuzzy-pinyin confusion, or two given-name
// characters sharing any of go-pinyin's readings (孟靓/孟亮: 靓 also reads
// liàng). A surname's rare readings do not count (叶伟/谢伟 through 叶 xié
// are two people): Similar is enough to link a record on its own.
// Homophone allows any number, since each still reads the same.
func Compare(a, b string) Match {
	var bufA, bufB [32]rune
	ra, rb := appendRunes(bufA[:0], a), appendRunes(bufB[:0], b)
	return compareRunes(ra, rb)
}

// compareRunes is Compare on normalized runes.
func compareRunes(ra, rb []rune) Match {
	if len(ra) == 0 || len(rb) == 0 || len(ra) != len(rb) {
		return Different
	}
	t := tables()
	diff, soundDiff, at := 0, 0, -1
	for i := range ra {
		if ra[i] == rb[i] {
			continue
		}
		diff++
		if !t.soundAlike(ra[i], rb[i]) {
			soundDiff++
			at = i
		}
	}
	switch {
	case diff == 0:
		return Same
	case soundDiff == 0:
		return Homophone
	case diff == 1 && t.confusable(ra[at], rb[at]):
		return Similar
	case diff == 1 && at >= surnameLen(ra, rb) && t.shareReading(ra[at], rb[at]):
		return Similar
	}
	return Different
}

// Score rates how likely a and b are one person's name, in [0,1], to rank
// candidates: 1 for Same, 0.9 for Homophone, 0.8 for Similar. Different
// names get 0.7×(1−d/n), below 0.7, where d is the edit distance between
// the two names (a substitution by a homophone or confusable character
// costs ½, a swap of neighbours 1) and n the longer length; so 陈大文 vs
// 陈小文 scores 0.47 and 陈大文 vs 李四 scores 0.
func Score(a, b string) float64 {
	var bufA, bufB [32]rune
	ra, rb := appendRunes(bufA[:0], a), appendRunes(bufB[:0], b)
	switch compareRunes(ra, rb) {
	case Same:
		return 1
	case Homophone:
		return 0.9
	case Similar:
		return 0.8
	}
	n := max(len(ra), len(rb))
	if n == 0 {
		return 0
	}
	s := 0.7 * (1 - distance(ra, rb)/float64(n))
	return min(max(s, 0), 0.69)
}

// distance is the optimal-string-alignment edit distance between a and b,
// with cheap substitutions between characters that are typo partners.
func distance(a, b []rune) float64 {
	t := tables()
	w := len(b) + 1
	var buf [3 * 33]float64
	var d []float64
	if 3*w <= len(buf) {
		d = buf[:3*w]
	} else {
		d = make([]float64, 3*w)
	}
	// Three rolling rows: i-2, i-1, i.
	row := func(i int) []float64 { return d[(i%3)*w : (i%3)*w+w] }
	for j := range w {
		row(0)[j] = float64(j)
	}
	for i := 1; i <= len(a); i++ {
		cur, prev := row(i), row(i-1)
		cur[0] = float64(i)
		for j := 1; j < w; j++ {
			sub := 0.0
			if x, y := a[i-1], b[j-1]; x != y {
				sub = 1
				if t.soundAlike(x, y) || t.confusable(x, y) {
					sub = 0.5
				}
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+sub)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, row(i - 2)[j-2]+1)
			}
			cur[j] = v
		}
	}
	return row(len(a))[w-1]
}

// SameCharacters reports whether a and b are spelled with the same
// characters in another order (张丰三 for 张三丰): a typing error that
// Compare, which matches position by position, calls Different. Names
// that are the Same, empty or of one character never qualify.
func SameCharacters(a, b string) bool {
	var bufA, bufB [32]rune
	ra, rb := appendRunes(bufA[:0], a), appendRunes(bufB[:0], b)
	if len(ra) < 2 || len(ra) != len(rb) || slices.Equal(ra, rb) {
		return false
	}
	slices.Sort(ra)
	slices.Sort(rb)
	return slices.Equal(ra, rb)
}
