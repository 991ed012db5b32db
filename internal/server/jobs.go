package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/dynamic"
	"github.com/canbao/canbao/internal/indicator"
	"github.com/canbao/canbao/internal/job"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/report"
	"github.com/canbao/canbao/web"
)

func (s *Server) routesJobs(r chi.Router) {
	read := r.With(s.allow(actor.JobRead))
	read.Get("/jobs", s.handleJobs)
	read.Get("/jobs/{id:[0-9]+}", s.handleJob)
	read.Get("/jobs/{id:[0-9]+}/status", s.handleJobStatus)
	read.Post("/jobs/{id:[0-9]+}/cancel", s.handleJobCancel)
}

func jobURL(id int64) string { return "/jobs/" + strconv.FormatInt(id, 10) }

// jobOf loads the job named in the URL; a job outside the viewer's region
// does not exist for them.
func (s *Server) jobOf(r *http.Request) (job.Job, error) {
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	return s.jobs.Store().Find(r.Context(), currentActor(r), id)
}

// jobKind is how the pages speak of each kind of job.
var jobKinds = map[string]struct {
	title, nav, failed, back, backLabel string
	result                              func(id int64) string
	resultName                          string
}{
	job.KindImport: {"数据导入", "imports", "导入失败，未写入任何数据", "/imports/new", "重新导入",
		func(id int64) string { return "/imports/" + strconv.FormatInt(id, 10) }, "导入批次"},
	job.KindCompare: {"数据比对", "compare", "比对失败，未保存任何结果", "/compare", "返回数据比对",
		func(id int64) string { return runURL(id, "") }, "比对批次"},
	indicator.JobKind: {"统计快照", "dashboard", "统计失败，未保存任何结果", "/dashboard", "返回领导驾驶舱",
		func(int64) string { return "/dashboard" }, "领导驾驶舱"},
	report.JobKind: {"报表数据准备", "reports", "准备失败，未写入任何数据", "/reports", "返回统计报表",
		func(int64) string { return "/reports" }, "统计报表"},
	job.KindSurvey: {"入户调查发布", "survey", "发布失败，未写入任何数据", "/survey", "返回入户调查",
		func(id int64) string { return roundURL(id, "", nil) }, "调查批次"},
	dynamic.JobKind: {"重新生成变动事件", "imports", "生成失败，登记库未改变", "/imports", "返回数据导入",
		func(id int64) string { return "/imports/" + strconv.FormatInt(id, 10) }, "导入批次"},
}

// jobStatus is the JSON the progress script polls; the page shows the
// same fields.
type jobStatus struct {
	State   job.State `json:"state"`
	Label   string    `json:"label"`
	Active  bool      `json:"active"`
	Percent int       `json:"percent"` // -1 when the total is unknown
	Count   string    `json:"count"`
	Message string    `json:"message"`
	Elapsed string    `json:"elapsed"`
	Error   string    `json:"error,omitempty"`
	Result  string    `json:"result,omitempty"`  // the page to open once done
	Confirm bool      `json:"confirm,omitempty"` // an import stopped to ask before replacing a larger extract
}

func statusOf(j job.Job, now time.Time) jobStatus {
	st := jobStatus{State: j.State, Label: j.State.Label(), Active: !j.State.Final(), Percent: -1,
		Message: j.Status.Message, Elapsed: elapsed(j.Elapsed(now)), Error: j.Error}
	p := j.Status
	switch {
	case j.State == job.Succeeded:
		st.Percent = 100
	case p.Total > 0:
		st.Percent = int(min(99, 100*p.Done/p.Total))
	}
	if p.Unit != "" {
		st.Count = fmt.Sprintf("已处理 %d %s", p.Done, p.Unit)
		if p.Total > 0 && j.State != job.Succeeded {
			st.Count += fmt.Sprintf("（共约 %d %s）", p.Total, p.Unit)
		}
		if sec := j.Elapsed(now).Seconds(); sec >= 1 {
			st.Count += fmt.Sprintf("，%.0f %s/秒", float64(p.Done)/sec, p.Unit)
		}
	}
	if k, ok := jobKinds[j.Kind]; ok && j.State == job.Succeeded && j.ResultID != 0 {
		st.Result = k.result(j.ResultID)
	}
	return st
}

func elapsed(d time.Duration) string {
	sec := int(d.Seconds())
	if sec < 60 {
		return fmt.Sprintf("%d 秒", sec)
	}
	return fmt.Sprintf("%d 分 %d 秒", sec/60, sec%60)
}

// handleJobs lists the jobs in the viewer's region, the CLI's among them.
func (s *Server) handleJobs(w http.ResponseWriter, r *http.Request) {
	jobs, err := s.jobs.Store().List(r.Context(), currentActor(r), list.Parse(r.URL.Query(), list.Spec{}))
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.JobsView{Page: s.page(r, "任务", "jobs"), Pager: web.PagerOf(jobs.Query, jobs.Total, "/jobs")}
	now := time.Now()
	for _, j := range jobs.Items {
		st, k := statusOf(j, now), jobKinds[j.Kind]
		row := web.JobRow{ID: j.ID, Kind: k.title, Title: j.Title, By: j.UserName, State: st.Label,
			At: j.CreatedAt.In(cst).Format("2006-01-02 15:04"), Elapsed: st.Elapsed, Error: st.Error}
		if st.Result != "" {
			row.Link, row.LinkLabel = st.Result, k.resultName+" #"+strconv.FormatInt(j.ResultID, 10)
		}
		v.Jobs = append(v.Jobs, row)
	}
	s.render(w, r, web.Jobs(v))
}

// handleJob shows a job's progress page, or its result once it succeeded.
func (s *Server) handleJob(w http.ResponseWriter, r *http.Request) {
	j, err := s.jobOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	st := statusOf(j, time.Now())
	if st.Result != "" {
		http.Redirect(w, r, st.Result, http.StatusSeeOther)
		return
	}
	k := jobKinds[j.Kind]
	v := web.JobView{Page: s.page(r, k.title+"任务 #"+strconv.FormatInt(j.ID, 10), k.nav), ID: j.ID, Kind: k.title, Title: j.Title,
		By: j.UserName, State: string(st.State), Label: st.Label, Active: st.Active, Percent: st.Percent, Count: st.Count,
		Message: st.Message, Elapsed: st.Elapsed, Error: st.Error, Failed: k.failed, Back: k.back, BackLabel: k.backLabel,
		CanCancel: st.Active && job.CanCancel(currentActor(r), j), Confirm: s.confirmURL(r, j)}
	s.render(w, r, web.JobProgress(v))
}

func (s *Server) handleJobStatus(w http.ResponseWriter, r *http.Request) {
	j, err := s.jobOf(r)
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		if apperr.KindOf(err) == apperr.Internal {
			s.error(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"not found"}`)) // the status is sent; a client gone away is not an error here
		return
	}
	st := statusOf(j, time.Now())
	st.Confirm = s.confirmURL(r, j) != ""
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(st) // a status always encodes; only a client gone away fails
}

func (s *Server) handleJobCancel(w http.ResponseWriter, r *http.Request) {
	j, err := s.jobOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if _, err := s.jobs.Cancel(r.Context(), currentActor(r), j.ID); err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, jobURL(j.ID))
}
