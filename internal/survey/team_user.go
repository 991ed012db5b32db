package survey

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
)

// Audit actions of a team member's account (migration 000018).
const (
	AuditTeamBind   = "survey.team.bind"
	AuditTeamUnbind = "survey.team.unbind"
	AuditTeamLimit  = "survey.team.limit"
)

// TeamAccount is a team member bound to a user account: the member then
// signs in as that user, and with TeamOnly (只看本组任务) sees only the
// households of their teams.
type TeamAccount struct {
	Member      string `json:"member"` // the member's name in the team
	UserID      int64  `json:"user_id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	TeamOnly    bool   `json:"team_only"`
}

// inTeamView is the SQL predicate "household h is in the team view of the
// user in param": every household for a user no binding limits, else only
// households assigned to an active team the user is bound to. Assigning a
// village whole writes its team on each of its households, top-ups
// included, so "the team's villages" and "households assigned to the team"
// are both that one column. It is the one place the rule is written; every
// survey read of households, members or forms for a clerk ANDs it with
// actor.InScope. The first arm does not depend on h: PostgreSQL evaluates
// it once per query (an InitPlan), so unlimited users pay nothing per row.
func inTeamView(h, param string) string {
	return `(NOT EXISTS (SELECT 1 FROM survey_team_user tu WHERE tu.user_id = ` + param + ` AND tu.team_only)
		OR EXISTS (SELECT 1 FROM survey_team_user tu JOIN survey_team tt ON tt.id = tu.team_id
		           WHERE tu.user_id = ` + param + ` AND tt.active AND tu.team_id = ` + h + `.team_id))`
}

// limitedSQL says whether a user is limited to their teams' households.
const limitedSQL = `SELECT EXISTS (SELECT 1 FROM survey_team_user WHERE user_id = $1 AND team_only)`

// limited reports whether a binding with 只看本组任务 limits the actor.
func limited(ctx context.Context, db querier, a actor.Actor) (bool, error) {
	var on bool
	if a.UserID == 0 {
		return false, nil
	}
	if err := db.QueryRow(ctx, limitedSQL, a.UserID).Scan(&on); err != nil {
		return false, fmt.Errorf("team view of %d: %w", a.UserID, err)
	}
	return on, nil
}

// CheckManager refuses a member limited to their team what manages teams
// and assignments (Forbidden); the pages use it before offering them.
func (s *Store) CheckManager(ctx context.Context, a actor.Actor) error {
	return checkManager(ctx, s.db, a)
}

// Limited reports whether the actor sees only their teams' households; the
// pages hide what such a member may not do (manage teams, assign).
func (s *Store) Limited(ctx context.Context, a actor.Actor) (bool, error) {
	return limited(ctx, s.db, a)
}

// checkManager refuses management (teams, assignment, archive) to a member
// limited to their team: reassigning a village would widen their own view.
func checkManager(ctx context.Context, db querier, a actor.Actor) error {
	on, err := limited(ctx, db, a)
	if err != nil {
		return err
	}
	if on {
		return apperr.Forbiddenf("没有权限：只看本组任务的组员不能管理调查组或分派调查户")
	}
	return nil
}

// accountsSQL is a team's bound accounts as JSON (alias t), for teamCols.
const accountsSQL = `(SELECT coalesce(jsonb_agg(jsonb_build_object('member', b.member, 'user_id', b.user_id, 'username', u.username,
	'display_name', u.display_name, 'team_only', b.team_only) ORDER BY b.member), '[]')
	FROM survey_team_user b JOIN app_user u ON u.id = b.user_id WHERE b.team_id = t.id)`

// Account returns the account bound to the member of that name.
func (t Team) Account(member string) (TeamAccount, bool) {
	for _, x := range t.Accounts {
		if x.Member == member {
			return x, true
		}
	}
	return TeamAccount{}, false
}

// UserOption is a user account a team member may be bound to.
type UserOption struct {
	ID                    int64
	Username, DisplayName string
}

// BindCandidates lists the active accounts of the team's township that may
// type in forms: those its members may be bound to.
func (s *Store) BindCandidates(ctx context.Context, a actor.Actor, teamID int64) ([]UserOption, error) {
	t, err := s.GetTeam(ctx, a, teamID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, username, display_name, role FROM app_user
		WHERE NOT disabled AND `+actor.InScope("region_code", "$1")+` ORDER BY username`, t.RegionCode)
	if err != nil {
		return nil, fmt.Errorf("bind candidates: %w", err)
	}
	defer rows.Close()
	var out []UserOption
	for rows.Next() {
		var u UserOption
		var role string
		if err := rows.Scan(&u.ID, &u.Username, &u.DisplayName, &role); err != nil {
			return nil, err
		}
		if actor.Allowed(actor.Role(role), actor.SurveyEnter) {
			out = append(out, u)
		}
	}
	return out, rows.Err()
}

// Binding is a change of one member's account: UserID 0 unbinds.
type Binding struct {
	Member   string
	UserID   int64
	TeamOnly bool
}

// Bind binds a team member to a user account of the team's township (or
// unbinds them, UserID 0) and switches 只看本组任务, auditing each change:
// a bind, an unbind, a limit switched on or off.
func (s *Store) Bind(ctx context.Context, a actor.Actor, teamID int64, b Binding) error {
	e := audit.For(a, AuditTeamBind, "team:"+strconv.FormatInt(teamID, 10))
	err := s.bind(ctx, a, teamID, b, e)
	if err != nil && apperr.KindOf(err) != apperr.Internal {
		return audit.Reject(ctx, s.db, e, err)
	}
	return err
}

func (s *Store) bind(ctx context.Context, a actor.Actor, teamID int64, b Binding, e audit.Entry) error {
	t, err := s.GetTeam(ctx, a, teamID)
	if err != nil {
		return err
	}
	if err := a.CheckIn(actor.SurveyAssign, t.RegionCode, "区划 "+t.RegionCode); err != nil {
		return err
	}
	if err := checkManager(ctx, s.db, a); err != nil {
		return err
	}
	if !slices.ContainsFunc(t.Members, func(m TeamMember) bool { return m.Name == b.Member }) {
		return apperr.Invalidf("调查组“%s”没有名为“%s”的组员", t.Name, b.Member)
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	// Two clerks binding one team's members take turns, so each audit line
	// says what its own change did.
	var old TeamAccount
	err = tx.QueryRow(ctx, `SELECT coalesce(b.user_id, 0), coalesce(u.username, ''), coalesce(b.team_only, false) FROM survey_team t
		LEFT JOIN survey_team_user b ON b.team_id = t.id AND b.member = $2 LEFT JOIN app_user u ON u.id = b.user_id
		WHERE t.id = $1 FOR UPDATE OF t`, teamID, b.Member).Scan(&old.UserID, &old.Username, &old.TeamOnly)
	if err != nil {
		return fmt.Errorf("bind: team %d: %w", teamID, err)
	}
	had := old.UserID != 0
	var changes []audit.Entry
	switch {
	case b.UserID == 0 && !had:
		return nil // nothing bound, nothing to unbind
	case b.UserID == 0:
		if _, err := tx.Exec(ctx, `DELETE FROM survey_team_user WHERE team_id = $1 AND member = $2`, teamID, b.Member); err != nil {
			return fmt.Errorf("unbind: %w", err)
		}
		changes = append(changes, change(e, AuditTeamUnbind, fmt.Sprintf("%s %s：组员 %s 解除绑定账号 %s", t.RegionCode, t.Name, b.Member, old.Username)))
	default:
		username, err := bindable(ctx, tx, t, b.UserID)
		if err != nil {
			return err
		}
		const q = `INSERT INTO survey_team_user (team_id, member, user_id, team_only, bound_by) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (team_id, member) DO UPDATE SET user_id = excluded.user_id, team_only = excluded.team_only,
			bound_by = excluded.bound_by, bound_at = CASE WHEN survey_team_user.user_id = excluded.user_id THEN survey_team_user.bound_at ELSE now() END`
		if _, err := tx.Exec(ctx, q, teamID, b.Member, b.UserID, b.TeamOnly, e.UserID); err != nil {
			if isUnique(err) {
				return apperr.Conflictf("账号 %s 已绑定本组另一位组员", username)
			}
			return fmt.Errorf("bind: %w", err)
		}
		if !had || old.UserID != b.UserID {
			was := ""
			if had {
				was = "（原账号 " + old.Username + "）"
			}
			changes = append(changes, change(e, AuditTeamBind, fmt.Sprintf("%s %s：组员 %s 绑定账号 %s%s，只看本组任务 %s",
				t.RegionCode, t.Name, b.Member, username, was, onOff(b.TeamOnly))))
		} else if old.TeamOnly != b.TeamOnly {
			changes = append(changes, change(e, AuditTeamLimit, fmt.Sprintf("%s %s：组员 %s（账号 %s）只看本组任务 %s",
				t.RegionCode, t.Name, b.Member, username, onOff(b.TeamOnly))))
		}
	}
	for _, c := range changes {
		if err := audit.Record(ctx, tx, c); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// bindable checks that user id may be bound to a member of team t: an
// active account of t's township that may type in forms. It returns the
// username.
func bindable(ctx context.Context, tx pgx.Tx, t Team, id int64) (string, error) {
	var username, role, region string
	var disabled bool
	err := tx.QueryRow(ctx, `SELECT username, role, region_code, disabled FROM app_user WHERE id = $1`, id).Scan(&username, &role, &region, &disabled)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !actor.Within(t.RegionCode, region)) {
		return "", apperr.NotFoundf("账号 #%d 不存在或不属于%s", id, t.RegionName)
	}
	if err != nil {
		return "", fmt.Errorf("bind user %d: %w", id, err)
	}
	if disabled {
		return "", apperr.Invalidf("账号 %s 已停用", username)
	}
	if !actor.Allowed(actor.Role(role), actor.SurveyEnter) {
		return "", apperr.Invalidf("账号 %s 的角色（%s）不能录入调查表", username, actor.Role(role).Label())
	}
	return username, nil
}

// unbindRemoved drops the bindings of members no longer in a team's
// members after a save, auditing each in the save's transaction.
func unbindRemoved(ctx context.Context, tx pgx.Tx, e audit.Entry, teamID int64, f TeamForm) error {
	names := make([]string, len(f.Members))
	for i, m := range f.Members {
		names[i] = m.Name
	}
	rows, err := tx.Query(ctx, `DELETE FROM survey_team_user b USING app_user u
		WHERE b.team_id = $1 AND NOT (b.member = ANY($2)) AND u.id = b.user_id RETURNING b.member, u.username`, teamID, names)
	if err != nil {
		return fmt.Errorf("unbind removed members: %w", err)
	}
	gone, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Member, Username string }])
	if err != nil {
		return fmt.Errorf("unbind removed members: %w", err)
	}
	for _, g := range gone {
		c := change(e, AuditTeamUnbind, fmt.Sprintf("%s %s：组员 %s 已移出本组，解除绑定账号 %s", f.Township, f.Name, g.Member, g.Username))
		if err := audit.Record(ctx, tx, c); err != nil {
			return err
		}
	}
	return nil
}

// change is entry e as a successful action with detail.
func change(e audit.Entry, action, detail string) audit.Entry {
	e.Action, e.Result, e.Detail = action, "ok", detail
	return e
}

func onOff(on bool) string {
	if on {
		return "开"
	}
	return "关"
}

// inView checks that household id, read as lying in region, is in the
// actor's view: inside their region and in their team view. What is not is
// reported as not found (what), as outside the region.
func inView(ctx context.Context, db querier, a actor.Actor, region string, household int64, what string) error {
	return viewCheck(ctx, db, a, region, `SELECT EXISTS (SELECT 1 FROM survey_household h WHERE h.id = $1 AND `+inTeamView("h", "$2")+`)`,
		household, what)
}

func viewCheck(ctx context.Context, db querier, a actor.Actor, region, q string, id int64, what string) error {
	if !a.Sees(region) {
		return apperr.NotFoundf("%s", what)
	}
	if a.UserID == 0 {
		return nil // the command line is bound to no team
	}
	var ok bool
	if err := db.QueryRow(ctx, q, id, a.UserID).Scan(&ok); err != nil {
		return fmt.Errorf("team view of %d: %w", id, err)
	}
	if !ok {
		return apperr.NotFoundf("%s", what)
	}
	return nil
}
