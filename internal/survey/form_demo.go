package survey

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/idcard"
)

// DemoForms fills the newest round of county with forms in township, so
// every entry, review and progress page has something real to show: some
// households entered as drafts, some submitted, some returned, some
// approved (with a death, a move and a person found at the door). The
// demo's township clerk enters and its county reviewer reviews. It does
// nothing when the round has forms already.
func (s *Forms) DemoForms(ctx context.Context, county, township string) error {
	var round, forms int64
	if err := s.db.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM survey_round WHERE region_code = $1`, county).Scan(&round); err != nil || round == 0 {
		return err
	}
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM survey_form WHERE round_id = $1`, round).Scan(&forms); err != nil || forms > 0 {
		return err
	}
	clerk := s.demoActor(ctx, "township", actor.Township, township)
	reviewer := s.demoActor(ctx, "county", actor.County, county)
	rows, err := s.db.Query(ctx, `SELECT id FROM survey_household WHERE round_id = $1 AND `+actor.InScope("region_code", "$2")+`
		AND targets > 0 ORDER BY region_code, id LIMIT 40`, round, township)
	if err != nil {
		return err
	}
	var households []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		households = append(households, id)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	day := s.Today().AddDate(0, 0, -20)
	for i, hid := range households {
		h, err := s.Household(ctx, clerk, hid)
		if err != nil {
			return err
		}
		stage := demoStages[i%len(demoStages)]
		if i == 3 { // someone found at the door, on no list
			if _, err := s.AddFound(ctx, clerk, hid, "王小燕", demoFoundID(hid), "孙女"); err == nil {
				if h, err = s.Household(ctx, clerk, hid); err != nil {
					return err
				}
			}
		}
		for k, m := range h.Members {
			if !m.Target {
				continue
			}
			if err := s.demoForm(ctx, clerk, reviewer, m, stage, day.AddDate(0, 0, i%15), i*10+k); err != nil {
				return fmt.Errorf("demo form of household %s: %w", h.Code, err)
			}
		}
	}
	return nil
}

// demoStages are how far each demo household got, in turn.
var demoStages = []Step{StepApprove, StepSubmit, StepSave, StepApprove, StepReturn, StepSubmit, StepApprove, StepSave}

// demoFoundID is a valid ID for the found person of a household.
func demoFoundID(household int64) string {
	first17 := fmt.Sprintf("440981201503%02d%03d", household%28+1, household%500*2)
	return first17 + string(idcard.CheckChar(first17))
}

// demoActor is the demo account of username acting in region; without the
// account, an actor of that name only.
func (s *Forms) demoActor(ctx context.Context, username string, role actor.Role, region string) actor.Actor {
	a := actor.Actor{Username: username, Role: role, Region: region, IP: "local"}
	if err := s.db.QueryRow(ctx, `SELECT id FROM app_user WHERE username = $1`, username).Scan(&a.UserID); err != nil {
		a.UserID = 0
	}
	return a
}

// demoForm takes one member's form to stage.
func (s *Forms) demoForm(ctx context.Context, clerk, reviewer actor.Actor, m EntryMember, stage Step, day time.Time, n int) error {
	e, err := s.Entry(ctx, clerk, m.ID)
	if err != nil {
		return err
	}
	f := e.Prefill
	if b := idcardBirth(f.IDNumber); b != "" {
		f.Birth = b
	}
	if male, ok := idcardSex(f.IDNumber); ok {
		f.Sex = map[bool]string{true: "男", false: "女"}[male]
	}
	f.Method, f.Surveyor, f.SurveyedOn = "入户", "镇江村调查一组", day.Format("2006-01-02")
	f.Phone = fmt.Sprintf("138%08d", 10000000+n)
	f.HukouType, f.Employment = "农村", Employments[n%len(Employments)]
	f.Willing, f.Reason = Willings[n%2], Reasons[n%3]
	switch {
	case n%17 == 5:
		f.Outcome, f.OutcomeDate, f.Willing, f.Reason = OutcomeMoved, day.AddDate(0, -2, 0).Format("2006-01-02"), "", ""
	case n%23 == 7:
		f.Outcome, f.OutcomeDate, f.Willing, f.Reason = OutcomeDied, day.AddDate(0, -1, 0).Format("2006-01-02"), "", ""
	}
	saved, err := s.Save(ctx, clerk, m.ID, Save{Data: f, Submit: stage != StepSave, Key: fmt.Sprintf("demo-%d", m.ID)})
	var ve *ValidationError
	if errors.As(err, &ve) {
		return nil // a member whose data the demo cannot complete stays pending
	}
	if err != nil || stage == StepSave || stage == StepSubmit {
		return err
	}
	if stage == StepReturn {
		_, err = s.Return(ctx, reviewer, saved.Form.ID, saved.Form.Version, "联系电话无法接通，请核实后重新提交")
		return err
	}
	_, err = s.Approve(ctx, reviewer, saved.Form.ID, saved.Form.Version)
	return err
}
