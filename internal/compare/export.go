package compare

import (
	"context"
	"fmt"
	"strconv"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/sheet"
)

// ExportHeader is the comparison result export's header (DOMAIN §5).
var ExportHeader = []string{"公民身份号码", "姓名", "登记对象", "养老参保状态", "医疗参保状态", "问题标记", "入户调查", "来源记录"}

// Export writes one row per known person of region (inside the actor's) in
// a run, and audits the download before the file leaves: whole ID numbers.
func (e *Engine) Export(ctx context.Context, a actor.Actor, runID int64, region string, w sheet.Writer) (int, error) {
	n, err := e.export(ctx, a, runID, region, w)
	if err != nil {
		return n, err
	}
	return n, e.auditExport(ctx, a, runID, region, "比对结果", n)
}

// auditExport records a finished export of n rows.
func (e *Engine) auditExport(ctx context.Context, a actor.Actor, runID int64, region, what string, n int) error {
	ae := audit.For(a, audit.CompareExport, "run:"+strconv.FormatInt(runID, 10))
	ae.Detail = fmt.Sprintf("%s %s %d 行", what, region, n)
	return audit.Record(ctx, e.db, ae)
}

func (e *Engine) export(ctx context.Context, a actor.Actor, runID int64, region string, w sheet.Writer) (int, error) {
	if err := a.CheckIn(actor.Export, region, "区划 "+region); err != nil {
		return 0, err
	}
	// The records are read for the whole run at once: a run with an anchor
	// finds most of them by ID, which per person would cost a lookup in
	// every batch.
	rows, err := e.db.Query(ctx, `
		WITH src AS (
			SELECT r.id_number, string_agg(b.file_name || ':' || r.line, ';' ORDER BY r.batch_id, r.line) AS files
			FROM run_records_all($1) r JOIN import_batch b ON b.id = r.batch_id
			GROUP BY r.id_number)
		SELECT rp.id_number, rp.name, rp.in_universe, rp.pension, rp.medical, rp.flags, rp.survey, coalesce(src.files, '')
		FROM run_persons($1) rp LEFT JOIN src ON src.id_number = rp.id_number
		WHERE `+actor.InScope("rp.region_code", "$2")+`
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

// ExportUnmatched writes the records of region (inside the actor's) left
// unmatched or in review, and audits the download.
func (e *Engine) ExportUnmatched(ctx context.Context, a actor.Actor, runID int64, region string, w sheet.Writer) (int, error) {
	n, err := e.exportUnmatched(ctx, a, runID, region, w)
	if err != nil {
		return n, err
	}
	return n, e.auditExport(ctx, a, runID, region, "未匹配记录", n)
}

func (e *Engine) exportUnmatched(ctx context.Context, a actor.Actor, runID int64, region string, w sheet.Writer) (int, error) {
	if err := a.CheckIn(actor.Export, region, "区划 "+region); err != nil {
		return 0, err
	}
	if err := w.Write(UnmatchedHeader); err != nil {
		return 0, err
	}
	n := 0
	for _, review := range []bool{false, true} {
		for page := 1; ; page++ {
			p, err := e.Records(ctx, a, runID, region, review, "", list.Query{Page: page, Size: 10000})
			if err != nil {
				return n, err
			}
			for _, r := range p.Items {
				state := "未匹配"
				if review {
					state = "待审核"
				}
				if err := w.Write([]string{sheet.Escape(r.FileName), fmt.Sprint(r.Line), r.Kind, sheet.Escape(r.IDNorm), sheet.Escape(r.Name), state, r.Reason}); err != nil {
					return n, err
				}
				n++
			}
			if len(p.Items) < 10000 {
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
