package report

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
)

// Demo gives the demo city and county what staff would have entered by
// now: the organisational items of the current period (and training
// sessions of two townships, so the sums show), and one issued bulletin
// of the county; and the report rows of its comparison runs. Idempotent: a period already entered and a county that
// has a bulletin are left alone.
func Demo(ctx context.Context, s *Store, a actor.Actor, city, county string, now time.Time) error {
	// The demo compared in the foreground, with no server to start the
	// preparation job: prepare its runs now, so its tables show numbers.
	if _, err := s.PrepareMissing(ctx, nil); err != nil {
		return fmt.Errorf("demo report rows: %w", err)
	}
	period := now.Format("2006-01")
	entries := map[string]map[string]string{
		city: {"p.1": "是", "p.2": "是", "p.3": "是", "p.4": "是", "p.5": "是", "p.6": "是", "p.7": "是", "p.8": "是",
			"p.9": "公安、民政、卫健、教育、税务", "p.10": "公安、民政、卫健", "p.11": "是", "p.12": "120",
			"p.19": "否", "p.20": "是", "p.21": "是", "p.23": "是", "p.24": "每月", "p.25": "每季度",
			"p.29": "4", "p.30": "360", "p.31": "是", "p.32": "6"},
		county: {"p.1": "是", "p.2": "否", "p.3": "是", "p.4": "是", "p.5": "是", "p.6": "是", "p.7": "是", "p.8": "是",
			"p.9": "公安、民政、卫健", "p.10": "公安、卫健", "p.11": "是", "p.12": "35.5",
			"p.19": "否", "p.20": "否", "p.21": "是", "p.23": "是", "p.24": "每月", "p.25": "每季度",
			"p.29": "6", "p.30": "540", "p.31": "是", "p.32": "12"},
	}
	rows, err := s.db.Query(ctx, `SELECT code FROM region WHERE parent_code = $1 ORDER BY code LIMIT 2`, county)
	if err != nil {
		return err
	}
	towns, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for i, t := range towns {
		entries[t] = map[string]string{"p.29": fmt.Sprint(2 - i), "p.30": fmt.Sprint(86 - 46*i)}
	}
	for region, v := range entries {
		var n int
		if err := s.db.QueryRow(ctx, `SELECT count(*) FROM report_entry WHERE region_code = $1 AND period = $2`, region, period).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		if _, err := s.Save(ctx, a, "progress", region, period, v); err != nil {
			return fmt.Errorf("demo entries of %s: %w", region, err)
		}
	}
	var bulletins int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM report_bulletin WHERE region_code = $1`, county).Scan(&bulletins); err != nil || bulletins > 0 {
		return err
	}
	id, err := s.CreateBulletin(ctx, a, county, "全民参保登记工作进展情况通报", "请进度落后的乡镇加快入户调查，按期完成登记入库。")
	if err != nil {
		return err
	}
	return s.IssueBulletin(ctx, a, id, now)
}
