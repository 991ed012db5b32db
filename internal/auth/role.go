// Package auth holds users, roles, passwords and login sessions.
package auth

import (
	"github.com/canbao/canbao/internal/region"
)

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

// User is an account bound to one region.
type User struct {
	ID          int64
	Username    string
	DisplayName string
	Role        Role
	RegionCode  string
	RegionName  string
	Disabled    bool
}

// Sees reports whether u may see data of region code.
func (u User) Sees(code string) bool { return region.Within(u.RegionCode, code) }

// CanManageUsers reports whether u administers accounts.
func (u User) CanManageUsers() bool { return u.Role == Admin }

// CanWrite reports whether u may change data (leaders only read).
func (u User) CanWrite() bool { return u.Role != Leader }

// CanExportPersonal reports whether u may download files of personal
// data (full ID numbers): staff of every level within their region, not
// leaders, who read aggregates.
func (u User) CanExportPersonal() bool { return u.Role != Leader }

// CanImport reports whether u may import department extracts (city and county staff, admins).
func (u User) CanImport() bool { return u.Role == Admin || u.Role == City || u.Role == County }

// RegionLevelFits reports whether a role may be bound to a region of the
// given level: staff to a region of their own level; admins and leaders to
// any region.
func RegionLevelFits(r Role, level int) bool {
	switch r {
	case City:
		return level == 2
	case County:
		return level == 3
	case Township:
		return level == 4
	}
	return true
}
