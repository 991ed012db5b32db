package report

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// surveyReasons are the survey form's 未参保原因 values (DOMAIN §6) in the
// order of Reasons; the last matches any reason starting with it.
var surveyReasons = []string{"个人未参保", "缴费中断", "单位未予参保", "全日制在校生", "参军", "部队建账的随军家属", "出国", "判刑", "人户分离", "户口待注销", "其他"}

// surveyLive is every person's latest approved survey form reviewed by the
// end of day $2, in region $1: migration 000009's confirmed (a live form
// approved). A person listed in two rounds counts once, by the latest.
const surveyLive = `
	WITH live AS (
		SELECT DISTINCT ON (m.id_number) m.id_number, m.name, h.region_code, f.reason, m.target
		FROM survey_form f
		JOIN survey_member m ON m.id = f.member_id
		JOIN survey_household h ON h.id = f.household_id
		WHERE f.state = 'approved' AND f.reviewed_at < ($2::date + 1)::timestamptz
		  AND h.region_code LIKE $1 || '%'
		ORDER BY m.id_number, f.reviewed_at DESC, f.id DESC
	)`

// surveyPreds are the predicates on live behind the survey columns.
var surveyPreds = func() map[string]string {
	m := map[string]string{"b1.6": "live.target"}
	for i, r := range surveyReasons {
		p := "live.reason = '" + r + "'"
		if i == len(surveyReasons)-1 {
			p = "live.reason LIKE '" + r + "%'"
		}
		m["b2."+strconv.Itoa(16+i)] = p
	}
	return m
}()

// surveyCounts counts the survey columns for region and each prefix of
// childLen characters below it (its children); "" keys the region itself.
func (s *Store) surveyCounts(ctx context.Context, region string, childLen int, day time.Time) (map[string]map[string]int64, error) {
	keys := make([]string, 0, len(surveyPreds))
	sel := ""
	for k, p := range surveyPreds {
		keys = append(keys, k)
		sel += ", count(*) FILTER (WHERE " + p + ")"
	}
	q := surveyLive + `
		SELECT coalesce(left(live.region_code, $3), '')` + sel + `
		FROM live GROUP BY ROLLUP (left(live.region_code, $3))`
	rows, err := s.db.Query(ctx, q, region, day, childLen)
	if err != nil {
		return nil, fmt.Errorf("survey counts of %s: %w", region, err)
	}
	defer rows.Close()
	out := map[string]map[string]int64{}
	for rows.Next() {
		vals := make([]any, len(keys)+1)
		var code string
		ns := make([]int64, len(keys))
		vals[0] = &code
		for i := range ns {
			vals[i+1] = &ns[i]
		}
		if err := rows.Scan(vals...); err != nil {
			return nil, err
		}
		m := map[string]int64{}
		for i, k := range keys {
			m[k] = ns[i]
		}
		out[code] = m
	}
	return out, rows.Err()
}

// PersonRow is a person behind a figure (the caller masks the ID).
type PersonRow struct {
	IDNumber, Name, RegionCode string
}

func collectPersons(rows pgx.Rows) ([]PersonRow, error) {
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PersonRow])
}
