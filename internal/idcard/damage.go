package idcard

// Damage classifies what is wrong with an ID after normalization.
type Damage uint8

// The order of these constants is stored nowhere; storage uses Code.
const (
	OK        Damage = iota // OK means the ID is valid.
	Blank                   // Blank means the field is empty after trimming.
	BadLength               // BadLength means the ID is not 15 or 18 characters.
	BadChar                 // BadChar means characters other than digits (and a final X).
	BadDate                 // BadDate means an impossible or future birth date, or one before 1890.
	BadCheck                // BadCheck means a wrong check character (typically one wrong digit or two swapped).
	Mangled                 // Mangled means spreadsheet scientific notation lost the trailing digits.
	BadRegion               // BadRegion means the address code names no province (GB/T 2260).
)

var damageText = [...]string{
	OK:        "有效",
	Blank:     "身份证号为空",
	BadLength: "位数错误",
	BadChar:   "含非法字符",
	BadDate:   "出生日期无效",
	BadCheck:  "校验位错误",
	Mangled:   "被表格软件科学计数法损坏",
	BadRegion: "地址码无效",
}

var damageCode = [...]string{
	OK:        "ok",
	Blank:     "blank",
	BadLength: "length",
	BadChar:   "char",
	BadDate:   "date",
	BadCheck:  "check",
	Mangled:   "mangled",
	BadRegion: "region",
}

// String returns the reason in Simplified Chinese, for people reading import reports.
func (d Damage) String() string {
	if int(d) < len(damageText) {
		return damageText[d]
	}
	return "未知错误"
}

// Code returns a stable ASCII code for storage ("ok", "blank", "length", "char", "date", "check", "mangled", "region").
func (d Damage) Code() string {
	if int(d) < len(damageCode) {
		return damageCode[d]
	}
	return "unknown"
}

// ParseDamageCode is the inverse of Code; it reports false for an unknown code.
func ParseDamageCode(s string) (Damage, bool) {
	for i, c := range damageCode {
		if c == s {
			return Damage(i), true
		}
	}
	return OK, false
}
