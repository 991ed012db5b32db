// Package auth holds users, passwords and login sessions; roles and what
// they may do are in package actor.
package auth

import (
	"github.com/canbao/canbao/internal/actor"
)

// User is an account bound to one region.
type User struct {
	ID          int64
	Username    string
	DisplayName string
	Role        actor.Role
	RegionCode  string
	RegionName  string
	Disabled    bool
}

// Actor is u acting from the client address ip.
func (u User) Actor(ip string) actor.Actor {
	return actor.Actor{UserID: u.ID, Username: u.Username, Role: u.Role, Region: u.RegionCode, RegionName: u.RegionName, IP: ip}
}

// RegionLevelFits reports whether a role may be bound to a region of the
// given level: staff to a region of their own level; admins and leaders to
// any region.
func RegionLevelFits(r actor.Role, level int) bool {
	switch r {
	case actor.City:
		return level == 2
	case actor.County:
		return level == 3
	case actor.Township:
		return level == 4
	}
	return true
}
