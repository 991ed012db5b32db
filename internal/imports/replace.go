package imports

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/apperr"
)

// ReplaceRatio: a new extract with fewer than 1/ReplaceRatio of the rows
// of the one it would replace is most likely a truncated or wrong export,
// so the import stops and asks the user to confirm (Request.Force).
const ReplaceRatio = 5

// ReplaceError is the cause of an import stopped for confirmation: the
// new extract would replace batches holding many times more rows.
type ReplaceError struct {
	New, Old int     // accepted rows of the new file and of the batches it replaces
	Batches  []int64 // the batches it would replace
}

func (e *ReplaceError) Error() string {
	return fmt.Sprintf("new extract has %d rows, the batches %v it replaces %d", e.New, e.Batches, e.Old)
}

// checkReplace stops an import whose extract would replace batches holding
// more than ReplaceRatio times its rows, unless the user confirmed.
func checkReplace(ctx context.Context, tx pgx.Tx, req Request, res Result) error {
	if req.Force {
		return nil
	}
	const q = `
		SELECT coalesce(array_agg(id ORDER BY id), '{}'), coalesce(sum(rows_accepted), 0) FROM import_batch
		WHERE kind = $2 AND region_code = $3 AND source = $4 AND status = 'done' AND superseded_by IS NULL AND id <> $1`
	var ids []int64
	var old int
	if err := tx.QueryRow(ctx, q, res.BatchID, req.Kind, req.Region, res.Source).Scan(&ids, &old); err != nil {
		return fmt.Errorf("check replace: %w", err)
	}
	if len(ids) == 0 || old <= ReplaceRatio*res.Accepted {
		return nil
	}
	cause := &ReplaceError{New: res.Accepted, Old: old, Batches: ids}
	return &apperr.Error{Kind: apperr.Conflict, Err: cause, Msg: fmt.Sprintf(
		"新文件只有 %d 行有效数据，而它将替代的现有%s数据（批次 #%d）有 %d 行，相差 %d 倍以上，可能是导出不完整或选错了文件。"+
			"本次未导入任何数据；如确认用新文件替代，请点击“确认替代并导入”。",
		res.Accepted, req.Kind, ids[len(ids)-1], old, ReplaceRatio)}
}
