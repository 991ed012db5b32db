// Package registry holds the registry of persons (全民参保登记库): one entry
// per person, keyed by the 18-digit citizen ID, and the history of every
// change to an entry (person_event).
//
// Whoever learns something about persons — a comparison run, an approved
// survey form, a manual change, an extract batch — hands it to Apply as one
// change set with its source and actor. Apply compares it with the
// registry, records each changed field (old value, new value, the date the
// change took effect, source and actor) before overwriting it, and adds the
// persons the registry does not know yet. Nothing in the registry is
// overwritten without history, and a change set that says nothing new
// writes nothing.
package registry

import (
	"time"
)

// Field is a person field the registry keeps.
type Field int

// The registry's fields, in the order they are compared and written.
const (
	Name         Field = iota // 姓名, never empty
	Sex                       // 性别
	Birth                     // 出生日期, as YYYY-MM-DD
	Household                 // 户号
	Relation                  // 与户主关系
	HukouRegion               // 户籍地区划
	PopStatus                 // 人口状态
	IdentityKind              // the extract the identity comes from; follows the others, so not recorded
	RegionCode                // where the person is managed
	Address                   // 地址, set by a manual change; comparisons leave it alone
	Phone                     // 联系电话, likewise
	DeathDate                 // 死亡日期, as YYYY-MM-DD: from a death record or a 注销登记
	Enrollment                // 参保情况: each scheme's state as the extracts last reported it (see EnrollmentValue)
	Residence                 // 居住登记: the residence region as the 居住人口 extracts last reported it, or that the person left
	School                    // 在校情况: "在读（学校）" or "已离校", as the 在校学生 extracts last reported it
	numFields
)

// columns are the person table's columns of the fields.
var columns = [numFields]string{"name", "sex", "birth", "household", "relation", "hukou_region", "pop_status", "identity_kind", "region_code",
	"address", "phone", "death_date", "enrollment", "residence", "school"}

// Column is the field's column name, also the field name of its events.
func (f Field) Column() string { return columns[f] }

// FieldOf is the field of a column name.
func FieldOf(column string) (Field, bool) {
	for f, c := range columns {
		if c == column {
			return Field(f), true
		}
	}
	return 0, false
}

// FieldLabel is the Chinese name of an event's field (a column name), or
// the name itself when it is no field of today's registry.
func FieldLabel(column string) string {
	for f, c := range columns {
		if c == column {
			return fieldLabels[f]
		}
	}
	return column
}

// recorded reports whether a change of the field is an event of its own:
// the identity kind changes exactly when the identity's source does, and
// that shows in the fields themselves.
func (f Field) recorded() bool { return f != IdentityKind }

// isDate reports whether the field is a date column (YYYY-MM-DD as text).
func (f Field) isDate() bool { return f == Birth || f == DeathDate }

// SourceKind says where a change came from.
type SourceKind string

// The sources of registry changes; the id of each is the row of its own
// table (comparison_run, the survey form, the manual change, import_batch).
const (
	Comparison SourceKind = "compare"
	Survey     SourceKind = "survey"
	Manual     SourceKind = "manual"
	Extract    SourceKind = "extract"
)

// Source is the document a change set comes from.
type Source struct {
	Kind SourceKind
	ID   int64
}

// Persons is what a source reports about a set of persons, read by
// position: the k-th of Len persons. Sources of millions (a comparison run)
// implement it over their own memory; small ones use Entries.
type Persons interface {
	// Len is the number of persons.
	Len() int
	// ID appends the k-th person's citizen ID to buf.
	ID(buf []byte, k int) []byte
	// Find returns the position of the person with the ID, if present.
	Find(id []byte) (int, bool)
	// Value appends field f of the k-th person to buf as text ("" is
	// empty, a birth is YYYY-MM-DD); ok false leaves the field as it is.
	Value(buf []byte, k int, f Field) (v []byte, ok bool)
}

// ChangeSet is one source's word on a set of persons.
type ChangeSet struct {
	Source    Source
	Actor     int64     // the user who made or approved the change; 0 for the system
	Effective time.Time // the date the changes took effect (a run's as-of date, a form's survey date)
	// Region, when set, is where most of the persons are expected to be
	// managed: the registry's entries there are read in one pass instead
	// of by ID. A comparison sets its region; a handful of changes leave
	// it empty.
	Region  string
	Persons Persons
}

// Result counts what Apply wrote.
type Result struct {
	Inserted int // persons new to the registry
	Updated  int // entries with at least one field changed
	Events   int // field changes recorded
}

// Entry is one person's reported fields: those in Values are set, the
// others left as they are.
type Entry struct {
	ID     string
	Values map[Field]string
}

// Entries is a change set's persons given one by one (a survey form, a
// manual change).
type Entries struct {
	list  []Entry
	index map[string]int
}

// NewEntries returns the entries as Persons; a later entry of the same ID
// wins.
func NewEntries(list ...Entry) *Entries {
	es := &Entries{index: make(map[string]int, len(list))}
	for _, e := range list {
		if k, ok := es.index[e.ID]; ok {
			es.list[k] = e
			continue
		}
		es.index[e.ID] = len(es.list)
		es.list = append(es.list, e)
	}
	return es
}

// Len implements Persons.
func (es *Entries) Len() int { return len(es.list) }

// ID implements Persons.
func (es *Entries) ID(buf []byte, k int) []byte { return append(buf, es.list[k].ID...) }

// Find implements Persons.
func (es *Entries) Find(id []byte) (int, bool) {
	k, ok := es.index[string(id)]
	return k, ok
}

// Value implements Persons.
func (es *Entries) Value(buf []byte, k int, f Field) ([]byte, bool) {
	v, ok := es.list[k].Values[f]
	return append(buf, v...), ok
}
