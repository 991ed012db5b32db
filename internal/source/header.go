package source

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mapping maps field keys to 0-based column indexes.
type Mapping map[string]int

// HeaderScanRows is how many leading non-blank rows callers should hand to
// FindHeader: enough for a title, a subtitle and notes above the header.
const HeaderScanRows = 20

// minContainsRunes is the shortest alias matched inside a longer header text;
// shorter ones (姓名, 单位) would match too much (户主姓名, 单位地址).
const minContainsRunes = 4

// otherPerson marks headers about someone else (the head of household, a
// guardian): they contain our aliases but must not map to this person's fields.
var otherPerson = []string{"户主", "监护人", "父亲", "母亲", "配偶", "联系人", "经办人"}

// requiredMarks are stripped from both ends of header text.
const requiredMarks = "*※★☆#"

// optionalNotes are trailing notes that do not change a column's meaning.
var optionalNotes = []string{"(必填)", "(必填项)", "(选填)", "(可选)", "(非必填)", ":"}

// matcher holds the normalised aliases of one kind.
type matcher struct {
	exact map[string]string // normalised alias → field key
	long  []alias           // aliases long enough for containment matching
}

// alias is one normalised alias of a field.
type alias struct{ text, key string }

// matchers is built once from fields.
var matchers = buildMatchers()

// buildMatchers normalises every field name and alias of every kind.
func buildMatchers() map[Kind]*matcher {
	out := make(map[Kind]*matcher, len(fields))
	for k, fs := range fields {
		m := &matcher{exact: map[string]string{}}
		for _, f := range fs {
			for _, a := range append([]string{f.Name}, f.Aliases...) {
				n := normHeader(a)
				m.exact[n] = f.Key
				if utf8.RuneCountInString(n) >= minContainsRunes {
					m.long = append(m.long, alias{n, f.Key})
				}
			}
		}
		out[k] = m
	}
	return out
}

// normHeader folds the ways people decorate header text: white space anywhere
// (姓 名, line breaks), full-width forms, ASCII case, required marks (*姓名,
// 姓名※) and notes such as (必填).
func normHeader(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII block
			r -= 0xFF01 - 0x21
		case r == '【' || r == '〔':
			r = '['
		case r == '】' || r == '〕':
			r = ']'
		case unicode.IsSpace(r) || r == '\uFEFF' || r == '\u200B':
			continue
		}
		if r < utf8.RuneSelf {
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return stripNotes(b.String())
}

// stripNotes removes required marks and optional notes from both ends, repeatedly
// since they stack ("*姓名(必填):").
func stripNotes(s string) string {
	for {
		t := strings.Trim(s, requiredMarks)
		for _, n := range optionalNotes {
			t = strings.TrimSuffix(t, n)
		}
		if t == s {
			return s
		}
		s = t
	}
}

// stripBracket removes one trailing bracketed note such as (yyyy-mm-dd) or
// [1男2女], used only when the full text matched nothing.
func stripBracket(s string) string {
	if s == "" {
		return s
	}
	var open byte
	switch s[len(s)-1] {
	case ')':
		open = '('
	case ']':
		open = '['
	default:
		return s
	}
	if i := strings.LastIndexByte(s, open); i > 0 {
		return s[:i]
	}
	return s
}

// MatchHeader maps the columns of header to the fields of kind k. Exact
// matches (after normalisation, then without a trailing bracketed note) win;
// remaining columns may match by containing a long alias (被保险人身份证号码).
// For repeated columns the leftmost wins. Unknown columns are ignored.
func MatchHeader(header []string, k Kind) Mapping {
	m := Mapping{}
	mt := matchers[k]
	if mt == nil {
		return m
	}
	norm := make([]string, len(header))
	for i, h := range header {
		norm[i] = normHeader(h)
		key, ok := mt.exact[norm[i]]
		if !ok {
			key, ok = mt.exact[stripBracket(norm[i])]
		}
		if !ok {
			continue
		}
		norm[i] = "" // matched exactly: not a candidate for containment
		if _, taken := m[key]; !taken {
			m[key] = i
		}
	}
	for i, n := range norm {
		if key := mt.contains(n); key != "" {
			if _, taken := m[key]; !taken {
				m[key] = i
			}
		}
	}
	return m
}

// contains returns the key of the longest alias that n contains, or "".
func (mt *matcher) contains(n string) string {
	if n == "" {
		return ""
	}
	for _, p := range otherPerson {
		if strings.Contains(n, p) {
			return ""
		}
	}
	best, bestLen := "", 0
	for _, a := range mt.long {
		if len(a.text) > bestLen && strings.Contains(n, a.text) {
			best, bestLen = a.key, len(a.text)
		}
	}
	return best
}

// FindHeader looks among rows (the first HeaderScanRows non-blank rows; title
// rows above the header are common) for the one that best matches kind k. It
// returns that row's index in rows and its mapping, or ok=false and a reason
// in Chinese for the user, phrased so that it reads alone or after a prefix
// such as "未找到表头：". Ties go to the earliest row.
func FindHeader(rows [][]string, k Kind) (idx int, m Mapping, reason string, ok bool) {
	if _, known := fields[k]; !known {
		return -1, nil, fmt.Sprintf("未知的数据类型“%s”", k), false
	}
	idx, bestPartial := -1, Mapping(nil)
	for i, row := range rows {
		cand := MatchHeader(row, k)
		if headerProblem(cand, k) == "" {
			if len(cand) > len(m) {
				idx, m = i, cand
			}
		} else if len(cand) > len(bestPartial) && hasIdentity(cand) {
			bestPartial = cand
		}
	}
	if idx >= 0 {
		return idx, m, "", true
	}
	if bestPartial != nil {
		return -1, nil, headerProblem(bestPartial, k), false
	}
	return -1, nil, fmt.Sprintf("前 %d 行中没有包含“公民身份号码”或“姓名”列的行，请检查是否选错了文件或数据类型（%s）", len(rows), k), false
}

// hasIdentity reports whether the mapping identifies people (id or name).
func hasIdentity(m Mapping) bool {
	_, id := m[KeyID]
	_, name := m[KeyName]
	return id || name
}

// headerProblem explains in Chinese why m is not a usable header, or "".
func headerProblem(m Mapping, k Kind) string {
	if !hasIdentity(m) {
		return fmt.Sprintf("%s的表头需要“公民身份号码”或“姓名”列", k)
	}
	var missing []string
	for _, f := range fields[k] {
		if _, ok := m[f.Key]; f.Required && !ok {
			missing = append(missing, "“"+f.Name+"”")
		}
	}
	if len(missing) > 0 {
		return fmt.Sprintf("表头缺少%s必需的列：%s，请检查列名或手动指定对应的列", k, strings.Join(missing, "、"))
	}
	if len(m) < 2 {
		return fmt.Sprintf("表头只认出了一列，无法确认是%s数据：至少还需要一个其他列（如%s）", k, fieldNames(k))
	}
	return ""
}

// fieldNames lists a kind's non-identity column names for messages.
func fieldNames(k Kind) string {
	var names []string
	for _, f := range fields[k] {
		if f.Key != KeyID && f.Key != KeyName {
			names = append(names, "“"+f.Name+"”")
		}
	}
	return strings.Join(names, "、")
}
