// Package dynamic keeps the registry current between comparisons (动态管理,
// DOMAIN §7): what changed between an extract and the older one of the
// same kind, region and source it superseded (births, moves, deaths,
// household and region changes, enrollments started, interrupted,
// resumed and ended), applied to the registry automatically when
// unambiguous and held for a clerk otherwise; and changes registered by
// hand (变更登记, 注销登记) that reach the registry only when a reviewer
// other than their maker approves them.
//
// Events are derived set-based in SQL by joining the two batches' record
// partitions on the normalized ID; only the events themselves (a few per
// cent of an extract) pass through Go, on their way to registry.Apply.
package dynamic

import (
	"github.com/jackc/pgx/v5/pgxpool"
)

// Kind is what happened to a person between two extracts.
type Kind string

// The event kinds.
const (
	Birth        Kind = "birth"         // new in the hukou extract, born since the older one
	MoveIn       Kind = "move_in"       // new in the hukou extract otherwise, or back to 正常
	Death        Kind = "death"         // a new death record, or 人口状态 死亡
	DeathFix     Kind = "death_fix"     // a death record whose date changed
	MoveOut      Kind = "move_out"      // 人口状态 迁出/注销, or gone from the hukou extract
	Household    Kind = "household"     // another 户号
	Region       Kind = "region"        // another hukou region
	EnrollStart  Kind = "enroll_start"  // a scheme's enrollment started (or started again after it ended)
	EnrollPause  Kind = "enroll_pause"  // interrupted: 暂停参保 or 暂停缴费
	EnrollResume Kind = "enroll_resume" // normal again after an interruption
	EnrollEnd    Kind = "enroll_end"    // 终止参保/终止缴费, or gone from the scheme's extract
)

// Kinds lists every event kind in display order.
var Kinds = []Kind{Birth, MoveIn, Death, DeathFix, MoveOut, Household, Region, EnrollStart, EnrollPause, EnrollResume, EnrollEnd}

var kindLabels = map[Kind]string{
	Birth: "出生", MoveIn: "迁入", Death: "死亡", DeathFix: "死亡日期更正", MoveOut: "迁出/注销",
	Household: "户号变更", Region: "户籍地变更", EnrollStart: "参保开始", EnrollPause: "参保中断",
	EnrollResume: "恢复参保", EnrollEnd: "参保终止",
}

// Label is the kind's Chinese name.
func (k Kind) Label() string {
	if l, ok := kindLabels[k]; ok {
		return l
	}
	return string(k)
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
