package imports

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/source"
)

// ParseExtractDate reads the date an extract was taken (数据日期) as the
// user typed it: "" is none (the import day is taken), else a date as the
// extracts write them (2026-06-30, 2026/6/30, 20260630), not after today.
func ParseExtractDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	d, ok := source.ParseDate(s)
	if !ok {
		return time.Time{}, apperr.Invalidf("数据日期“%s”无法识别，请写成 2026-06-30 的形式", s)
	}
	return d, checkExtractDate(d, today())
}

// today is China's calendar day now, as a date.
func today() time.Time { return source.Day(time.Now()) }

// checkExtractDate refuses an extract taken after today: a typing error,
// which would date every change the extract shows in the future.
func checkExtractDate(d, today time.Time) error {
	if d.After(today) {
		return apperr.Invalidf("数据日期 %s 晚于今天（%s），请检查", d.Format("2006-01-02"), today.Format("2006-01-02"))
	}
	return nil
}

// extractDate is the day the request's extract was taken: the one given,
// else today.
func extractDate(req Request) time.Time {
	if req.ExtractDate.IsZero() {
		return today()
	}
	y, m, d := req.ExtractDate.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// CheckExtractDate refuses, before a file is imported, an extract taken
// before the one in force it would replace (kind, region and source; an
// enrollment file without a source names its schemes only once read, and
// is checked then). The import checks again, whatever was checked here.
func (im *Importer) CheckExtractDate(ctx context.Context, kind source.Kind, region, src string, date time.Time) error {
	if src == "" && kind == source.Enrollment {
		return nil
	}
	if src == "" {
		src = string(kind)
	}
	tx, err := im.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	return checkNotOlder(ctx, tx, Request{Kind: kind, Region: region, ExtractDate: date}, Result{Source: src})
}

// checkNotOlder refuses an extract taken before the one of the same kind,
// region and source it would replace: the older snapshot would supersede
// the newer, and every change between them would read backwards.
func checkNotOlder(ctx context.Context, tx pgx.Tx, req Request, res Result) error {
	const q = `
		SELECT id, extract_date FROM import_batch
		WHERE kind = $2 AND region_code = $3 AND source = $4 AND status = 'done' AND superseded_by IS NULL AND id <> $1
		  AND extract_date > $5
		ORDER BY extract_date DESC, id DESC LIMIT 1`
	var id int64
	var newer time.Time
	err := tx.QueryRow(ctx, q, res.BatchID, req.Kind, req.Region, res.Source, extractDate(req)).Scan(&id, &newer)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check extract date: %w", err)
	}
	return apperr.Invalidf("数据日期 %s 早于它将替代的现有%s数据（批次 #%d）的数据日期 %s：新导入的数据不能比现有数据更旧，请检查数据日期",
		extractDate(req).Format("2006-01-02"), req.Kind, id, newer.Format("2006-01-02"))
}
