package imports

import (
	"context"
	"strconv"

	"github.com/canbao/canbao/internal/sheet"
)

// ReportHeader is the error report's header row.
var ReportHeader = []string{"行号", "列", "值", "处理结果", "原因"}

// WriteReport writes a batch's rejected rows and warnings to w, one per
// line: the spreadsheet row number, the column, the value and the reason.
// Values are escaped so a cell like "=HYPERLINK(...)" stays text in Excel.
func (im *Importer) WriteReport(ctx context.Context, id int64, w sheet.Writer) error {
	issues, _, err := im.Issues(ctx, id, 0, 0)
	if err != nil {
		return err
	}
	if err := w.Write(ReportHeader); err != nil {
		return err
	}
	for _, is := range issues {
		result := "已接收，已标记"
		if is.Rejected {
			result = "拒绝"
		}
		if err := w.Write([]string{strconv.Itoa(is.Line), sheet.Escape(is.Column), sheet.Escape(is.Value), result, is.Reason}); err != nil {
			return err
		}
	}
	return nil
}
