package source

import "strings"

// Scheme groups.
const (
	GroupPension = "pension"
	GroupMedical = "medical"
	GroupOther   = "other"
)

// Scheme is an insurance scheme (险种).
type Scheme struct {
	Key   string // short Chinese key, e.g. "职工医疗"
	Code  string // national code, e.g. "310"; "NCMS" for 新农合, which has none
	Name  string // full official name, e.g. "职工基本医疗保险"
	Group string // GroupPension, GroupMedical or GroupOther
}

// schemeDef is a scheme with the other spellings files use for it.
type schemeDef struct {
	Scheme
	aliases []string
}

// schemeDefs lists the schemes in code order.
var schemeDefs = []schemeDef{
	{Scheme{"企业职工养老", "110", "企业职工基本养老保险", GroupPension},
		[]string{"职工养老", "企业养老", "企业职工养老保险", "城镇企业职工基本养老保险", "职工基本养老保险", "城镇职工基本养老保险"}},
	{Scheme{"机关事业养老", "120", "机关事业单位养老保险", GroupPension},
		[]string{"机关养老", "机关事业单位基本养老保险", "机关事业单位工作人员基本养老保险"}},
	{Scheme{"城乡居民养老", "170", "城乡居民基本养老保险", GroupPension},
		[]string{"城乡居民社会养老保险", "居民养老", "城乡居保", "城乡居民养老保险", "城乡养老"}},
	{Scheme{"职工医疗", "310", "职工基本医疗保险", GroupMedical},
		[]string{"城镇职工基本医疗保险", "职工医保", "城镇职工医保", "职工医疗保险"}},
	{Scheme{"居民医疗", "390", "城乡居民基本医疗保险", GroupMedical},
		[]string{"城镇居民基本医疗保险", "居民医保", "城乡居民医保", "城乡居民医疗保险", "城镇居民医保"}},
	{Scheme{"新农合", "NCMS", "新型农村合作医疗", GroupMedical},
		[]string{"新型农村合作医疗保险", "农村合作医疗"}},
	{Scheme{"失业", "210", "失业保险", GroupOther}, nil},
	{Scheme{"工伤", "410", "工伤保险", GroupOther}, nil},
	{Scheme{"生育", "510", "生育保险", GroupOther}, nil},
}

// schemeIndex maps every accepted spelling (key, code, name, alias) to a
// position in schemeDefs.
var schemeIndex = buildSchemeIndex()

// buildSchemeIndex indexes schemeDefs; NCMS is also accepted in lower case.
func buildSchemeIndex() map[string]int {
	idx := map[string]int{}
	for i, d := range schemeDefs {
		for _, s := range append([]string{d.Key, d.Code, d.Name, strings.ToLower(d.Code)}, d.aliases...) {
			idx[s] = i
		}
	}
	return idx
}

// Schemes returns all schemes in code order.
func Schemes() []Scheme {
	out := make([]Scheme, len(schemeDefs))
	for i, d := range schemeDefs {
		out[i] = d.Scheme
	}
	return out
}

// ParseScheme accepts a scheme's code, key, name or a common alias, also in
// combined forms such as "110-企业职工基本养老保险" or "职工医保（310）".
// The common case is one map lookup and does not allocate.
func ParseScheme(s string) (Scheme, bool) {
	s = strings.TrimSpace(s)
	if i, ok := schemeIndex[s]; ok {
		return schemeDefs[i].Scheme, true
	}
	return parseSchemeSlow(s)
}

// parseSchemeSlow handles decorated spellings: spaces, full-width characters,
// a code before the name or in brackets after it.
func parseSchemeSlow(s string) (Scheme, bool) {
	n := normHeader(s)
	if i, ok := schemeIndex[n]; ok {
		return schemeDefs[i].Scheme, true
	}
	if d := leadingDigits(n); d == 3 {
		if i, ok := schemeIndex[n[:3]]; ok {
			return schemeDefs[i].Scheme, true
		}
	}
	if b := stripBracket(n); b != n {
		if i, ok := schemeIndex[b]; ok {
			return schemeDefs[i].Scheme, true
		}
	}
	return Scheme{}, false
}

// Enrollment status codes (人员参保状态) and payment status codes (缴费状态).
const (
	EnrollActive     = 1 // 正常参保
	EnrollSuspended  = 2 // 暂停参保
	EnrollTerminated = 4 // 终止参保
	PayActive        = 1 // 参保缴费
	PaySuspended     = 2 // 暂停缴费
	PayTerminated    = 3 // 终止缴费
)

// enrollStatuses maps accepted spellings to enrollment status codes.
var enrollStatuses = map[string]int{
	"1": EnrollActive, "正常参保": EnrollActive, "正常": EnrollActive, "参保": EnrollActive,
	"2": EnrollSuspended, "暂停参保": EnrollSuspended, "暂停": EnrollSuspended,
	"4": EnrollTerminated, "终止参保": EnrollTerminated, "终止": EnrollTerminated,
}

// payStatuses maps accepted spellings to payment status codes.
var payStatuses = map[string]int{
	"1": PayActive, "参保缴费": PayActive, "正常缴费": PayActive, "缴费": PayActive, "正常": PayActive,
	"2": PaySuspended, "暂停缴费": PaySuspended, "暂停": PaySuspended, "中断": PaySuspended, "中断缴费": PaySuspended,
	"3": PayTerminated, "终止缴费": PayTerminated, "终止": PayTerminated,
}

// ParseEnrollStatus returns 1 (正常参保), 2 (暂停参保) or 4 (终止参保).
func ParseEnrollStatus(s string) (code int, ok bool) {
	code, ok = enrollStatuses[strings.TrimSpace(s)]
	return code, ok
}

// ParsePayStatus returns 1 (参保缴费), 2 (暂停缴费) or 3 (终止缴费).
func ParsePayStatus(s string) (code int, ok bool) {
	code, ok = payStatuses[strings.TrimSpace(s)]
	return code, ok
}

// EnrollState applies the registry's rule to a record's status codes (0 =
// not given): it is active unless enrollment or payment is terminated, and an
// active record is interrupted when either is suspended.
func EnrollState(enroll, pay int) (active, interrupted bool) {
	active = enroll != EnrollTerminated && pay != PayTerminated
	interrupted = active && (enroll == EnrollSuspended || pay == PaySuspended)
	return active, interrupted
}

// sexes maps accepted spellings to 男/女; codes follow GB/T 2261.1 (1 男, 2 女).
var sexes = map[string]string{
	"男": "男", "1": "男", "男性": "男", "m": "男", "M": "男",
	"女": "女", "2": "女", "女性": "女", "f": "女", "F": "女",
}

// ParseSex returns "男" or "女"; 未知 (0) and 未说明 (9) are not accepted.
func ParseSex(s string) (string, bool) {
	v, ok := sexes[strings.TrimSpace(s)]
	return v, ok
}

// Population statuses returned by ParsePopStatus.
const (
	PopNormal    = "正常"
	PopDead      = "死亡"
	PopCancelled = "注销"
	PopMovedOut  = "迁出"
)

// popStatuses maps accepted spellings to population statuses.
var popStatuses = map[string]string{
	"正常": PopNormal, "管理中": PopNormal,
	"死亡": PopDead, "已死亡": PopDead,
	"注销": PopCancelled, "已注销": PopCancelled,
	"迁出": PopMovedOut, "已迁出": PopMovedOut,
}

// ParsePopStatus returns 正常, 死亡, 注销 or 迁出; 管理中 counts as 正常.
func ParsePopStatus(s string) (string, bool) {
	v, ok := popStatuses[strings.TrimSpace(s)]
	return v, ok
}

// regionZeros pads region codes; slicing it avoids building the padding.
const regionZeros = "000000"

// ParseRegion validates an administrative division code of 6, 9 or 12 digits
// (county, township, village level), not starting with 0, and pads it to 12 digits. A trailing
// ".0" from a numeric spreadsheet cell is ignored. 12-digit input is returned
// without allocating.
func ParseRegion(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '.'); i >= 0 && strings.Trim(s[i+1:], "0") == "" {
		s = s[:i]
	}
	if leadingDigits(s) != len(s) || strings.HasPrefix(s, "0") { // province codes start at 11
		return "", false
	}
	switch len(s) {
	case 12:
		return s, true
	case 6, 9:
		return s + regionZeros[:12-len(s)], true
	}
	return "", false
}
