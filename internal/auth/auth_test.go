package auth

import (
	"strings"
	"testing"
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

func TestUserSees(t *testing.T) {
	clerk := User{Role: Township, RegionCode: "440981107"}
	cases := []struct {
		code string
		want bool
	}{
		{"440981107", true},
		{"440981107204", true},
		{"440981108", false},
		{"440981", false},
		{"4409811072", true},
		{"", false},
	}
	for _, c := range cases {
		if got := clerk.Sees(c.code); got != c.want {
			t.Errorf("township clerk Sees(%q) = %v, want %v", c.code, got, c.want)
		}
	}
	admin := User{Role: Admin, RegionCode: ""}
	if !admin.Sees("440981107204") {
		t.Error("national admin must see everything")
	}
}

func TestRoles(t *testing.T) {
	if !RegionLevelFits(County, 3) || RegionLevelFits(County, 4) || RegionLevelFits(Township, 3) || !RegionLevelFits(Leader, 2) {
		t.Error("role/level binding rules broken")
	}
	if (User{Role: Leader}).CanWrite() || !(User{Role: Township}).CanWrite() {
		t.Error("leaders are read-only, clerks write")
	}
	if (User{Role: Township}).CanImport() || !(User{Role: County}).CanImport() {
		t.Error("imports are for city and county staff")
	}
}
