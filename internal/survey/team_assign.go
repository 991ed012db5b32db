package survey

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
)

// assignment runs fn in a transaction after the actor's right to assign in
// region, and audits it there with the detail fn returns; a refusal is
// audited too.
func (s *Store) assignment(ctx context.Context, a actor.Actor, r Round, region string, fn func(pgx.Tx) (string, error)) error {
	e := audit.For(a, AuditAssign, "round:"+strconv.FormatInt(r.ID, 10))
	err := s.assign(ctx, a, r, region, fn, e)
	if err != nil && apperr.KindOf(err) != apperr.Internal {
		return audit.Reject(ctx, s.db, e, err)
	}
	return err
}

func (s *Store) assign(ctx context.Context, a actor.Actor, r Round, region string, fn func(pgx.Tx) (string, error), e audit.Entry) error {
	if err := a.Check(actor.SurveyAssign); err != nil {
		return err
	}
	if err := s.Scope(a, r, region); err != nil {
		return err
	}
	if err := checkManager(ctx, s.db, a); err != nil {
		return err
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	detail, err := fn(tx)
	if err != nil {
		return err
	}
	e.Detail = detail
	if err := audit.Record(ctx, tx, e); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// teamIn checks that team may take households of village: an active team
// of the village's township.
func teamIn(ctx context.Context, tx pgx.Tx, team int64, village string) (string, error) {
	var township, name string
	var active bool
	err := tx.QueryRow(ctx, `SELECT region_code, name, active FROM survey_team WHERE id = $1`, team).Scan(&township, &name, &active)
	if err == pgx.ErrNoRows || (err == nil && (len(village) < 9 || township != village[:9])) {
		return "", apperr.Invalidf("调查组 #%d 不属于该村所在乡镇", team)
	}
	if err != nil {
		return "", err
	}
	if !active {
		return "", apperr.Invalidf("调查组“%s”已停用", name)
	}
	return name, nil
}

// AssignVillage sends every household of a village to one team (team 0:
// takes them back from any team), now and for the households a later
// top-up adds.
func (s *Store) AssignVillage(ctx context.Context, a actor.Actor, r Round, village string, team int64) error {
	return s.assignment(ctx, a, r, village, func(tx pgx.Tx) (string, error) {
		if len(village) != 12 {
			return "", apperr.Invalidf("请选择一个村（居）委会")
		}
		name := "（不分派）"
		if team != 0 {
			var err error
			if name, err = teamIn(ctx, tx, team, village); err != nil {
				return "", err
			}
			const q = `INSERT INTO survey_team_village (round_id, village_code, team_id) VALUES ($1, $2, $3)
				ON CONFLICT (round_id, village_code) DO UPDATE SET team_id = excluded.team_id`
			if _, err := tx.Exec(ctx, q, r.ID, village, team); err != nil {
				return "", fmt.Errorf("assign village: %w", err)
			}
		} else if _, err := tx.Exec(ctx, `DELETE FROM survey_team_village WHERE round_id = $1 AND village_code = $2`, r.ID, village); err != nil {
			return "", fmt.Errorf("assign village: %w", err)
		}
		held, err := holdCounts(ctx, tx, `SELECT id FROM survey_household WHERE round_id = $1 AND region_code = $2`, r.ID, village)
		if err != nil {
			return "", err
		}
		tag, err := tx.Exec(ctx, `UPDATE survey_household SET team_id = nullif($3, 0::bigint) WHERE round_id = $1 AND region_code = $2`, r.ID, village, team)
		if err != nil {
			return "", fmt.Errorf("assign village: %w", err)
		}
		if err := held.release(ctx, tx); err != nil {
			return "", err
		}
		return fmt.Sprintf("整村分派 %s → %s（%d 户）", village, name, tag.RowsAffected()), nil
	})
}

// AssignHouseholds sends some households of a round to a team of their
// township (team 0: to none). Every household must lie inside region and
// the actor's.
func (s *Store) AssignHouseholds(ctx context.Context, a actor.Actor, r Round, region string, ids []int64, team int64) error {
	return s.assignment(ctx, a, r, region, func(tx pgx.Tx) (string, error) {
		if len(ids) == 0 {
			return "", apperr.Invalidf("请勾选要分派的调查户")
		}
		rows, err := tx.Query(ctx, `SELECT DISTINCT region_code FROM survey_household
			WHERE round_id = $1 AND id = ANY($2) AND `+actor.InScope("region_code", "$3"), r.ID, ids, region)
		if err != nil {
			return "", err
		}
		villages, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return "", err
		}
		name := "（不分派）"
		for _, v := range villages {
			if team != 0 {
				if name, err = teamIn(ctx, tx, team, v); err != nil {
					return "", err
				}
			}
		}
		held, err := holdCounts(ctx, tx, `SELECT id FROM survey_household WHERE round_id = $1 AND id = ANY($2)`, r.ID, ids)
		if err != nil {
			return "", err
		}
		tag, err := tx.Exec(ctx, `UPDATE survey_household SET team_id = nullif($4, 0::bigint)
			WHERE round_id = $1 AND id = ANY($2) AND `+actor.InScope("region_code", "$3"), r.ID, ids, region, team)
		if err != nil {
			return "", fmt.Errorf("assign households: %w", err)
		}
		if err := held.release(ctx, tx); err != nil {
			return "", err
		}
		if int(tag.RowsAffected()) != len(slices.Compact(slices.Sorted(slices.Values(ids)))) {
			return "", apperr.NotFoundf("部分调查户不存在或不在本人管辖范围内")
		}
		return fmt.Sprintf("分派 %d 户 → %s", tag.RowsAffected(), name), nil
	})
}

// Rebalance spreads a village's households not yet assigned over teams so
// that the teams' loads in the village (households) end as even as they
// can: the least loaded team takes the next household.
func (s *Store) Rebalance(ctx context.Context, a actor.Actor, r Round, village string, teams []int64) error {
	return s.assignment(ctx, a, r, village, func(tx pgx.Tx) (string, error) {
		teams = slices.Compact(slices.Sorted(slices.Values(teams)))
		if len(teams) == 0 {
			return "", apperr.Invalidf("请选择参与分派的调查组")
		}
		load := make([]int, len(teams))
		for i, t := range teams {
			if _, err := teamIn(ctx, tx, t, village); err != nil {
				return "", err
			}
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM survey_household WHERE round_id = $1 AND region_code = $2 AND team_id = $3`,
				r.ID, village, t).Scan(&load[i]); err != nil {
				return "", err
			}
		}
		held, err := holdCounts(ctx, tx, `SELECT id FROM survey_household WHERE round_id = $1 AND region_code = $2 AND team_id IS NULL`, r.ID, village)
		if err != nil {
			return "", err
		}
		ids := held.ids
		to := make([]int64, len(ids))
		for k := range ids {
			i := 0
			for j := range load {
				if load[j] < load[i] {
					i = j
				}
			}
			to[k] = teams[i]
			load[i]++
		}
		if _, err := tx.Exec(ctx, `UPDATE survey_household h SET team_id = u.team FROM unnest($1::bigint[], $2::bigint[]) AS u(id, team)
			WHERE h.id = u.id`, ids, to); err != nil {
			return "", fmt.Errorf("rebalance: %w", err)
		}
		if err := held.release(ctx, tx); err != nil {
			return "", err
		}
		return fmt.Sprintf("均衡分派 %s 未分派的 %d 户给 %d 个调查组", village, len(ids), len(teams)), nil
	})
}

// Load is a team's work in a round.
type Load struct {
	Team
	Households, Persons, Targets int
	HouseholdsVisited            int // households any of whose members was visited
	PersonsVisited               int
	Villages                     []string // villages assigned whole
}

// Loads returns the load of every team of the townships inside region in
// a round, with a line for the households of region no team has (Team.ID 0).
func (s *Store) Loads(ctx context.Context, a actor.Actor, r Round, region string) ([]Load, error) {
	if err := s.Scope(a, r, region); err != nil {
		return nil, err
	}
	teams, err := s.Teams(ctx, a, region)
	if err != nil {
		return nil, err
	}
	// From the kept counts: every visited form's member is a progress
	// person, so visited persons and households are theirs.
	q := `
		SELECT c.team_id, sum(c.households), sum(c.persons), sum(c.targets), sum(c.hh_visited), sum(c.visited)
		FROM survey_count c
		WHERE c.round_id = $1 AND c.clerk_id = -1 AND c.region_code LIKE $2 || '%' AND ` + inTeamView("c", "$3") + `
		GROUP BY 1 HAVING sum(c.households) > 0`
	rows, err := s.db.Query(ctx, q, r.ID, region, a.UserID)
	if err != nil {
		return nil, fmt.Errorf("team loads: %w", err)
	}
	byTeam := map[int64]Load{}
	for rows.Next() {
		var id int64
		var l Load
		if err := rows.Scan(&id, &l.Households, &l.Persons, &l.Targets, &l.HouseholdsVisited, &l.PersonsVisited); err != nil {
			return nil, err
		}
		byTeam[id] = l
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	vrows, err := s.db.Query(ctx, `SELECT team_id, village_code FROM survey_team_village WHERE round_id = $1 AND village_code LIKE $2 || '%' ORDER BY village_code`, r.ID, region)
	if err != nil {
		return nil, err
	}
	villages := map[int64][]string{}
	for vrows.Next() {
		var t int64
		var v string
		if err := vrows.Scan(&t, &v); err != nil {
			return nil, err
		}
		villages[t] = append(villages[t], v)
	}
	only, err := limited(ctx, s.db, a)
	if err != nil {
		return nil, err
	}
	out := make([]Load, 0, len(teams)+1)
	for _, t := range teams {
		l, ok := byTeam[t.ID]
		if only && !ok {
			continue // a member limited to their teams sees their own teams' loads
		}
		l.Team, l.Villages = t, villages[t.ID]
		out = append(out, l)
	}
	if only {
		return out, vrows.Err()
	}
	none := byTeam[0]
	none.Team = Team{Name: "未分派"}
	return append(out, none), vrows.Err()
}
