package survey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
)

// Team is a township's survey team (调查组).
type Team struct {
	ID         int64
	RegionCode string // the township
	RegionName string
	Name       string
	Members    []TeamMember
	Active     bool
	Accounts   []TeamAccount // members bound to user accounts, by member
}

// TeamMember is a person of a team and how to reach them.
type TeamMember struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

// MaxTeamMembers bounds a team (a team is usually two).
const MaxTeamMembers = 10

var phoneRE = regexp.MustCompile(`^[0-9][0-9-]{5,19}$`)

// TeamForm is a team as typed in, before it is checked.
type TeamForm struct {
	Township string
	Name     string
	Members  []TeamMember
	Active   bool
}

// check trims the form and returns a Chinese message for what is wrong.
func (f *TeamForm) check() error {
	f.Name = strings.TrimSpace(f.Name)
	if f.Name == "" {
		return apperr.Invalidf("请填写调查组名称")
	}
	if len([]rune(f.Name)) > 50 {
		return apperr.Invalidf("调查组名称不能超过 50 个字")
	}
	if len(f.Township) != 9 {
		return apperr.Invalidf("调查组属于一个乡镇（街道），请选择乡镇")
	}
	var kept []TeamMember
	seen := map[string]bool{}
	for i, m := range f.Members {
		m.Name, m.Phone = strings.TrimSpace(m.Name), strings.ReplaceAll(strings.TrimSpace(m.Phone), " ", "")
		if m.Name == "" && m.Phone == "" {
			continue
		}
		if m.Name == "" || len([]rune(m.Name)) > 50 {
			return apperr.Invalidf("第 %d 位组员：请填写姓名（不超过 50 个字）", i+1)
		}
		if !phoneRE.MatchString(m.Phone) {
			return apperr.Invalidf("第 %d 位组员 %s：联系电话应为 6–20 位数字（可含 -）", i+1, m.Name)
		}
		if seen[m.Name] { // a bound account belongs to a member by name
			return apperr.Invalidf("第 %d 位组员 %s：本组已有同名组员，请加以区分（如 %s（大））", i+1, m.Name, m.Name)
		}
		seen[m.Name] = true
		kept = append(kept, m)
	}
	if len(kept) == 0 {
		return apperr.Invalidf("请至少填写一位组员")
	}
	if len(kept) > MaxTeamMembers {
		return apperr.Invalidf("一个调查组最多 %d 人", MaxTeamMembers)
	}
	f.Members = kept
	return nil
}

const teamCols = `t.id, t.region_code, coalesce(g.name, ''), t.name, t.members, t.active, ` + accountsSQL

func scanTeam(row pgx.CollectableRow) (Team, error) {
	var t Team
	var members, accounts []byte
	if err := row.Scan(&t.ID, &t.RegionCode, &t.RegionName, &t.Name, &members, &t.Active, &accounts); err != nil {
		return t, err
	}
	if err := json.Unmarshal(accounts, &t.Accounts); err != nil {
		return t, err
	}
	return t, json.Unmarshal(members, &t.Members)
}

// isUnique reports whether err is a unique violation.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// Teams lists the teams of the townships inside region (inside the
// actor's), by township and name.
func (s *Store) Teams(ctx context.Context, a actor.Actor, region string) ([]Team, error) {
	if err := a.CheckIn(surveyRead, region, "区划 "+region); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+teamCols+` FROM survey_team t LEFT JOIN region g ON g.code = t.region_code
		WHERE `+actor.InScope("t.region_code", "$1")+` ORDER BY t.region_code, NOT t.active, t.name`, region)
	if err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	return pgx.CollectRows(rows, scanTeam)
}

// GetTeam returns a team inside the actor's region.
func (s *Store) GetTeam(ctx context.Context, a actor.Actor, id int64) (Team, error) {
	if err := a.Check(surveyRead); err != nil {
		return Team{}, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+teamCols+` FROM survey_team t LEFT JOIN region g ON g.code = t.region_code WHERE t.id = $1`, id)
	if err != nil {
		return Team{}, fmt.Errorf("team %d: %w", id, err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanTeam)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !a.Sees(t.RegionCode)) {
		return Team{}, apperr.NotFoundf("调查组 #%d 不存在", id)
	}
	return t, err
}

// SaveTeam creates a team (id 0) or changes one, and audits it.
func (s *Store) SaveTeam(ctx context.Context, a actor.Actor, id int64, f TeamForm) (int64, error) {
	e := audit.For(a, AuditTeam, "team:"+strconv.FormatInt(id, 10))
	id, err := s.saveTeam(ctx, a, id, f, &e)
	if err != nil && apperr.KindOf(err) != apperr.Internal {
		return id, audit.Reject(ctx, s.db, e, err)
	}
	return id, err
}

func (s *Store) saveTeam(ctx context.Context, a actor.Actor, id int64, f TeamForm, e *audit.Entry) (int64, error) {
	if id != 0 {
		t, err := s.GetTeam(ctx, a, id)
		if err != nil {
			return id, err
		}
		f.Township = t.RegionCode
	}
	if err := a.CheckIn(actor.SurveyAssign, f.Township, "区划 "+f.Township); err != nil {
		return id, err
	}
	if err := checkManager(ctx, s.db, a); err != nil {
		return id, err
	}
	if err := f.check(); err != nil {
		return id, err
	}
	members, _ := json.Marshal(f.Members) // plain strings always encode
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return id, err
	}
	defer tx.Rollback(ctx)
	if id == 0 {
		const q = `INSERT INTO survey_team (region_code, name, members, created_by) SELECT $1, $2, $3, $4
			WHERE EXISTS (SELECT 1 FROM region WHERE code = $1) RETURNING id`
		err = tx.QueryRow(ctx, q, f.Township, f.Name, members, e.UserID).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, apperr.NotFoundf("区划 %s 不存在", f.Township)
		}
	} else {
		_, err = tx.Exec(ctx, `UPDATE survey_team SET name = $2, members = $3, active = $4 WHERE id = $1`, id, f.Name, members, f.Active)
	}
	if isUnique(err) {
		return id, apperr.Conflictf("本乡镇已有名为“%s”的调查组", f.Name)
	}
	if err != nil {
		return id, fmt.Errorf("save team: %w", err)
	}
	e.Object = "team:" + strconv.FormatInt(id, 10)
	if err := unbindRemoved(ctx, tx, *e, id, f); err != nil {
		return id, err
	}
	e.Detail = fmt.Sprintf("%s %s，%d 人，启用 %v", f.Township, f.Name, len(f.Members), f.Active || id == 0)
	if err := audit.Record(ctx, tx, *e); err != nil {
		return id, err
	}
	return id, tx.Commit(ctx)
}
