package actor

import (
	"strings"

	"github.com/canbao/canbao/internal/apperr"
)

// Actor is who does something: a signed-in user (built once per request)
// or a command-line operator (once per command). Domain methods take it
// instead of loose scope strings, scope their reads with it and write it
// into the audit trail.
type Actor struct {
	UserID     int64 // 0 for the command line
	Username   string
	Role       Role
	Region     string // the region the actor is bound to: the scope of every read and write
	RegionName string
	IP         string // client address, "local" for the command line
}

// CLI is the operator of a command-line command: an administrator of the
// whole installation, named after the operating-system user.
func CLI(osUser string) Actor {
	return Actor{Username: "cli:" + osUser, Role: Admin, Region: "", RegionName: "全部", IP: "local"}
}

// May reports whether the actor's role allows action a.
func (a Actor) May(act Action) bool { return Allowed(a.Role, act) }

// Sees reports whether code lies inside the actor's region.
func (a Actor) Sees(code string) bool { return Within(a.Region, code) }

// Check returns a Forbidden error unless the actor may do act.
func (a Actor) Check(act Action) error {
	if !a.May(act) {
		return apperr.Forbiddenf("没有权限：%s不能%s", a.Role.Label(), act.Label())
	}
	return nil
}

// CheckIn is Check for data of region code: a region outside the actor's
// is reported as not found (what)'s, so its existence does not leak.
func (a Actor) CheckIn(act Action, code, what string) error {
	if err := a.Check(act); err != nil {
		return err
	}
	if !a.Sees(code) {
		return apperr.NotFoundf("%s不存在", what)
	}
	return nil
}

// Within reports whether code lies inside scope (a region contains itself).
func Within(scope, code string) bool { return strings.HasPrefix(code, scope) }

// InScope is the SQL predicate "column lies inside the region in param",
// the one place the prefix rule is written in SQL: InScope("b.region_code",
// "$2") gives b.region_code LIKE $2 || '%'. The pattern starts with the
// parameter, so PostgreSQL can use a text_pattern_ops index on column.
// Region codes are digits, so they need no LIKE escaping.
func InScope(column, param string) string { return column + " LIKE " + param + " || '%'" }

// Label is the action's Chinese name, for messages.
func (act Action) Label() string {
	if l, ok := actionLabels[act]; ok {
		return l
	}
	return string(act)
}

var actionLabels = map[Action]string{
	RegionRead:     "查看行政区划",
	ImportRead:     "查看导入批次",
	Import:         "导入数据",
	BatchWithdraw:  "撤回导入批次",
	CompareRead:    "查看比对结果",
	Compare:        "发起比对",
	Review:         "审核比对记录",
	Export:         "下载含个人信息的明细",
	PersonRead:     "查看人员完整信息",
	SurveyPublish:  "发布入户调查批次",
	SurveyAssign:   "分派入户调查",
	SurveyEnter:    "录入调查表",
	SurveyApprove:  "审核调查表",
	RegistryChange: "登记人员变更",
	ReportRead:     "查看报表",
	ReportEdit:     "填报报表",
	UsersManage:    "管理用户",
	AuditRead:      "查看审计日志",
	JobRead:        "查看任务",
}

// Narrowed is the actor acting in region code, which must lie inside
// theirs: what the command line does when told --region.
func (a Actor) Narrowed(code string) (Actor, error) {
	if !a.Sees(code) {
		return a, apperr.NotFoundf("区划 %s 不存在", code)
	}
	a.Region = code
	return a, nil
}
