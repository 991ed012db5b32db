// Package audit writes and reads the append-only audit trail: who did what,
// when, from where, to which object, with what result.
package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/list"
)

// Actions recorded by the foundation; later features add their own.
const (
	LoginOK        = "login"
	LoginFailed    = "login.failed"
	LoginLocked    = "login.locked"
	Logout         = "logout"
	UserCreate     = "user.create"
	UserDisable    = "user.disable"
	UserEnable     = "user.enable"
	UserPassword   = "user.password"
	RecordView     = "record.view"
	ImportCreate   = "import.create"
	ImportWithdraw = "import.withdraw"
	ImportReport   = "import.report"
	CompareRun     = "compare.run"
	JobCancel      = "job.cancel"
	CompareReview  = "compare.review"
	CompareExport  = "compare.export"
	EventDerive    = "event.derive" // a batch's events derived again after its derivation failed
)

// Entry is one line of the audit trail.
type Entry struct {
	ID       int64
	At       time.Time
	UserID   *int64
	Username string
	Region   string
	IP       string
	Action   string
	Object   string
	Result   string // "ok" or a short failure reason
	Detail   string
}

// Execer is satisfied by a pool, a connection and a transaction, so a change
// and its audit line can share one transaction.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// For is the audit line of actor a doing action to object; the command
// fills in Result and Detail.
func For(a actor.Actor, action, object string) Entry {
	e := Entry{Username: a.Username, Region: a.Region, IP: a.IP, Action: action, Object: object}
	if a.UserID != 0 {
		id := a.UserID
		e.UserID = &id
	}
	return e
}

// Reject records that the command of e did not happen because of cause
// ("rejected" for the user's mistake, "failed" for the system's) and returns
// cause. It writes outside the command's rolled-back transaction; if that
// write fails too, the error returned is the audit's (an internal error),
// so a command is never refused or failed without its line in the trail
// going unnoticed.
func Reject(ctx context.Context, db Execer, e Entry, cause error) error {
	e.Result, e.Detail = "rejected", apperr.Message(cause)
	if apperr.KindOf(cause) == apperr.Internal {
		e.Result, e.Detail = "failed", cause.Error()
	}
	if err := Record(ctx, db, e); err != nil {
		return fmt.Errorf("%w (after: %v)", err, cause)
	}
	return cause
}

// Record appends e to the trail.
func Record(ctx context.Context, db Execer, e Entry) error {
	if e.Result == "" {
		e.Result = "ok"
	}
	// Fields may carry what a client typed; keep each to a sane length.
	e.Username, e.IP, e.Object = clip(e.Username, 64), clip(e.IP, 64), clip(e.Object, 200)
	e.Result, e.Detail = clip(e.Result, 64), clip(e.Detail, 2000)
	const q = `INSERT INTO audit_log (user_id, username, region_code, ip, action, object, result, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	if _, err := db.Exec(ctx, q, e.UserID, e.Username, e.Region, e.IP, e.Action, e.Object, e.Result, e.Detail); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// unattributed are the security events shown to every administrator even
// without a region: failed logins under names that have no account.
var unattributed = []string{LoginFailed, LoginLocked}

// clip cuts s to at most n characters.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// Filter selects audit entries; zero fields do not filter.
type Filter struct {
	Username string
	Action   string
	From, To time.Time // To is exclusive
}

// Querier is satisfied by a pool or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// List returns a page of the entries matching f of users inside the
// actor's region, newest first.
func List(ctx context.Context, db Querier, a actor.Actor, f Filter, q list.Query) (list.Page[Entry], error) {
	p := list.Of[Entry](nil, 0, q)
	if err := a.Check(actor.AuditRead); err != nil {
		return p, err
	}
	where := ` FROM audit_log
		WHERE ($1 = '' OR left(username, 64) = left($1, 64) AND username = $1) AND ($2 = '' OR action = $2)
		  AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)
		  AND (` + actor.InScope("region_code", "$5") + ` OR region_code = '' AND action = ANY($6))`
	args := []any{f.Username, f.Action, nullTime(f.From), nullTime(f.To), a.Region, unattributed}
	if err := db.QueryRow(ctx, `SELECT count(*)`+where, args...).Scan(&p.Total); err != nil {
		return p, fmt.Errorf("count audit: %w", err)
	}
	limit := q.Limit()
	if limit <= 0 {
		limit = 50
	}
	rows, err := db.Query(ctx, `SELECT id, at, user_id, username, region_code, ip, action, object, result, detail`+where+
		` ORDER BY at DESC, id DESC LIMIT $7 OFFSET $8`, append(args, limit, q.Offset())...)
	if err != nil {
		return p, fmt.Errorf("list audit: %w", err)
	}
	p.Items, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Entry])
	return p, err
}

// Actions lists the distinct actions seen, for the filter's drop-down.
func Actions(ctx context.Context, db Querier) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT DISTINCT action FROM audit_log ORDER BY action`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// ActionLabel is the Chinese name of an action for the audit page.
func ActionLabel(a string) string {
	if l, ok := labels[a]; ok {
		return l
	}
	return a
}

var labels = map[string]string{
	LoginOK:        "登录",
	LoginFailed:    "登录失败",
	LoginLocked:    "账户锁定",
	Logout:         "退出",
	UserCreate:     "创建用户",
	UserDisable:    "停用用户",
	UserEnable:     "启用用户",
	UserPassword:   "重置密码",
	RecordView:     "查看完整记录",
	ImportCreate:   "数据导入",
	ImportWithdraw: "撤回导入批次",
	ImportReport:   "下载导入错误报告",
	CompareRun:     "数据比对",
	JobCancel:      "取消任务",
	CompareReview:  "比对审核",
	CompareExport:  "导出比对结果",
	EventDerive:    "重新生成变动事件",
}
