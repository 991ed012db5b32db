package names

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	pinyin "github.com/mozillazg/go-pinyin"
)

// surnameReadings are readings that surnames take besides a character's
// first (standard) reading in go-pinyin. Key prefers them for the first
// character of a name, and Compare accepts them anywhere. Only readings
// go-pinyin also lists are allowed (a test checks it).
var surnameReadings = map[rune]string{
	'曾': "zeng", '单': "shan", '解': "xie", '仇': "qiu", '区': "ou",
	'查': "zha", '朴': "piao", '盖': "ge", '缪': "miao", '翟': "zhai",
	'覃': "qin", '种': "chong", '召': "shao", '乐': "yue", '秘': "bi",
	'繁': "po", '员': "yun", '隗': "wei", '折': "she", '能': "nai",
	'句': "gou", '卜': "bu", '洗': "xian", '长': "chang", '都': "du",
	'阚': "kan", '薄': "bo", '重': "chong",
}

// givenReadings are second readings common in given names (朝晖 zhāohuī);
// Compare accepts them, Key does not prefer them.
//
// Left out on purpose, though go-pinyin lists them, because they would
// make distinct common surnames or given-name characters homophones:
// 叶 xié (谢), 沈 chén/tán (陈, 谭), 陆 liù (刘), 任 lìn (林), 王 yù (玉),
// 方 wǎng (王), 余 xú (徐), 许 hǔ (胡), 丁 zhēng (郑), 游 liú (刘),
// 甘 hān (韩), 万 mò (莫), 单 chán, 尉 yù, 车 jū, 明 mèng (孟).
var givenReadings = map[rune]string{
	'朝': "zhao",
}

// table holds the readings of every character go-pinyin knows, built once.
type table struct {
	syl    []string          // toneless syllables by id; id 0 is unused
	dense  []uint16          // first reading of runes denseLo… by id, 0 = none
	other  map[rune]uint16   // first reading of runes outside the dense range
	extra  map[rune][]uint16 // surname and given-name readings by id
	sur    map[rune]uint16   // reading preferred as a surname
	other2 map[rune][]uint16 // every further reading go-pinyin lists (heteronym mode)
	pairs  map[uint64]bool   // confusable character pairs, see confusable.go
	fuzzy  map[uint32]bool   // syllable pairs one fuzzy-pinyin step apart
}

// The CJK blocks most names are written in get a dense table; the rest of
// go-pinyin's dictionary (extension B and beyond) a map.
const (
	denseLo = 0x3400
	denseHi = 0xA000
)

var (
	tableOnce sync.Once
	theTable  *table
)

// tables returns the reading tables, building them on first use (about
// 10 ms) so that importing the package costs nothing.
func tables() *table {
	tableOnce.Do(func() { theTable = buildTable() })
	return theTable
}

// buildTable reads go-pinyin's dictionary directly: its per-call API
// strips tones with regular expressions and costs microseconds a rune.
func buildTable() *table {
	t := &table{
		syl:    []string{""},
		dense:  make([]uint16, denseHi-denseLo),
		other:  make(map[rune]uint16),
		extra:  make(map[rune][]uint16, len(surnameReadings)+len(givenReadings)),
		sur:    make(map[rune]uint16, len(surnameReadings)+len(givenReadings)),
		other2: make(map[rune][]uint16, 8192),
	}
	ids := make(map[string]uint16, 512)
	intern := func(s string) uint16 {
		id, ok := ids[s]
		if !ok {
			id = uint16(len(t.syl))
			ids[s] = id
			t.syl = append(t.syl, s)
		}
		return id
	}
	for code, readings := range pinyin.PinyinDict {
		first, rest, _ := strings.Cut(readings, ",")
		id := intern(toneless(first))
		if r := rune(code); r >= denseLo && r < denseHi {
			t.dense[r-denseLo] = id
		} else {
			t.other[r] = id
		}
		for rest != "" {
			var one string
			one, rest, _ = strings.Cut(rest, ",")
			if more := intern(toneless(one)); more != id && !slices.Contains(t.other2[rune(code)], more) {
				t.other2[rune(code)] = append(t.other2[rune(code)], more)
			}
		}
	}
	for r, s := range surnameReadings {
		id := intern(s)
		t.extra[r] = append(t.extra[r], id)
		t.sur[r] = id
	}
	for r, s := range givenReadings {
		t.extra[r] = append(t.extra[r], intern(s))
	}
	t.pairs = buildPairs()
	t.fuzzy = buildFuzzy(t.syl)
	return t
}

// toneMarks maps go-pinyin's toned letters to toneless ones exactly as its
// Normal style does (ü is written v), so that keys match go-pinyin's.
var toneMarks = strings.NewReplacer(
	"ā", "a", "á", "a", "ǎ", "a", "à", "a",
	"ē", "e", "é", "e", "ě", "e", "è", "e",
	"ō", "o", "ó", "o", "ǒ", "o", "ò", "o",
	"ī", "i", "í", "i", "ǐ", "i", "ì", "i",
	"ū", "u", "ú", "u", "ǔ", "u", "ù", "u",
	"ü", "v", "ǘ", "v", "ǚ", "v", "ǜ", "v",
	"ń", "n", "ň", "n", "ǹ", "n", "ḿ", "m",
)

// toneless strips the tone marks of one toned syllable.
func toneless(s string) string { return toneMarks.Replace(s) }

// first returns the id of r's first reading, 0 when r has none.
func (t *table) first(r rune) uint16 {
	switch {
	case r >= denseLo && r < denseHi:
		return t.dense[r-denseLo]
	case r < 0x3007: // below the dictionary's first entry (〇)
		return 0
	}
	return t.other[r]
}

// readings appends the ids of all readings of r that names use.
func (t *table) readings(dst []uint16, r rune) []uint16 {
	if id := t.first(r); id != 0 {
		dst = append(dst, id)
		dst = append(dst, t.extra[r]...)
	}
	return dst
}

// soundAlike reports whether x and y, two different runes, read the same:
// Han characters sharing a reading, other runes equal but for case.
func (t *table) soundAlike(x, y rune) bool {
	fx, fy := t.first(x), t.first(y)
	if fx == 0 || fy == 0 {
		return fx == fy && unicode.ToLower(x) == unicode.ToLower(y)
	}
	if fx == fy {
		return true
	}
	ex, ey := t.extra[x], t.extra[y]
	if len(ex) == 0 && len(ey) == 0 {
		return false
	}
	var bx, by [4]uint16
	for _, a := range t.readings(bx[:0], x) {
		for _, b := range t.readings(by[:0], y) {
			if a == b {
				return true
			}
		}
	}
	return false
}

// shareReading reports whether x and y share any reading go-pinyin lists
// for them, rare ones included (靓 jìng/liàng and 亮 liàng). Too loose to
// make whole names homophones or to apply to surnames (叶 xié would meet
// 谢), it lets Compare explain a single differing given-name character.
func (t *table) shareReading(x, y rune) bool {
	fx, fy := t.first(x), t.first(y)
	if fx == 0 || fy == 0 {
		return false
	}
	var bx, by [8]uint16
	ax := append(t.readings(bx[:0], x), t.other2[x]...)
	ay := append(t.readings(by[:0], y), t.other2[y]...)
	for _, a := range ax {
		if slices.Contains(ay, a) {
			return true
		}
	}
	return false
}

// appendKeyRune appends the key of one rune of a normalized name.
func (t *table) appendKeyRune(dst []byte, r rune, surname bool) []byte {
	if surname {
		if id, ok := t.sur[r]; ok {
			return append(dst, t.syl[id]...)
		}
	}
	if id := t.first(r); id != 0 {
		return append(dst, t.syl[id]...)
	}
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(dst, byte(r))
	}
	return utf8.AppendRune(dst, unicode.ToLower(r))
}

// Key returns a blocking key: the toneless pinyin of the normalized name,
// syllables joined without separator (ü as v: 吕 → lv), other runes
// lower-cased. A polyphonic character takes go-pinyin's first reading,
// except that the first character of the name takes its surname reading
// (曾 zeng, 单 shan, 区 ou, 长 chang…). Homophones share a key unless they
// meet only on another reading of a polyphonic character; KeyVariants
// covers those. Look-alikes (黄/王) do not share a key.
func Key(name string) string {
	t := tables()
	var buf [64]byte
	dst := buf[:0]
	first := true
	for _, r := range name {
		if r = normRune(r); r < 0 {
			continue
		}
		dst = t.appendKeyRune(dst, r, first)
		first = false
	}
	return string(dst)
}

// maxVariants bounds KeyVariants; names reach it only with five or more
// characters that have extra readings.
const maxVariants = 32

// KeyVariants returns Key(name) first, then the keys under the other
// readings that names use for its polyphonic characters (区 qu/ou, 长
// zhang/chang…), at most 32. Two names that Compare calls Same or
// Homophone always share at least one variant, so indexing every
// variant loses no homophone to blocking. Most names have one variant.
func KeyVariants(name string) []string {
	t := tables()
	var buf [32]rune
	rs := appendRunes(buf[:0], name)
	// choices[i] lists the reading ids of rs[i], Key's choice first; nil
	// for runes with a single key.
	var choices [][]uint16
	for i, r := range rs {
		if len(t.extra[r]) == 0 || t.first(r) == 0 {
			continue
		}
		if choices == nil {
			choices = make([][]uint16, len(rs))
		}
		all := t.readings(nil, r)
		if i == 0 {
			if s, ok := t.sur[r]; ok {
				all = moveFront(all, s)
			}
		}
		choices[i] = all
	}
	if choices == nil {
		return []string{Key(name)}
	}
	var out []string
	seen := make(map[string]bool)
	pick := make([]int, len(rs))
	for len(out) < maxVariants {
		var b []byte
		for i, r := range rs {
			if choices[i] != nil {
				b = append(b, t.syl[choices[i][pick[i]]]...)
			} else {
				b = t.appendKeyRune(b, r, i == 0)
			}
		}
		if k := string(b); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
		// Advance the odometer, last position fastest.
		i := len(rs) - 1
		for ; i >= 0; i-- {
			if choices[i] == nil {
				continue
			}
			if pick[i]++; pick[i] < len(choices[i]) {
				break
			}
			pick[i] = 0
		}
		if i < 0 {
			break
		}
	}
	return out
}

// moveFront moves id to the front of ids, keeping the others' order.
func moveFront(ids []uint16, id uint16) []uint16 {
	for i, v := range ids {
		if v == id {
			copy(ids[1:i+1], ids[:i])
			ids[0] = id
			break
		}
	}
	return ids
}
