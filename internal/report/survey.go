package report

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/singleflight"
)

// surveyReasons are the survey form's 未参保原因 values (DOMAIN §6) in the
// order of Reasons; the last matches any reason starting with it.
var surveyReasons = []string{"个人未参保", "缴费中断", "单位未予参保", "全日制在校生", "参军", "部队建账的随军家属", "出国", "判刑", "人户分离", "户口待注销", "其他"}

// surveyLive is every person's latest approved survey form reviewed by the
// end of day $2, in region $1: migration 000009's confirmed (a live form
// approved). A person listed in two rounds counts once, by the latest.
// Sorted as the lists show them.
const surveyLive = `
	WITH live AS (
		SELECT DISTINCT ON (m.id_number) m.id_number, m.name, h.region_code, f.reason, m.target
		FROM survey_form f
		JOIN survey_member m ON m.id = f.member_id
		JOIN survey_household h ON h.id = f.household_id
		WHERE f.state = 'approved' AND f.reviewed_at < ($2::date + 1)::timestamptz
		  AND h.region_code LIKE $1 || '%'
		ORDER BY m.id_number, f.reviewed_at DESC, f.id DESC
	)
	SELECT id_number, name, region_code, reason, target FROM live ORDER BY region_code, id_number`

// liveRow is a person of surveyLive.
type liveRow struct {
	IDNumber, Name, RegionCode, Reason string
	Target                             bool
}

// surveyPreds say which live persons each survey column counts: the
// table's figure and the list behind it both filter the same rows with
// them, so a figure is its list's length.
var surveyPreds = func() map[string]func(liveRow) bool {
	m := map[string]func(liveRow) bool{"b1.6": func(r liveRow) bool { return r.Target }}
	for i, reason := range surveyReasons {
		if i == len(surveyReasons)-1 {
			m["b2."+strconv.Itoa(16+i)] = func(r liveRow) bool { return strings.HasPrefix(r.Reason, reason) }
		} else {
			m["b2."+strconv.Itoa(16+i)] = func(r liveRow) bool { return r.Reason == reason }
		}
	}
	return m
}()

// surveyVersion is report_survey_version (migration 000023): every change
// that can move the survey columns raises it in its own transaction, so
// rows and counts kept under a version read before them are never older
// than it.
func (s *Store) surveyVersion(ctx context.Context) (int64, error) {
	var version int64
	if err := s.db.QueryRow(ctx, `SELECT n FROM report_survey_version`).Scan(&version); err != nil {
		return 0, fmt.Errorf("survey version: %w", err)
	}
	return version, nil
}

// surveyRows reads surveyLive for region at day, kept per version.
func (s *Store) surveyRows(ctx context.Context, region string, day time.Time, version int64) ([]liveRow, error) {
	key := fmt.Sprintf("%s|%s|%d", region, day.Format("2006-01-02"), version)
	return s.live.get(key, func() ([]liveRow, error) {
		rows, err := s.db.Query(ctx, surveyLive, region, day)
		if err != nil {
			return nil, fmt.Errorf("survey forms of %s: %w", region, err)
		}
		return pgx.CollectRows(rows, pgx.RowToStructByPos[liveRow])
	})
}

// surveyCounts counts the survey columns for region and each prefix of
// childLen characters below it (its children); "" keys the region itself.
// Read-only: the maps may be shared.
func (s *Store) surveyCounts(ctx context.Context, region string, childLen int, day time.Time) (map[string]map[string]int64, error) {
	version, err := s.surveyVersion(ctx)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("survey|%s|%d|%s|%d", region, childLen, day.Format("2006-01-02"), version)
	if m, ok := s.fixed.get(key); ok {
		return m.(map[string]map[string]int64), nil
	}
	rows, err := s.surveyRows(ctx, region, day, version)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]int64{"": {}}
	for _, r := range rows {
		child := r.RegionCode[:min(len(r.RegionCode), childLen)]
		if out[child] == nil {
			out[child] = map[string]int64{}
		}
		for k, pred := range surveyPreds {
			if pred(r) {
				out[""][k]++
				out[child][k]++
			}
		}
	}
	s.fixed.put(key, out)
	return out, nil
}

// surveyPersons is one page of the persons column key of the survey
// counts in region at day, and their number.
func (s *Store) surveyPersons(ctx context.Context, key, region string, day time.Time, offset, limit int) ([]PersonRow, int, error) {
	version, err := s.surveyVersion(ctx)
	if err != nil {
		return nil, 0, err
	}
	rows, err := s.surveyRows(ctx, region, day, version)
	if err != nil {
		return nil, 0, err
	}
	pred := surveyPreds[key]
	var page []PersonRow
	total := 0
	for _, r := range rows {
		if !pred(r) {
			continue
		}
		if total >= offset && len(page) < limit {
			page = append(page, PersonRow{IDNumber: r.IDNumber, Name: r.Name, RegionCode: r.RegionCode})
		}
		total++
	}
	return page, total, nil
}

// liveCache keeps survey rows (names and IDs: only ever handed to a
// caller that checked the viewer's scope) under keys that name them for
// good. It holds at most max rows in all, dropping everything when a new
// set would not fit; one reader reads a missing set while the others
// asking for it wait.
type liveCache struct {
	mu   sync.Mutex
	max  int
	rows int
	m    map[string][]liveRow
	load singleflight.Group
}

func newLiveCache(max int) *liveCache {
	return &liveCache{max: max, m: map[string][]liveRow{}}
}

// get returns key's rows, reading them with read when missing. A nil
// cache reads every time.
func (c *liveCache) get(key string, read func() ([]liveRow, error)) ([]liveRow, error) {
	if c == nil {
		return read()
	}
	c.mu.Lock()
	rows, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return rows, nil
	}
	v, err, shared := c.load.Do(key, func() (any, error) {
		rows, err := read()
		if err == nil {
			c.keep(key, rows)
		}
		return rows, err
	})
	if err != nil && shared { // perhaps the reader's request was cancelled
		return read()
	}
	rows, _ = v.([]liveRow)
	return rows, err
}

// keep stores key's rows when they fit.
func (c *liveCache) keep(key string, rows []liveRow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(rows) > c.max {
		return
	}
	if c.rows+len(rows) > c.max {
		clear(c.m)
		c.rows = 0
	}
	c.m[key] = rows
	c.rows += len(rows)
}

// PersonRow is a person behind a figure (the caller masks the ID).
type PersonRow struct {
	IDNumber, Name, RegionCode string
}

func collectPersons(rows pgx.Rows) ([]PersonRow, error) {
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PersonRow])
}
