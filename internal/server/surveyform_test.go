package server_test

import (
	"context"
	"net/url"
	"strconv"

	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/survey"
)

// surveyFormFixture names the survey rows TestRoutePermissions reaches.
type surveyFormFixture struct {
	code, household, member, form, formID, version, name, newID, inCounty string
}

// validID completes an ID with its check character.
func validID(first17 string) string { return first17 + string(idcard.CheckChar(first17)) }

// surveyFormCase puts a round of the county from run, a household in
// township town with two members, and a submitted form for the first.
func (e *env) surveyFormCase(run int64, town string) surveyFormFixture {
	e.t.Helper()
	ctx := context.Background()
	var round, household int64
	var members [2]int64
	ids := [2]string{validID("44098119800101901"), validID("44098119820202902")}
	if err := e.db.QueryRow(ctx, `INSERT INTO survey_round (region_code, title, run_id, deadline) VALUES ($1, '权限测试批次', $2, '2099-12-31') RETURNING id`,
		fixture.County, run).Scan(&round); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.QueryRow(ctx, `INSERT INTO survey_household (round_id, code, household, region_code, head_name, added_run)
		VALUES ($1, 'ZZACCESS', 'HACC', $2, '权限户主', $3) RETURNING id`, round, town, run).Scan(&household); err != nil {
		e.t.Fatal(err)
	}
	code := survey.TaskCode(household)
	if _, err := e.db.Exec(ctx, `UPDATE survey_household SET code = $2 WHERE id = $1`, household, code); err != nil {
		e.t.Fatal(err)
	}
	for i, name := range []string{"审核标记人", "录入标记人"} {
		if err := e.db.QueryRow(ctx, `INSERT INTO survey_member (household_id, round_id, id_number, name, target, added_run)
			VALUES ($1, $2, $3, $4, true, $5) RETURNING id`, household, round, ids[i], name, run).Scan(&members[i]); err != nil {
			e.t.Fatal(err)
		}
	}
	b, _ := idcard.Birth(ids[0])
	f := survey.Form{Name: "审核标记人", IDNumber: ids[0], Sex: "男", Birth: b.Format("2006-01-02"), Method: "入户", Surveyor: "调查员",
		SurveyedOn: "2026-07-01", Outcome: survey.OutcomePresent, Willing: survey.Willing, Reason: "个人未参保"}
	saved, err := survey.NewForms(e.db).Save(ctx, fixture.Actor, members[0], survey.Save{Data: f, Submit: true, Key: "access"})
	if err != nil {
		e.t.Fatal(err)
	}
	id := strconv.FormatInt(saved.Form.ID, 10)
	return surveyFormFixture{code: code, household: "/survey/entry/households/" + strconv.FormatInt(household, 10),
		member: "/survey/entry/members/" + strconv.FormatInt(members[1], 10), form: "/survey/forms/" + id, formID: id,
		version: strconv.Itoa(saved.Form.Version), name: "审核标记人", newID: validID("44098120100101903"),
		inCounty: url.Values{"round": {strconv.FormatInt(round, 10)}, "region": {fixture.County}}.Encode()}
}
