package auth

import (
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/actor"
)

func TestCheckPolicy(t *testing.T) {
	cases := []struct {
		name, pw string
		ok       bool
	}{
		{"OK", "Abcdef1!", true},
		{"OKThreeClasses", "abcdef12!", true},
		{"OKChineseCountsAsOther", "abcd1234密", true},
		{"ErrTooShort", "Ab1!", false},
		{"ErrSevenChars", "Abcde1!", false},
		{"ErrTwoClasses", "abcdefgh12", false},
		{"ErrOneClass", "abcdefghijk", false},
		{"ErrEmpty", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := CheckPolicy(c.pw); (err == nil) != c.ok {
				t.Errorf("CheckPolicy(%q) = %v, want ok=%v", c.pw, err, c.ok)
			}
		})
	}
}

func TestHashVerify(t *testing.T) {
	h := HashPassword("Secret#123")
	if !strings.HasPrefix(h, "$argon2id$") {
		t.Fatalf("hash %q is not argon2id", h)
	}
	if !VerifyPassword(h, "Secret#123") {
		t.Error("right password rejected")
	}
	if VerifyPassword(h, "Secret#124") || VerifyPassword("garbage", "Secret#123") {
		t.Error("wrong password accepted")
	}
	if HashPassword("Secret#123") == h {
		t.Error("hashes are not salted")
	}
}

func TestUserActor(t *testing.T) {
	clerk := User{ID: 7, Username: "z", Role: actor.Township, RegionCode: "440981107", RegionName: "镇江镇"}
	a := clerk.Actor("10.0.0.1")
	if a.UserID != 7 || a.Username != "z" || a.Role != actor.Township || a.Region != "440981107" || a.IP != "10.0.0.1" {
		t.Fatalf("actor %+v", a)
	}
	if !a.Sees("440981107204") || a.Sees("440981108") || a.Sees("440981") {
		t.Error("a township clerk's actor sees their township only")
	}
}

func TestRegionLevelFits(t *testing.T) {
	if !RegionLevelFits(actor.County, 3) || RegionLevelFits(actor.County, 4) || RegionLevelFits(actor.Township, 3) || !RegionLevelFits(actor.Leader, 2) {
		t.Error("role/level binding rules broken")
	}
}
