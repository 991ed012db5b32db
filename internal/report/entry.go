package report

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
)

// AuditEntry is the audit action of a save of hand-entered items.
const AuditEntry = "report.entry"

var periodRE = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)

// ParsePeriod checks a period (YYYY-MM); "" is the month of now (China time).
func ParsePeriod(p string, now time.Time) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return now.Format("2006-01"), nil
	}
	if !periodRE.MatchString(p) {
		return "", apperr.Invalidf("报告期格式应为 年-月（如 2017-06）")
	}
	return p, nil
}

// Normalize checks one hand-entered value of column c and returns it as
// stored; "" clears the item.
func Normalize(c Column, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	switch c.Kind {
	case YesNo:
		if v != "是" && v != "否" {
			return "", apperr.Invalidf("第 %d 栏（%s）只能填“是”或“否”", c.No, c.Label)
		}
	case Number:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1e12 || math.IsNaN(f) {
			return "", apperr.Invalidf("第 %d 栏（%s）应填不小于 0 的数字，收到“%s”", c.No, c.Label, clip(v, 20))
		}
		if f != math.Round(f*100)/100 {
			return "", apperr.Invalidf("第 %d 栏（%s）最多保留两位小数", c.No, c.Label)
		}
		v = formatNumber(int64(math.Round(f * 100)))
	case Text:
		if len([]rune(v)) > 200 {
			return "", apperr.Invalidf("第 %d 栏（%s）不能超过 200 字", c.No, c.Label)
		}
	}
	return v, nil
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// Entries are a region's hand-entered items for a period: item key → value.
type Entries map[string]string

// Entries reads the items of region (inside the actor's) for a period.
func (s *Store) Entries(ctx context.Context, a actor.Actor, region, period string) (Entries, error) {
	if err := a.CheckIn(actor.ReportRead, region, "区划 "+region); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT item, value FROM report_entry WHERE region_code = $1 AND period = $2`, region, period)
	if err != nil {
		return nil, fmt.Errorf("entries of %s %s: %w", region, period, err)
	}
	out := Entries{}
	var k, v string
	_, err = pgx.ForEachRow(rows, []any{&k, &v}, func() error { out[k] = v; return nil })
	return out, err
}

// Save stores the items of table entered for region (inside the actor's)
// and period: values keyed by item; an item left out is not touched, an
// empty value clears it. Every changed item is kept in the history with
// its old and new value, and the save is audited, in one transaction.
// It returns how many items changed.
func (s *Store) Save(ctx context.Context, a actor.Actor, table, region, period string, values map[string]string) (int, error) {
	ae := audit.For(a, AuditEntry, "region:"+region)
	if err := a.CheckIn(actor.ReportEdit, region, "区划 "+region); err != nil {
		return 0, audit.Reject(ctx, s.db, ae, err)
	}
	if !periodRE.MatchString(period) {
		return 0, audit.Reject(ctx, s.db, ae, apperr.Invalidf("报告期格式应为 年-月（如 2017-06）"))
	}
	clean := map[string]string{}
	for _, c := range Manual(table) {
		v, ok := values[c.Key]
		if !ok {
			continue
		}
		n, err := Normalize(c, v)
		if err != nil {
			return 0, err // the form shows it; nothing was saved
		}
		clean[c.Key] = n
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(ctx) }() // after Commit: a no-op
	old := map[string]string{}
	rows, err := tx.Query(ctx, `SELECT item, value FROM report_entry WHERE region_code = $1 AND period = $2 FOR UPDATE`, region, period)
	if err != nil {
		return 0, err
	}
	var k, v string
	if _, err := pgx.ForEachRow(rows, []any{&k, &v}, func() error { old[k] = v; return nil }); err != nil {
		return 0, err
	}
	var changed []string
	for _, c := range Manual(table) {
		n, ok := clean[c.Key]
		if !ok {
			continue
		}
		o, had := old[c.Key]
		if (had && o == n) || (!had && n == "") {
			continue
		}
		if err := saveItem(ctx, tx, a, region, period, c.Key, o, had, n); err != nil {
			return 0, err
		}
		changed = append(changed, fmt.Sprintf("%d", c.No))
	}
	ae.Detail = fmt.Sprintf("%s %s 报告期 %s，修改第 %s 栏", TableTitle(table), region, period, strings.Join(changed, "、"))
	if len(changed) == 0 {
		ae.Detail = fmt.Sprintf("%s %s 报告期 %s，无修改", TableTitle(table), region, period)
	}
	if err := audit.Record(ctx, tx, ae); err != nil {
		return 0, err
	}
	return len(changed), tx.Commit(ctx)
}

// saveItem writes one item's new value (n, "" = cleared) and its history line.
func saveItem(ctx context.Context, tx pgx.Tx, a actor.Actor, region, period, item, old string, had bool, n string) error {
	var uid *int64
	if a.UserID != 0 {
		uid = &a.UserID
	}
	var oldV, newV *string
	if had {
		oldV = &old
	}
	if n != "" {
		newV = &n
		const q = `INSERT INTO report_entry (region_code, period, item, value, updated_by, updated_name, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, now())
			ON CONFLICT (region_code, period, item) DO UPDATE
			SET value = excluded.value, updated_by = excluded.updated_by, updated_name = excluded.updated_name, updated_at = now()`
		if _, err := tx.Exec(ctx, q, region, period, item, n, uid, a.Username); err != nil {
			return fmt.Errorf("save %s: %w", item, err)
		}
	} else if _, err := tx.Exec(ctx, `DELETE FROM report_entry WHERE region_code = $1 AND period = $2 AND item = $3`, region, period, item); err != nil {
		return fmt.Errorf("clear %s: %w", item, err)
	}
	const qh = `INSERT INTO report_entry_history (region_code, period, item, old_value, new_value, changed_by, changed_name)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`
	_, err := tx.Exec(ctx, qh, region, period, item, oldV, newV, uid, a.Username)
	return err
}

// Change is one saved change of a hand-entered item.
type Change struct {
	Item     string
	No       int
	Label    string
	Old, New string // "" when none
	By       string
	At       time.Time
}

// History lists the changes of region's items (inside the actor's) for a
// period and table, newest first.
func (s *Store) History(ctx context.Context, a actor.Actor, table, region, period string) ([]Change, error) {
	if err := a.CheckIn(actor.ReportRead, region, "区划 "+region); err != nil {
		return nil, err
	}
	const q = `SELECT item, coalesce(old_value, ''), coalesce(new_value, ''), changed_name, changed_at
		FROM report_entry_history WHERE region_code = $1 AND period = $2 ORDER BY id DESC LIMIT 500`
	rows, err := s.db.Query(ctx, q, region, period)
	if err != nil {
		return nil, fmt.Errorf("history of %s %s: %w", region, period, err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Change, error) {
		var c Change
		err := r.Scan(&c.Item, &c.Old, &c.New, &c.By, &c.At)
		return c, err
	})
	if err != nil {
		return nil, err
	}
	var out []Change
	for _, c := range all {
		col, ok := column(c.Item)
		if !ok || !inTable(table, c.Item) {
			continue
		}
		c.No, c.Label = col.No, col.Label
		out = append(out, c)
	}
	return out, nil
}

func inTable(table, key string) bool {
	for _, c := range ColumnsOf(table) {
		if c.Key == key {
			return true
		}
	}
	return false
}

// TableTitle is a table's Chinese name.
func TableTitle(table string) string {
	switch table {
	case "progress":
		return "全民参保登记工作进度表"
	case "basic1":
		return "全民参保登记基础数据情况表(一)"
	case "basic2":
		return "全民参保登记基础数据情况表(二)"
	}
	return table
}

// manualValues reads, for each region in codes, the hand-entered items of
// a period: its own entries, and for Sum columns the sum over every region
// inside it (the key is present only when something was entered).
func (s *Store) manualValues(ctx context.Context, codes []string, period string, cols []Column) (map[string]map[string]string, map[string]map[string]int64, error) {
	own := map[string]map[string]string{}
	sums := map[string]map[string]int64{}
	var keys, sumKeys []string
	for _, c := range cols {
		if c.Manual {
			keys = append(keys, c.Key)
			if c.Sum {
				sumKeys = append(sumKeys, c.Key)
			}
		}
	}
	if len(keys) == 0 {
		return own, sums, nil
	}
	rows, err := s.db.Query(ctx, `SELECT region_code, item, value FROM report_entry WHERE region_code = ANY ($1) AND period = $2 AND item = ANY ($3)`, codes, period, keys)
	if err != nil {
		return nil, nil, err
	}
	var code, item, value string
	if _, err := pgx.ForEachRow(rows, []any{&code, &item, &value}, func() error {
		if own[code] == nil {
			own[code] = map[string]string{}
		}
		own[code][item] = value
		return nil
	}); err != nil {
		return nil, nil, err
	}
	const qs = `
		SELECT c.code, e.item, sum(round(e.value::numeric * 100))::bigint
		FROM unnest($1::text[]) AS c(code)
		JOIN report_entry e ON e.region_code LIKE c.code || '%'
		WHERE e.period = $2 AND e.item = ANY ($3)
		GROUP BY c.code, e.item`
	rows, err = s.db.Query(ctx, qs, codes, period, sumKeys)
	if err != nil {
		return nil, nil, err
	}
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&code, &item, &n}, func() error {
		if sums[code] == nil {
			sums[code] = map[string]int64{}
		}
		sums[code][item] = n
		return nil
	})
	return own, sums, err
}
