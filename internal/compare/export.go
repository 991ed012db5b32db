package compare

import (
	"context"
	"fmt"

	"github.com/canbao/canbao/internal/sheet"
)

// ExportHeader is the comparison result export's header (DOMAIN §5).
var ExportHeader = []string{"公民身份号码", "姓名", "登记对象", "养老参保状态", "医疗参保状态", "问题标记", "入户调查", "来源记录"}

// Export writes one row per known person of region in a run.
func (e *Engine) Export(ctx context.Context, runID int64, region string, w sheet.Writer) (int, error) {
	rows, err := e.db.Query(ctx, `
		SELECT rp.id_number, rp.name, rp.in_universe, rp.pension, rp.medical, rp.flags, rp.survey,
		       coalesce((SELECT string_agg(b.file_name || ':' || r.line, ';' ORDER BY r.batch_id, r.line)
		                 FROM unnest(rp.record_batches, rp.record_lines) AS r(batch_id, line)
		                 JOIN import_batch b ON b.id = r.batch_id), '')
		FROM run_person rp
		WHERE rp.run_id = $1 AND rp.region_code LIKE $2 || '%'
		ORDER BY rp.id_number`, runID, region)
	if err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	defer rows.Close()
	if err := w.Write(ExportHeader); err != nil {
		return 0, err
	}
	n := 0
	var (
		id, name, pension, medical, sources string
		universe, survey                    bool
		flags                               int
	)
	for rows.Next() {
		if err := rows.Scan(&id, &name, &universe, &pension, &medical, &flags, &survey, &sources); err != nil {
			return n, err
		}
		row := []string{id, sheet.Escape(name), yesNo(universe), pension, medical, FlagNames(flags), yesNo(survey), sheet.Escape(sources)}
		if err := w.Write(row); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// UnmatchedHeader is the unmatched-records export's header.
var UnmatchedHeader = []string{"文件名", "行号", "数据类型", "公民身份号码", "姓名", "处理", "原因"}

// ExportUnmatched writes the records of region left unmatched or in review.
func (e *Engine) ExportUnmatched(ctx context.Context, runID int64, region string, w sheet.Writer) (int, error) {
	if err := w.Write(UnmatchedHeader); err != nil {
		return 0, err
	}
	n := 0
	for _, review := range []bool{false, true} {
		for offset := 0; ; offset += 10000 {
			list, _, err := e.Records(ctx, runID, region, review, "", 10000, offset)
			if err != nil {
				return n, err
			}
			for _, r := range list {
				state := "未匹配"
				if review {
					state = "待审核"
				}
				if err := w.Write([]string{sheet.Escape(r.FileName), fmt.Sprint(r.Line), r.Kind, sheet.Escape(r.IDNorm), sheet.Escape(r.Name), state, r.Reason}); err != nil {
					return n, err
				}
				n++
			}
			if len(list) < 10000 {
				break
			}
		}
	}
	return n, nil
}

func yesNo(b bool) string {
	if b {
		return "是"
	}
	return "否"
}
