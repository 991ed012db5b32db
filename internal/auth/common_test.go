package auth

import "testing"

func TestCommonPasswordsRefused(t *testing.T) {
	for _, pw := range []string{"Password1", "Aa123456", "P@ssw0rd", "Admin@2026", "Qwer1234!", "Woaini1314", "PASSWORD123!"} {
		if err := CheckPolicy(pw); err == nil {
			t.Errorf("CheckPolicy(%q) accepted a common password", pw)
		}
	}
	for _, pw := range []string{"Demo@2026", "Test@2026pw", "Jiang#Hu83", "Clerk@2026"} {
		if err := CheckPolicy(pw); err != nil {
			t.Errorf("CheckPolicy(%q) = %v, want accepted", pw, err)
		}
	}
}
