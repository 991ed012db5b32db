package survey

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
)

// DemoTeams are the demo township's survey teams, two people each.
var DemoTeams = []TeamForm{
	{Name: "第一调查组", Members: []TeamMember{{Name: "梁志强", Phone: "13902681101"}, {Name: "陈秀英", Phone: "13902681102"}}},
	{Name: "第二调查组", Members: []TeamMember{{Name: "李国华", Phone: "13902681201"}, {Name: "黄丽娟", Phone: "13902681202"}}},
	{Name: "第三调查组", Members: []TeamMember{{Name: "吴建明", Phone: "13902681301"}, {Name: "杨美玲", Phone: "13902681302"}}},
	{Name: "第四调查组", Members: []TeamMember{{Name: "何志军", Phone: "13902681401"}, {Name: "罗小燕", Phone: "0668-6681400"}}},
}

// Demo publishes the demo county's round from its newest finished run and
// gives the demo township its teams: villages assigned whole in turn, the
// busiest village spread over the first two teams, the first village's
// paper archived. A county that has a round already is left alone, so
// `canbao demo` can run again. It returns the round.
func (s *Store) Demo(ctx context.Context, a actor.Actor, county, township string) (int64, error) {
	var round, run int64
	err := s.db.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM survey_round WHERE region_code = $1`, county).Scan(&round)
	if err != nil || round != 0 {
		return round, err
	}
	err = s.db.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM comparison_run WHERE region_code = $1 AND status = 'done'`, county).Scan(&run)
	if err != nil || run == 0 {
		return 0, err
	}
	res, err := s.Publish(ctx, a, PublishRequest{Region: county, RunID: run, Title: "2026 年全民参保入户调查（第一批）"}, nil)
	if err != nil {
		return 0, fmt.Errorf("demo round: %w", err)
	}
	r, err := s.GetRound(ctx, a, res.Round)
	if err != nil {
		return 0, err
	}
	var teams []int64
	for _, f := range DemoTeams {
		f.Township = township
		id, err := s.SaveTeam(ctx, a, 0, f)
		if err != nil {
			existing, terr := s.teamByName(ctx, township, f.Name)
			if terr != nil || existing == 0 {
				return 0, fmt.Errorf("demo team %s: %w", f.Name, err)
			}
			id = existing
		}
		teams = append(teams, id)
	}
	rows, err := s.db.Query(ctx, `SELECT region_code FROM survey_household WHERE round_id = $1 AND region_code LIKE $2 || '%' AND length(region_code) = 12
		GROUP BY 1 ORDER BY count(*) DESC, 1`, r.ID, township)
	if err != nil {
		return 0, err
	}
	villages, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(villages) == 0 {
		return r.ID, err
	}
	if err := s.Rebalance(ctx, a, r, villages[0], teams[:2]); err != nil {
		return 0, err
	}
	for i, v := range villages[1:] {
		if err := s.AssignVillage(ctx, a, r, v, teams[i%len(teams)]); err != nil {
			return 0, err
		}
	}
	return r.ID, s.SetArchive(ctx, a, r, villages[len(villages)-1], 1, "镇社保所档案室")
}

func (s *Store) teamByName(ctx context.Context, township, name string) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM survey_team WHERE region_code = $1 AND name = $2`, township, name).Scan(&id)
	return id, err
}

// DemoMember binds the first member of the demo township's first team to
// the account username with 只看本组任务, so the demo shows a team member's
// view. It does nothing without the team or the account; binding again
// changes nothing.
func (s *Store) DemoMember(ctx context.Context, a actor.Actor, township, username string) error {
	team, err := s.teamByName(ctx, township, DemoTeams[0].Name)
	if err != nil || team == 0 {
		return err
	}
	var user int64
	if err := s.db.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM app_user WHERE username = $1`, username).Scan(&user); err != nil || user == 0 {
		return err
	}
	return s.Bind(ctx, a, team, Binding{Member: DemoTeams[0].Members[0].Name, UserID: user, TeamOnly: true})
}
