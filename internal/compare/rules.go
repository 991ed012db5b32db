package compare

import (
	"strings"
	"time"
)

// Statuses of 养老参保状态 and 医疗参保状态.
const (
	Insured     = "已参保"
	Interrupted = "缴费中断"
	NotInsured  = "应参未参"
	NotApplied  = "不适用"
)

// Flag is one 问题标记; a person's flags are a bit set.
type Flag int

// The seven flags, in DOMAIN §5's order.
const (
	FlagCrossPension Flag = 1 << iota // 跨制度重复参保-养老
	FlagCrossMedical                  // 跨制度重复参保-医疗
	FlagCrossRegion                   // 制度内跨地区重复参保
	FlagDeadInsured                   // 死亡仍参保
	FlagHukouPending                  // 户口待注销
	FlagInfoError                     // 信息有误
	FlagNonLocal                      // 非本地户籍参保
)

// Flags lists every flag in display order.
var Flags = []Flag{FlagCrossPension, FlagCrossMedical, FlagCrossRegion, FlagDeadInsured, FlagHukouPending, FlagInfoError, FlagNonLocal}

var flagNames = map[Flag]string{
	FlagCrossPension: "跨制度重复参保-养老",
	FlagCrossMedical: "跨制度重复参保-医疗",
	FlagCrossRegion:  "制度内跨地区重复参保",
	FlagDeadInsured:  "死亡仍参保",
	FlagHukouPending: "户口待注销",
	FlagInfoError:    "信息有误",
	FlagNonLocal:     "非本地户籍参保",
}

// Name is the flag's Chinese name.
func (f Flag) Name() string { return flagNames[f] }

// FlagNames joins the names of the flags set in bits with 、.
func FlagNames(bits int) string {
	var out []string
	for _, f := range Flags {
		if bits&int(f) != 0 {
			out = append(out, f.Name())
		}
	}
	return strings.Join(out, "、")
}

// Facts are what the records linked to one person say, gathered by SQL.
type Facts struct {
	Birth          time.Time // zero when unknown
	HukouLocal     bool      // a 户籍人口 record 正常/管理中 with its household region inside the run's region
	HukouNormal    bool      // any 户籍人口 record 正常/管理中
	ResidentLocal  bool      // a 居住人口 record inside the region
	HasDeath       bool      // any 死亡信息 record
	DeathDate      time.Time // earliest death date (zero when unknown)
	Student        bool      // any 在校学生 record
	PensionSchemes int       // distinct pension schemes with an active record
	PensionOK      bool      // an active pension record that is not interrupted
	MedicalSchemes int       // distinct medical schemes with an active record
	CrossRegion    bool      // one scheme active in two or more counties
	LocalActive    bool      // an active enrollment whose 参保地 is inside the region
	AnyActive      bool      // any active enrollment
	InfoError      bool      // a linked record had a damaged ID or a name that disagrees
}

// Result is a person's classification in a run.
type Result struct {
	Universe bool
	Pension  string
	Medical  string
	Flags    int
	Survey   bool
}

// Classify applies DOMAIN §5 to one person at asOf.
func Classify(f Facts, asOf time.Time) Result {
	dead := f.HasDeath && !f.DeathDate.IsZero() && !f.DeathDate.After(asOf)
	r := Result{Pension: NotApplied, Medical: NotApplied}
	r.Universe = !dead && (f.HukouLocal || f.ResidentLocal || f.LocalActive)
	if r.Universe {
		r.Pension = pensionStatus(f, asOf)
		r.Medical = NotInsured
		if f.MedicalSchemes > 0 {
			r.Medical = Insured
		}
	}
	r.Flags = flags(f, r.Universe)
	local := f.HukouLocal || f.ResidentLocal
	r.Survey = r.Universe && local && (r.Pension == NotInsured || r.Medical == NotInsured || f.InfoError)
	return r
}

func pensionStatus(f Facts, asOf time.Time) string {
	switch {
	case f.PensionOK:
		return Insured
	case f.PensionSchemes > 0:
		return Interrupted // every active pension record is interrupted
	case !f.Student && AgeOn(f.Birth, asOf) >= 16:
		return NotInsured
	}
	return NotApplied
}

func flags(f Facts, universe bool) int {
	var bits Flag
	set := func(cond bool, fl Flag) {
		if cond {
			bits |= fl
		}
	}
	set(f.PensionSchemes >= 2, FlagCrossPension)
	set(f.MedicalSchemes >= 2, FlagCrossMedical)
	set(f.CrossRegion, FlagCrossRegion)
	set(f.HasDeath && f.AnyActive, FlagDeadInsured)
	set(f.HasDeath && f.HukouNormal, FlagHukouPending)
	set(f.InfoError, FlagInfoError)
	// 非本地户籍参保: insured here without a living local hukou, whether or
	// not also in 居住人口 (issue 9: a migrant resident insured here counts).
	set(universe && f.LocalActive && !f.HukouLocal, FlagNonLocal)
	return int(bits)
}

// AgeOn is the age in full years on day; a birthday on day counts, and
// 29 February birthdays fall on 1 March in common years. Unknown birth: -1.
func AgeOn(birth, day time.Time) int {
	if birth.IsZero() {
		return -1
	}
	age := day.Year() - birth.Year()
	bm, bd := birth.Month(), birth.Day()
	if bm == time.February && bd == 29 && !isLeap(day.Year()) {
		bm, bd = time.March, 1
	}
	if day.Month() < bm || (day.Month() == bm && day.Day() < bd) {
		age--
	}
	return age
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }
