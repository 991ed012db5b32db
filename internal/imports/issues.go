package imports

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/pgcopy"
)

// issueLog collects a batch's issues in a temporary file, already in COPY
// format: a file where every row is bad (a shifted column, a date format
// nobody expected) has as many issues as rows, and they must neither be
// dropped nor fill the memory.
type issueLog struct {
	batchID int64
	*pgcopy.Spool
}

func newIssueLog(batchID int64, dir string) (*issueLog, error) {
	sp, err := pgcopy.NewSpool(dir)
	if err != nil {
		return nil, err
	}
	return &issueLog{batchID: batchID, Spool: sp}, nil
}

func (l *issueLog) add(is Issue) {
	l.Row(6)
	l.Int64(l.batchID)
	l.Int32(int32(is.Line))
	l.Bool(is.Rejected)
	l.TextNotNull(is.Column)
	l.TextNotNull(clip(is.Value))
	l.TextNotNull(is.Reason)
}

// copyTo writes the collected issues into import_issue.
func (l *issueLog) copyTo(ctx context.Context, tx pgx.Tx) error {
	return l.CopyTo(ctx, tx.Conn().PgConn(), "import_issue (batch_id, line, rejected, col, value, reason)")
}
