// Package dynamic keeps the registry current between comparisons (动态管理,
// DOMAIN §7): what changed between an extract and the older one of the
// same kind, region and source it superseded (births, moves, deaths,
// household and region changes, enrollments started, interrupted,
// resumed and ended), applied to the registry automatically when
// unambiguous and held for a clerk otherwise; and changes registered by
// hand (变更登记, 注销登记) that reach the registry only when a reviewer
// other than their maker approves them.
//
// A newer 居住人口 extract gives moves in, moves out and changes of
// residence region (the hukou's kinds, labelled as the residence's); they
// keep the registry's residence and, for a person without a living hukou,
// the region the person is managed in, and never touch a hukou person's
// hukou facts. A newer 在校学生 extract gives school starts and ends,
// kept as the registry's school (DOMAIN §5: a student is not 应参未参).
// Every event takes effect on the day the newer extract was taken (its
// 数据日期); births, deaths and enrollment starts on their own dates.
//
// Events are derived set-based in SQL by joining the two batches' record
// partitions on the normalized ID; only the events themselves (a few per
// cent of an extract) pass through Go, on their way to registry.Apply.
package dynamic

import (
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/source"
)

// Kind is what happened to a person between two extracts.
type Kind string

// The event kinds.
const (
	Birth        Kind = "birth"         // new in the hukou extract, born since the older one
	MoveIn       Kind = "move_in"       // new in the hukou extract otherwise, or back to 正常; new in the residence extract
	Death        Kind = "death"         // a new death record, or 人口状态 死亡
	DeathFix     Kind = "death_fix"     // a death record whose date changed
	MoveOut      Kind = "move_out"      // 人口状态 迁出/注销, or gone from the hukou (or the residence) extract
	Household    Kind = "household"     // another 户号
	Region       Kind = "region"        // another hukou (or residence) region
	EnrollStart  Kind = "enroll_start"  // a scheme's enrollment started (or started again after it ended)
	EnrollPause  Kind = "enroll_pause"  // interrupted: 暂停参保 or 暂停缴费
	EnrollResume Kind = "enroll_resume" // normal again after an interruption
	EnrollEnd    Kind = "enroll_end"    // 终止参保/终止缴费, or gone from the scheme's extract
	SchoolStart  Kind = "school_start"  // new in the student extract
	SchoolEnd    Kind = "school_end"    // gone from the student extract
)

// Kinds lists every event kind in display order.
var Kinds = []Kind{Birth, MoveIn, Death, DeathFix, MoveOut, Household, Region, EnrollStart, EnrollPause, EnrollResume, EnrollEnd,
	SchoolStart, SchoolEnd}

var kindLabels = map[Kind]string{
	Birth: "出生", MoveIn: "迁入", Death: "死亡", DeathFix: "死亡日期更正", MoveOut: "迁出/注销",
	Household: "户号变更", Region: "户籍地变更", EnrollStart: "参保开始", EnrollPause: "参保中断",
	EnrollResume: "恢复参保", EnrollEnd: "参保终止", SchoolStart: "入学", SchoolEnd: "离校",
}

// residenceLabels name the kinds a residence (居住人口) extract gives: the
// same moves, of the place a person lives rather than of their hukou.
var residenceLabels = map[Kind]string{MoveIn: "迁入（居住）", MoveOut: "迁出（居住）", Region: "居住地变更"}

// Label is the kind's Chinese name.
func (k Kind) Label() string {
	if l, ok := kindLabels[k]; ok {
		return l
	}
	return string(k)
}

// filterLabels name the kinds residence extracts share with the hukou's
// in the events list's filter, which finds both.
var filterLabels = map[Kind]string{MoveIn: "迁入（户籍、居住）", MoveOut: "迁出/注销（户籍、居住）", Region: "户籍地、居住地变更"}

// FilterLabel is the kind's Chinese name in a filter of events of every
// extract kind.
func (k Kind) FilterLabel() string {
	if l, ok := filterLabels[k]; ok {
		return l
	}
	return k.Label()
}

// LabelFor is the kind's Chinese name for an event of an extract of
// batchKind: a residence extract's moves say so.
func (k Kind) LabelFor(batchKind source.Kind) string {
	if l, ok := residenceLabels[k]; ok && batchKind == source.Resident {
		return l
	}
	return k.Label()
}

// State is where an event stands with the registry.
type State string

// The event states.
const (
	Auto     State = "auto"     // applied when derived
	Pending  State = "pending"  // waits for a clerk's confirmation
	Applied  State = "applied"  // confirmed by a clerk and applied
	Rejected State = "rejected" // a clerk found it wrong; the registry was left alone
)

// States lists every state in display order.
var States = []State{Pending, Auto, Applied, Rejected}

// Label is the state's Chinese name.
func (s State) Label() string {
	switch s {
	case Auto:
		return "已自动入库"
	case Pending:
		return "待确认"
	case Applied:
		return "已确认入库"
	case Rejected:
		return "已驳回"
	}
	return string(s)
}

// Store derives, lists and decides events and manual changes.
type Store struct {
	db *pgxpool.Pool
}

// New returns a Store over db.
func New(db *pgxpool.Pool) *Store { return &Store{db: db} }
