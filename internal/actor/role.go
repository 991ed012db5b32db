// Package actor says who does something and where: the roles, the named
// actions with the one table of which role may do which, and the actor a
// request or command carries to every domain method that reads or writes a
// region's data.
//
// Scope rule: every account is bound to one region and sees what lies
// inside it. Region codes nest by prefix (4409 ⊃ 440981 ⊃ 440981107), so a
// region contains every code it prefixes, itself included.
package actor

// Role is what a user may do; the region they are bound to says where.
type Role string

// The roles of the programme.
const (
	Admin    Role = "admin"
	City     Role = "city"
	County   Role = "county"
	Township Role = "township"
	Leader   Role = "leader"
)

// Roles lists every role in display order.
var Roles = []Role{Admin, City, County, Township, Leader}

// Label is the role's Chinese name.
func (r Role) Label() string {
	switch r {
	case Admin:
		return "系统管理员"
	case City:
		return "市级经办"
	case County:
		return "县级经办"
	case Township:
		return "乡镇经办"
	case Leader:
		return "领导"
	}
	return string(r)
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}
