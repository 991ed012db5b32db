package survey_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/sheet"
	"github.com/canbao/canbao/internal/survey"
)

var allMetrics = []string{survey.ProgressHouseholds, survey.ProgressHouseholdsVisited, survey.ProgressHouseholdsConfirmed,
	survey.ProgressPersons, survey.ProgressVisited, survey.ProgressConfirmed, survey.ProgressReturned, survey.ProgressOverdue}

// checkLists: every number of the progress page is the length of its list.
func checkLists(t *testing.T, w *world, a actor.Actor, p survey.Progress) {
	t.Helper()
	ctx := context.Background()
	rows := append([]survey.ProgressRow{p.Total}, p.Children...)
	rows = append(rows, p.Teams...)
	rows = append(rows, p.Clerks...)
	for _, r := range rows {
		for _, m := range allMetrics {
			code := p.Region
			if r.Group.Kind == "region" {
				code = r.Group.Key
			}
			page, err := w.forms.ProgressList(ctx, a, p.Round.ID, code, r.Group, m, list.Parse(nil, survey.ProgressListSpec))
			if err != nil {
				t.Fatalf("%v %s: %v", r.Group, m, err)
			}
			if page.Total != r.Number(m) || len(page.Items) != page.Total {
				t.Errorf("%s (%v) %s: number %d, list %d (%d items)", r.Label, r.Group, m, r.Number(m), page.Total, len(page.Items))
			}
		}
	}
}

func TestProgress(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	sub, err := w.forms.Save(ctx, w.clerk, w.members[1], survey.Save{Data: complete("李芳", w.ids[1]), Submit: true, Key: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.forms.Approve(ctx, w.reviewer, sub.Form.ID, sub.Form.Version); err != nil {
		t.Fatal(err)
	}
	sub, err = w.forms.Save(ctx, w.clerk, w.members[2], survey.Save{Data: complete("王小明", w.ids[2]), Submit: true, Key: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.forms.Return(ctx, w.reviewer, sub.Form.ID, sub.Form.Version, "请补充就业状态"); err != nil {
		t.Fatal(err)
	}
	leader := actor.Actor{Username: "leader", Role: actor.Leader, Region: "440981", IP: "test"}
	p, err := w.forms.Progress(ctx, leader, w.round, "")
	if err != nil {
		t.Fatal(err)
	}
	want := survey.ProgressRow{Households: 1, HouseholdsVisited: 1, HouseholdsDone: 0, Persons: 2, Visited: 2, Confirmed: 1, Returned: 1}
	got := p.Total
	got.Group, got.Label = survey.Group{}, ""
	if got != want {
		t.Errorf("county totals %+v, want %+v", got, want)
	}
	if len(p.Children) != 1 || p.Children[0].Group.Key != "440981107" || p.Children[0].Label != "镇江镇" || len(p.Clerks) != 0 {
		t.Errorf("children %+v clerks %+v", p.Children, p.Clerks)
	}
	checkLists(t, w, leader, p)

	// A member found at the door: one more person, the household still visited, not done.
	if _, err := w.forms.AddFound(ctx, w.clerk, w.household, "王小红", validID("44098120100404104"), "女"); err != nil {
		t.Fatal(err)
	}
	w.forms.Today = func() time.Time { return time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC) } // past the deadline
	p, err = w.forms.Progress(ctx, w.clerk, w.round, "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Region != "440981107" || p.Total.Persons != 3 || p.Total.HouseholdsVisited != 1 || p.Total.HouseholdsDone != 0 || p.Total.Overdue != 2 {
		t.Errorf("township clerk reads %s: %+v", p.Region, p.Total)
	}
	if len(p.Clerks) != 1 || p.Clerks[0].Label != "命令行" || p.Clerks[0].Visited != 2 || len(p.Teams) != 1 || p.Teams[0].Label != "未分组" {
		t.Errorf("township clerks %+v teams %+v", p.Clerks, p.Teams)
	}
	checkLists(t, w, w.clerk, p)
	if _, err := w.forms.Progress(ctx, w.clerk, w.round, "440981"); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("a township clerk read the county: %v", err)
	}
	v, err := w.forms.Progress(ctx, w.clerk, w.round, village)
	if err != nil || v.Total.Persons != 3 || len(v.Children) != 0 {
		t.Errorf("village: %+v, %v", v.Total, err)
	}

	// The willing list: the approved form said 愿意参保; no run since.
	page, err := w.forms.Willing(ctx, leader, w.round, "", list.Parse(nil, survey.WillingSpec))
	if err != nil || page.Total != 1 || page.Items[0].Name != "李芳" || page.Items[0].FollowUp != survey.FollowWaiting {
		t.Fatalf("willing list %+v, %v", page, err)
	}
	// Exports need the right to download personal data.
	path := filepath.Join(t.TempDir(), "a.xlsx")
	sw, err := sheet.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.forms.ExportApproved(ctx, leader, w.round, "", sw); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("a leader exported forms: %v", err)
	}
	n, err := w.forms.ExportApproved(ctx, w.reviewer, w.round, "", sw)
	if err != nil || n != 1 {
		t.Errorf("approved export: %d rows, %v", n, err)
	}
	if n, err := w.forms.ExportWilling(ctx, w.reviewer, w.round, "", sw); err != nil || n != 1 {
		t.Errorf("willing export: %d rows, %v", n, err)
	}
	if n, err := w.forms.ExportReasons(ctx, w.reviewer, w.round, "", sw); err != nil || n != 1 {
		t.Errorf("reasons export: %d rows, %v", n, err)
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() < 1000 {
		t.Errorf("export file: %v", err)
	}
}
