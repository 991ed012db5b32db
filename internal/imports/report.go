package imports

import (
	"context"
	"strconv"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/sheet"
)

// ReportHeader is the error report's header row.
var ReportHeader = []string{"行号", "列", "值", "处理结果", "原因"}

// WriteReport writes the rejected rows and warnings of a batch inside the
// actor's region to w, one per line: the spreadsheet row number, the column,
// the value and the reason, and audits the download (the file holds whole
// ID numbers). Values are escaped so a cell like "=HYPERLINK(...)" stays
// text in Excel.
func (im *Importer) WriteReport(ctx context.Context, a actor.Actor, id int64, w sheet.Writer) error {
	page, err := im.Issues(ctx, a, id, list.Query{})
	issues := page.Items
	if err != nil {
		return err
	}
	if err := audit.Record(ctx, im.db, audit.For(a, audit.ImportReport, "batch:"+strconv.FormatInt(id, 10))); err != nil {
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
