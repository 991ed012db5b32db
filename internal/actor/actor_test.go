package actor

import (
	"strings"
	"testing"
)

// TestRoleActionTable spells out, role by role, what each may do, written
// independently of the permissions table: a change to either shows here.
func TestRoleActionTable(t *testing.T) {
	// Columns: admin city county township leader ("x" may, "." may not).
	want := map[Action]string{
		RegionRead:     "x x x x x",
		ImportRead:     "x x x x x",
		Import:         "x x x . .",
		BatchWithdraw:  "x . . . .",
		CompareRead:    "x x x x x",
		Compare:        "x x x . .",
		Review:         "x x x . .",
		Export:         "x x x x .",
		PersonRead:     "x x x x .",
		SurveyPublish:  "x x x . .",
		SurveyAssign:   "x x x x .",
		SurveyEnter:    "x . x x .",
		SurveyApprove:  "x x x . .",
		RegistryChange: "x x x . .",
		ReportRead:     "x x x x x",
		ReportEdit:     "x x x . .",
		UsersManage:    "x . . . .",
		AuditRead:      "x . . . .",
		JobRead:        "x x x x x",
	}
	if len(want) != len(Actions) || len(permissions) != len(Actions) {
		t.Fatalf("%d actions listed, %d in the table, %d expected here", len(Actions), len(permissions), len(want))
	}
	for _, act := range Actions {
		cols := strings.Fields(want[act])
		if len(cols) != len(Roles) {
			t.Fatalf("%s: no expectation", act)
		}
		for i, role := range Roles {
			if got := Allowed(role, act); got != (cols[i] == "x") {
				t.Errorf("Allowed(%s, %s) = %v", role, act, got)
			}
		}
		if act.Label() == string(act) {
			t.Errorf("%s has no Chinese label", act)
		}
	}
	if Allowed(Admin, "no.such.action") || Allowed("nobody", RegionRead) {
		t.Error("unknown action or role allowed")
	}
}

func TestScope(t *testing.T) {
	a := Actor{Role: County, Region: "440981"}
	cases := []struct {
		code string
		sees bool
	}{
		{"440981", true},       // own
		{"440981107", true},    // child
		{"440981107204", true}, // grandchild
		{"440982", false},      // sibling
		{"4409", false},        // parent
		{"", false},            // root
		{"44098", false},       // a prefix of the region is above it
	}
	for _, c := range cases {
		if got := a.Sees(c.code); got != c.sees {
			t.Errorf("county 440981 sees %q = %v, want %v", c.code, got, c.sees)
		}
	}
	if err := a.CheckIn(Compare, "440981107", "区划"); err != nil {
		t.Errorf("county compares a township: %v", err)
	}
	if err := a.CheckIn(Compare, "440982", "区划"); err == nil || !strings.Contains(err.Error(), "不存在") {
		t.Errorf("county compares a sibling: %v, want not found", err)
	}
	if err := (Actor{Role: Leader, Region: "4409"}).CheckIn(Compare, "440981", "区划"); err == nil || !strings.Contains(err.Error(), "没有权限") {
		t.Errorf("leader compares: %v, want forbidden", err)
	}
	if cli := CLI("ops"); !cli.Sees("440981") || !cli.May(UsersManage) || cli.UserID != 0 {
		t.Errorf("CLI actor %+v", cli)
	}
	if got := InScope("b.region_code", "$2"); got != "b.region_code LIKE $2 || '%'" {
		t.Errorf("InScope = %s", got)
	}
}
