package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/indicator"
)

// Audit actions of bulletins.
const (
	AuditBulletinCreate = "report.bulletin.create"
	AuditBulletinIssue  = "report.bulletin.issue"
)

// bulletinRates are the rates a bulletin compares, in its column order;
// the ranking is by the first (入户调查完成率), ties by 入户率.
var bulletinRates = []indicator.Indicator{indicator.SurveyRate, indicator.VisitRate, indicator.RegistrationRate,
	indicator.CorrectionRate, indicator.ExpansionRate}

// BulletinLine is a region's line of a bulletin.
type BulletinLine struct {
	Code, Name string
	Population int64
	Values     map[string]indicator.Value
	// Prev holds the values of the previous issued bulletin, when it had
	// this region.
	Prev   map[string]indicator.Value `json:",omitempty"`
	Rank   int                        // 1 = furthest along; 0 for the region itself
	Behind bool                       // below the expected progress (or below the region's rate without a deadline)
}

// BulletinData is what a bulletin shows; frozen as JSON when issued.
type BulletinData struct {
	Day        string // the numbers are as of the end of this day (YYYY-MM-DD)
	Basis      string
	Total      BulletinLine
	Lines      []BulletinLine // children, ranked
	PrevNumber int            // the previous issued bulletin's number, 0 when none
	PrevDay    string
	Deadline   string  // the current round's deadline, when set
	Expected   float64 // the share of the round's time elapsed (0–1); -1 without a deadline
}

// Bulletin is a numbered 工作通报 of a region.
type Bulletin struct {
	ID                     int64
	RegionCode, RegionName string
	Number                 int
	Title, Note            string
	Issued                 bool
	CreatedName            string
	CreatedAt              time.Time
	IssuedName             string
	IssuedAt               *time.Time
	Data                   BulletinData // frozen when issued, else today's
}

// CreateBulletin starts a draft bulletin for region (inside the actor's),
// numbered after the region's last one.
func (s *Store) CreateBulletin(ctx context.Context, a actor.Actor, region, title, note string) (int64, error) {
	ae := audit.For(a, AuditBulletinCreate, "region:"+region)
	if err := a.CheckIn(actor.ReportEdit, region, "区划 "+region); err != nil {
		return 0, audit.Reject(ctx, s.db, ae, err)
	}
	title, note = strings.TrimSpace(title), strings.TrimSpace(note)
	if title == "" || len([]rune(title)) > 100 {
		return 0, apperr.Invalidf("请填写通报标题（不超过 100 字）")
	}
	if len([]rune(note)) > 2000 {
		return 0, apperr.Invalidf("通报说明不能超过 2000 字")
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(ctx) }() // after Commit: a no-op
	// one numbering per region: creations of a region queue here
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('report_bulletin'), hashtext($1))`, region); err != nil {
		return 0, err
	}
	var uid *int64
	if a.UserID != 0 {
		uid = &a.UserID
	}
	const q = `INSERT INTO report_bulletin (region_code, number, title, note, created_by, created_name)
		VALUES ($1, (SELECT coalesce(max(number), 0) + 1 FROM report_bulletin WHERE region_code = $1), $2, $3, $4, $5)
		RETURNING id, number`
	var id int64
	var number int
	if err := tx.QueryRow(ctx, q, region, title, note, uid, a.Username).Scan(&id, &number); err != nil {
		return 0, fmt.Errorf("create bulletin: %w", err)
	}
	ae.Object, ae.Detail = fmt.Sprintf("bulletin:%d", id), fmt.Sprintf("%s 第 %d 期 %s", region, number, title)
	if err := audit.Record(ctx, tx, ae); err != nil {
		return 0, err
	}
	return id, tx.Commit(ctx)
}

// IssueBulletin freezes a draft's numbers as of now; an issued bulletin
// never changes again.
func (s *Store) IssueBulletin(ctx context.Context, a actor.Actor, id int64, now time.Time) error {
	ae := audit.For(a, AuditBulletinIssue, fmt.Sprintf("bulletin:%d", id))
	b, err := s.bulletinRow(ctx, a, id)
	if err == nil {
		err = a.CheckIn(actor.ReportEdit, b.RegionCode, "通报")
	}
	if err == nil && b.Issued {
		err = apperr.Conflictf("第 %d 期通报已印发，不能再次印发", b.Number)
	}
	if err != nil {
		return audit.Reject(ctx, s.db, ae, err)
	}
	data, err := s.bulletinData(ctx, a, b.RegionCode, b.Number, now)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }() // after Commit: a no-op
	var uid *int64
	if a.UserID != 0 {
		uid = &a.UserID
	}
	const q = `UPDATE report_bulletin SET state = 'issued', data = $2, issued_by = $3, issued_name = $4, issued_at = now()
		WHERE id = $1 AND state = 'draft'`
	tag, err := tx.Exec(ctx, q, id, raw, uid, a.Username)
	if err != nil {
		return fmt.Errorf("issue bulletin %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return audit.Reject(ctx, s.db, ae, apperr.Conflictf("第 %d 期通报已印发", b.Number))
	}
	ae.Detail = fmt.Sprintf("%s 第 %d 期，数据截至 %s", b.RegionCode, b.Number, data.Day)
	if err := audit.Record(ctx, tx, ae); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

const bulletinCols = `b.id, b.region_code, coalesce(r.name, ''), b.number, b.title, b.note, b.state = 'issued',
	b.created_name, b.created_at, b.issued_name, b.issued_at, b.data`

func scanBulletin(row pgx.CollectableRow) (Bulletin, error) {
	var b Bulletin
	var raw []byte
	err := row.Scan(&b.ID, &b.RegionCode, &b.RegionName, &b.Number, &b.Title, &b.Note, &b.Issued,
		&b.CreatedName, &b.CreatedAt, &b.IssuedName, &b.IssuedAt, &raw)
	if err == nil && raw != nil {
		err = json.Unmarshal(raw, &b.Data)
	}
	return b, err
}

// bulletinRow reads a bulletin of the actor's region (or below).
func (s *Store) bulletinRow(ctx context.Context, a actor.Actor, id int64) (Bulletin, error) {
	if err := a.Check(actor.ReportRead); err != nil {
		return Bulletin{}, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+bulletinCols+` FROM report_bulletin b LEFT JOIN region r ON r.code = b.region_code
		WHERE b.id = $1 AND `+actor.InScope("b.region_code", "$2"), id, a.Region)
	if err != nil {
		return Bulletin{}, err
	}
	b, err := pgx.CollectExactlyOneRow(rows, scanBulletin)
	if errors.Is(err, pgx.ErrNoRows) {
		return Bulletin{}, apperr.NotFoundf("通报不存在")
	}
	return b, err
}

// GetBulletin reads a bulletin (inside the actor's region): an issued one
// with its frozen numbers, a draft with the numbers of now.
func (s *Store) GetBulletin(ctx context.Context, a actor.Actor, id int64, now time.Time) (Bulletin, error) {
	b, err := s.bulletinRow(ctx, a, id)
	if err != nil || b.Issued {
		return b, err
	}
	b.Data, err = s.bulletinData(ctx, a, b.RegionCode, b.Number, now)
	return b, err
}

// Bulletins lists the bulletins of the actor's region and below, newest first.
func (s *Store) Bulletins(ctx context.Context, a actor.Actor) ([]Bulletin, error) {
	if err := a.Check(actor.ReportRead); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+bulletinCols+` FROM report_bulletin b LEFT JOIN region r ON r.code = b.region_code
		WHERE `+actor.InScope("b.region_code", "$1")+` ORDER BY b.created_at DESC, b.id DESC LIMIT 200`, a.Region)
	if err != nil {
		return nil, fmt.Errorf("bulletins: %w", err)
	}
	return pgx.CollectRows(rows, scanBulletin)
}

// bulletinData computes a bulletin's numbers for region as of now, against
// the region's previous issued bulletin (numbered below number).
func (s *Store) bulletinData(ctx context.Context, a actor.Actor, region string, number int, now time.Time) (BulletinData, error) {
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	self, kids, err := s.places(ctx, a, region)
	if err != nil {
		return BulletinData{}, err
	}
	ls, err := s.indicatorLines(ctx, a, region, day)
	if err != nil {
		return BulletinData{}, err
	}
	d := BulletinData{Day: day.Format("2006-01-02"), Basis: ls.basis, Expected: -1}
	var prev BulletinData
	var raw []byte
	const qPrev = `SELECT number, data FROM report_bulletin WHERE region_code = $1 AND state = 'issued' AND number < $2
		ORDER BY number DESC LIMIT 1`
	err = s.db.QueryRow(ctx, qPrev, region, number).Scan(&d.PrevNumber, &raw)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return d, err
	default:
		if err := json.Unmarshal(raw, &prev); err != nil {
			return d, err
		}
		d.PrevDay = prev.Day
	}
	prevOf := map[string]map[string]indicator.Value{prev.Total.Code: prev.Total.Values}
	for _, l := range prev.Lines {
		prevOf[l.Code] = l.Values
	}
	line := func(code, name string) BulletinLine {
		v := ls.byCode[code]
		if v == nil {
			v = map[string]indicator.Value{}
		}
		return BulletinLine{Code: code, Name: name, Values: v, Population: v[indicator.PopulationCount.Key].Num, Prev: prevOf[code]}
	}
	d.Total = line(self.Code, self.Name)
	if prev.Total.Code == "" {
		d.Total.Prev = nil
	}
	// the current round's deadline sets the expected progress
	var created time.Time
	var deadline *time.Time
	qRound := `SELECT created_at, deadline FROM survey_round
		WHERE (` + actor.InScope("region_code", "$1") + ` OR ` + actor.InScope("$1", "region_code") + `) AND deadline IS NOT NULL
		ORDER BY id DESC LIMIT 1`
	err = s.db.QueryRow(ctx, qRound, region).Scan(&created, &deadline)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return d, err
	}
	if deadline != nil {
		d.Deadline = deadline.Format("2006-01-02")
		span := deadline.AddDate(0, 0, 1).Sub(created).Hours()
		d.Expected = 1
		if span > 0 {
			d.Expected = min(1, max(0, now.Sub(created).Hours()/span))
		}
	}
	regionRate, regionKnown := d.Total.Values[indicator.SurveyRate.Key].Ratio()
	for _, k := range kids {
		l := line(k.Code, k.Name)
		r, ok := l.Values[indicator.SurveyRate.Key].Ratio()
		switch {
		case !ok:
		case d.Expected >= 0:
			l.Behind = r < d.Expected
		case regionKnown:
			l.Behind = r < regionRate
		}
		d.Lines = append(d.Lines, l)
	}
	rank(d.Lines)
	return d, nil
}

// rank orders the lines by 入户调查完成率, then 入户率, then code; a line
// without data ranks last and gets no rank.
func rank(ls []BulletinLine) {
	key := func(l BulletinLine, ind indicator.Indicator) float64 {
		r, ok := l.Values[ind.Key].Ratio()
		if !ok {
			return -1
		}
		return r
	}
	sort.SliceStable(ls, func(i, j int) bool {
		a, b := key(ls[i], indicator.SurveyRate), key(ls[j], indicator.SurveyRate)
		if a != b {
			return a > b
		}
		a, b = key(ls[i], indicator.VisitRate), key(ls[j], indicator.VisitRate)
		if a != b {
			return a > b
		}
		return ls[i].Code < ls[j].Code
	})
	for i := range ls {
		if key(ls[i], indicator.SurveyRate) >= 0 {
			ls[i].Rank = i + 1
		}
	}
}

// BulletinRates are the rates a bulletin shows, in order.
func BulletinRates() []indicator.Indicator { return bulletinRates }

// BulletinTable is the bulletin as a table (its page and its xlsx share it).
func BulletinTable(b Bulletin) Table {
	t := Table{Key: "bulletin", Title: fmt.Sprintf("%s全民参保登记工作通报（第 %d 期）", b.RegionName, b.Number),
		RegionCode: b.RegionCode, RegionName: b.RegionName, Period: b.Data.Day, Basis: b.Data.Basis}
	no := 1
	add := func(group, label string, k Kind) {
		t.Columns = append(t.Columns, Column{No: no, Group: group, Label: label, Kind: k})
		no++
	}
	add("", "排名", Text)
	add("", "常住人口（人）", Count)
	for _, ind := range bulletinRates {
		add(ind.Label, "本期（%）", Rate)
		add(ind.Label, "较上期（百分点）", Text)
	}
	add("", "进度", Text)
	mk := func(l BulletinLine, total bool) Row {
		r := Row{Code: l.Code, Name: l.Name, Total: total}
		rk := Cell{Known: true, Text: "—"}
		if l.Rank > 0 {
			rk.Text = fmt.Sprint(l.Rank)
		}
		if total {
			r.Name = "合计"
		}
		r.Cells = append(r.Cells, rk, Cell{Known: true, N: l.Population})
		for _, ind := range bulletinRates {
			v := l.Values[ind.Key]
			r.Cells = append(r.Cells, Cell{Known: v.Den != 0, Num: v.Num, Den: v.Den}, Cell{Known: true, Text: delta(v, l.Prev, ind)})
		}
		state := "—"
		if !total {
			state = "正常"
			if l.Behind {
				state = "落后"
			}
		}
		r.Cells = append(r.Cells, Cell{Known: true, Text: state})
		return r
	}
	t.Rows = append(t.Rows, mk(b.Data.Total, true))
	for _, l := range b.Data.Lines {
		t.Rows = append(t.Rows, mk(l, false))
	}
	if b.Data.PrevNumber > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("“较上期”与第 %d 期通报（数据截至 %s）比较。", b.Data.PrevNumber, b.Data.PrevDay))
	} else {
		t.Notes = append(t.Notes, "本期为首期通报，无上期数据。")
	}
	if b.Data.Expected >= 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("调查截止日期 %s，按时间进度应完成 %.1f%%；入户调查完成率低于时间进度的区划记为“落后”。", b.Data.Deadline, b.Data.Expected*100))
	} else {
		t.Notes = append(t.Notes, "调查未设截止日期；入户调查完成率低于本区划合计的下级区划记为“落后”。")
	}
	if b.Note != "" {
		t.Notes = append(t.Notes, b.Note)
	}
	return t
}

// delta is the change of a rate since the previous bulletin, in
// percentage points ("—" when either has no data).
func delta(v indicator.Value, prev map[string]indicator.Value, ind indicator.Indicator) string {
	r, ok := v.Ratio()
	if !ok || prev == nil {
		return "—"
	}
	p, ok := prev[ind.Key].Ratio()
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%+.1f", (r-p)*100)
}
