package compare

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/canbao/canbao/internal/apperr"
)

// stepError names the step of a run that failed.
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// explain turns a failed run's error into one a user can act on: a
// domain error keeps its message; anything else becomes an internal error
// whose message says, in Chinese, at which step and why the run stopped
// (the cause stays attached for the log).
func explain(err error) error {
	var ae *apperr.Error
	if err == nil || errors.As(err, &ae) || errors.Is(err, context.Canceled) {
		return err
	}
	return &apperr.Error{Kind: apperr.Internal, Msg: failureMessage(err), Err: err}
}

// failureMessage is the Chinese reason a run failed, by PostgreSQL's
// error class where there is one.
func failureMessage(err error) string {
	step := ""
	var se *stepError
	if errors.As(err, &se) {
		step = "（" + se.step + "步骤）"
	}
	reason := "系统内部错误，详情已记入服务器日志，请联系管理员"
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case pg.Code == "54000": // program_limit_exceeded, e.g. an index row too large
			reason = "某条记录的内容超出数据库的长度上限（常见于导入文件中异常过长的单元格），请检查最近导入的批次，撤回含异常数据的批次后重新比对"
		case pg.Code == "53100":
			reason = "数据库服务器磁盘空间不足，请联系管理员"
		case pg.Code == "53200":
			reason = "数据库服务器内存不足，请稍后重试或联系管理员"
		case pg.Code == "57014":
			reason = "比对被取消或超时，请稍后重试"
		case strings.HasPrefix(pg.Code, "08") || strings.HasPrefix(pg.Code, "57P"):
			reason = "与数据库的连接中断，请稍后重试"
		case strings.HasPrefix(pg.Code, "40"):
			reason = "与其他操作冲突，请稍后重试"
		}
	}
	return "比对失败" + step + "：" + reason
}
