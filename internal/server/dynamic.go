package server

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/dynamic"
	"github.com/canbao/canbao/internal/job"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/registry"
	"github.com/canbao/canbao/internal/source"
	"github.com/canbao/canbao/web"
)

// routesDynamic: changes between extracts, changes registered by hand and
// their review (动态管理).
func (s *Server) routesDynamic(r chi.Router) {
	r.With(s.allow(actor.ImportRead)).Get("/events", s.handleEvents)
	r.With(s.allow(actor.RegistryChange)).Post("/events/{id:[0-9]+}/confirm", s.handleEventDecide(true))
	r.With(s.allow(actor.RegistryChange)).Post("/events/{id:[0-9]+}/reject", s.handleEventDecide(false))
	r.With(s.allow(actor.RegistryChange)).Get("/persons/{id}/change", s.handleChangeForm)
	r.With(s.allow(actor.RegistryChange)).Post("/persons/{id}/change", s.handleChangeCreate)
	r.With(s.allow(actor.PersonRead)).Get("/changes", s.handleChanges)
	r.With(s.allow(actor.PersonRead)).Get("/changes/{id:[0-9]+}", s.handleChange)
	r.With(s.allow(actor.PersonRead)).Get("/changes/{id:[0-9]+}/document", s.handleChangeDocument)
	r.With(s.allow(actor.RegistryApprove)).Post("/changes/{id:[0-9]+}/review", s.handleChangeReview)
	r.With(s.allow(actor.Import)).Post("/imports/{id:[0-9]+}/derive", s.handleImportDerive)
}

// handleImportDerive starts 重新生成变动事件 for a batch whose derivation
// failed after its import committed. A batch with nothing to derive is
// refused at once through the same Rederive, which audits the refusal.
func (s *Server) handleImportDerive(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), currentActor(r)
	b, err := s.batchOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	store := s.dynamicStore()
	pending, err := store.Pending(ctx, b.ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if !pending {
		_, err := store.Rederive(ctx, a, b.ID, &job.Progress{})
		if err == nil { // it became pending meanwhile and is derived now
			redirect(w, r, fmt.Sprintf("/imports/%d", b.ID))
			return
		}
		s.error(w, r, err)
		return
	}
	id, err := s.jobs.Submit(ctx, store.RederiveJob(a, b.ID, b.RegionCode, b.FileName))
	if err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, jobURL(id))
}

func (s *Server) dynamicStore() *dynamic.Store { return dynamic.New(s.db) }

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := currentActor(r)
	me, _ := currentUser(r)
	lq := list.Parse(r.URL.Query(), dynamic.EventSpec)
	page, err := s.dynamicStore().Events(ctx, a, lq)
	if err != nil {
		s.error(w, r, err)
		return
	}
	counts, err := s.dynamicStore().Counts(ctx, a)
	if err != nil {
		s.error(w, r, err)
		return
	}
	regions, err := s.regionChoices(ctx, me.RegionCode, me.RegionName)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.EventsView{Page: s.page(r, "数据变化（动态管理）", "events"), Region: lq.Filter("region"), Kind: lq.Filter("kind"),
		State: lq.Filter("state"), Source: lq.Filter("source"), Batch: lq.Filter("batch"), From: lq.Filter("from"), To: lq.Filter("to"), Regions: regions,
		Pending: counts[dynamic.Pending], Pager: web.PagerOf(page.Query, page.Total, "/events"), CanDecide: a.May(actor.RegistryChange),
		Back: "/events?" + r.URL.Query().Encode()}
	for _, k := range dynamic.Kinds {
		v.Kinds = append(v.Kinds, web.Option{Value: string(k), Label: k.FilterLabel()})
	}
	for _, k := range source.Kinds() {
		v.Sources = append(v.Sources, web.Option{Value: string(k), Label: string(k)})
	}
	for _, st := range dynamic.States {
		v.States = append(v.States, web.Option{Value: string(st), Label: st.Label()})
	}
	for _, e := range page.Items {
		v.Rows = append(v.Rows, s.eventRow(r, a, e))
	}
	s.render(w, r, web.Events(v))
}

func (s *Server) eventRow(r *http.Request, a actor.Actor, e dynamic.Event) web.EventRow {
	row := web.EventRow{ID: e.ID, Kind: e.Label(), Name: e.Name, MaskedID: maskID(e.IDNumber), Region: e.Region,
		Effective: e.Effective.Format("2006-01-02"), Scheme: e.Scheme, Old: e.Old, New: e.New, HoldReason: e.HoldReason,
		State: e.State.Label(), StateKey: string(e.State), Pending: e.State == dynamic.Pending,
		BatchLabel: fmt.Sprintf("%s #%d %s", e.BatchKind, e.Batch, e.FileName)}
	if e.RegionName != "" {
		row.Region = e.RegionName
	}
	if e.PersonRegistered {
		row.PersonLink = s.personLink(r, e.IDNumber)
	}
	if a.May(actor.Import) {
		row.BatchLink = "/imports/" + strconv.FormatInt(e.Batch, 10)
	}
	if e.DecidedAt != nil {
		row.Decided = e.DecidedName + " " + e.DecidedAt.In(cst).Format("2006-01-02 15:04")
	}
	return row
}

// handleEventDecide confirms or rejects a pending event and returns to
// the list the clerk came from.
func (s *Server) handleEventDecide(confirm bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
		st := s.dynamicStore()
		var err error
		msg := fmt.Sprintf("变化 #%d 已确认并写入登记库", id)
		if confirm {
			err = st.Confirm(r.Context(), currentActor(r), id)
		} else {
			err = st.Reject(r.Context(), currentActor(r), id)
			msg = fmt.Sprintf("变化 #%d 已驳回，登记库未改动", id)
		}
		if err != nil {
			s.error(w, r, err)
			return
		}
		redirect(w, r, withFlash(localPath(r.PostFormValue("back"), "/events"), msg))
	}
}

// localPath is back when it is a path of this site, else def.
func localPath(back, def string) string {
	u, err := url.Parse(back)
	if back == "" || err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return def
	}
	return back
}

// withFlash adds a flash message to a local URL.
func withFlash(to, msg string) string {
	u, _ := url.Parse(to)
	q := u.Query()
	q.Set("flash", msg)
	u.RawQuery = q.Encode()
	return u.String()
}

func (s *Server) handleChangeForm(w http.ResponseWriter, r *http.Request) {
	s.renderChangeForm(w, r, web.ChangeFormView{Effective: source.Day(time.Now()).Format("2006-01-02")})
}

func (s *Server) renderChangeForm(w http.ResponseWriter, r *http.Request, v web.ChangeFormView) {
	key := chi.URLParam(r, "id")
	id, err := s.personID(key)
	if err != nil {
		s.error(w, r, err)
		return
	}
	p, err := s.registry.Entry(r.Context(), currentActor(r).Region, id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v.Page = s.page(r, "变更登记 · "+p.Name, "events")
	v.Action, v.Back = s.personURL(id)+"/change", s.personURL(id)
	v.MaskedID, v.Name, v.MaxMB = maskID(id), p.Name, dynamic.MaxDocument>>20
	death := ""
	if p.DeathDate != nil {
		death = p.DeathDate.Format("2006-01-02")
	}
	v.Current = []web.Option{{Label: "姓名", Value: p.Name}, {Label: "地址", Value: p.Address}, {Label: "联系电话", Value: p.Phone},
		{Label: "户号", Value: p.Household}, {Label: "人口状态", Value: p.PopStatus}, {Label: "死亡日期", Value: death}}
	if v.Error != "" {
		w.WriteHeader(http.StatusBadRequest)
	}
	s.render(w, r, web.ChangeForm(v))
}

// handleChangeCreate reads the form (a multipart body whose CSRF field was
// read first), registers the change and shows it; bad input shows the
// form again with what was typed and a Chinese message.
func (s *Server) handleChangeCreate(w http.ResponseWriter, r *http.Request) {
	id, err := s.personID(chi.URLParam(r, "id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	if _, err := s.registry.Entry(r.Context(), currentActor(r).Region, id); err != nil {
		s.error(w, r, err) // outside the clerk's region: not found, before the body is read
		return
	}
	req, form, err := readChangeForm(r)
	if err == nil {
		req.IDNumber = id
		var cid int64
		cid, err = s.dynamicStore().Register(r.Context(), currentActor(r), req)
		if err == nil {
			redirect(w, r, withFlash(fmt.Sprintf("/changes/%d", cid), "已提交登记，待其他审核人员审核后写入登记库"))
			return
		}
	}
	if k := apperr.KindOf(err); k == apperr.Internal || k == apperr.NotFound || k == apperr.Forbidden {
		s.error(w, r, err)
		return
	}
	form.Error = apperr.Message(err)
	s.renderChangeForm(w, r, form)
}

// readChangeForm reads the change form's fields (each bounded) and its
// optional document (bounded by dynamic.MaxDocument).
func readChangeForm(r *http.Request) (dynamic.ChangeRequest, web.ChangeFormView, error) {
	var req dynamic.ChangeRequest
	var v web.ChangeFormView
	mr, ok := multipartBody(r)
	if !ok {
		return req, v, apperr.Invalidf("表单格式不正确，请刷新页面后重试")
	}
	fields := map[string]string{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return req, v, apperr.Invalidf("提交的内容过大")
		}
		if err != nil {
			return req, v, apperr.Invalidf("表单读取失败，请重试")
		}
		if part.FormName() == "document" {
			req.DocumentName = part.FileName()
			data, err := io.ReadAll(io.LimitReader(part, dynamic.MaxDocument+1))
			if err != nil {
				return req, v, apperr.Invalidf("证明材料读取失败，请重试")
			}
			req.DocumentData = data
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(part, 4000))
		fields[part.FormName()] = strings.TrimSpace(string(b))
	}
	v = web.ChangeFormView{Kind: fields["kind"], CancelReason: fields["cancel_reason"], NewName: fields["name"],
		Address: fields["address"], Phone: fields["phone"], Household: fields["household"], Effective: fields["effective"],
		Reason: fields["reason"]}
	req.Kind, req.CancelReason = dynamic.ChangeKind(fields["kind"]), fields["cancel_reason"]
	req.Name, req.Address, req.Phone, req.Household, req.Reason = v.NewName, v.Address, v.Phone, v.Household, v.Reason
	if v.Effective != "" {
		t, err := time.Parse("2006-01-02", v.Effective)
		if err != nil {
			return req, v, apperr.Invalidf("生效日期格式应为 YYYY-MM-DD")
		}
		req.Effective = t
	}
	if req.Kind == dynamic.Correct {
		req.CancelReason = ""
	}
	return req, v, nil
}

// changesSpec pages the manual changes.
var changesSpec = dynamic.ChangeSpec

func (s *Server) handleChanges(w http.ResponseWriter, r *http.Request) {
	a := currentActor(r)
	lq := list.Parse(r.URL.Query(), changesSpec)
	page, err := s.dynamicStore().Changes(r.Context(), a, lq)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.ChangesView{Page: s.page(r, "变更登记", "events"), State: lq.Filter("state"),
		Pager: web.PagerOf(page.Query, page.Total, "/changes")}
	for _, st := range []dynamic.ChangeState{dynamic.ChangePending, dynamic.ChangeApproved, dynamic.ChangeRejected} {
		v.States = append(v.States, web.Option{Value: string(st), Label: st.Label()})
	}
	for _, c := range page.Items {
		v.Rows = append(v.Rows, web.ChangeRow{ID: c.ID, Link: fmt.Sprintf("/changes/%d", c.ID), Kind: c.Kind.Label(), Name: c.Name,
			MaskedID: maskID(c.IDNumber), Summary: changeSummary(c), Effective: c.Effective.Format("2006-01-02"),
			State: c.State.Label(), StateKey: string(c.State), Made: c.MadeName, Region: nonEmpty(c.RegionName, c.Region)})
	}
	s.render(w, r, web.Changes(v))
}

// changeSummary names the fields a change sets; a phone number stays
// masked in the list.
func changeSummary(c dynamic.Change) string {
	var parts []string
	for _, col := range dynamic.ChangeColumns(c.Changes) {
		v := c.Changes[col]
		if col == "phone" {
			v = maskPhone(v)
		}
		parts = append(parts, registry.FieldLabel(col)+"："+v)
	}
	return strings.Join(parts, "；")
}

func nonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Server) changeOf(r *http.Request) (dynamic.Change, error) {
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	return s.dynamicStore().Change(r.Context(), currentActor(r), id)
}

func (s *Server) handleChange(w http.ResponseWriter, r *http.Request) {
	a := currentActor(r)
	c, err := s.changeOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.ChangeView{Page: s.page(r, fmt.Sprintf("变更登记 #%d", c.ID), "events"), ID: c.ID, Kind: c.Kind.Label(), Name: c.Name,
		MaskedID: maskID(c.IDNumber), PersonLink: s.personLink(r, c.IDNumber), Effective: c.Effective.Format("2006-01-02"),
		Reason: c.Reason, State: c.State.Label(), StateKey: string(c.State),
		Made: c.MadeName + " " + c.MadeAt.In(cst).Format("2006-01-02 15:04"), Note: c.Note,
		CanReview: a.May(actor.RegistryApprove), OwnChange: (c.MadeBy != nil && *c.MadeBy == a.UserID) || (c.MadeBy == nil && c.MadeName == a.Username),
		Action: fmt.Sprintf("/changes/%d/review", c.ID)}
	if c.DecidedAt != nil {
		v.Decided = c.DecidedName + " " + c.DecidedAt.In(cst).Format("2006-01-02 15:04")
	}
	for _, col := range dynamic.ChangeColumns(c.Changes) {
		v.Lines = append(v.Lines, web.ChangeLine{Field: registry.FieldLabel(col), Old: c.Old[col], New: c.Changes[col]})
	}
	if c.DocSize > 0 {
		v.DocLink = fmt.Sprintf("/changes/%d/document", c.ID)
		v.DocLabel = fmt.Sprintf("%s（%d KB）", c.DocName, (c.DocSize+1023)/1024)
		v.DocSHA = c.DocSHA
	}
	s.render(w, r, web.Change(v))
}

func (s *Server) handleChangeDocument(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	d, err := s.dynamicStore().Document(r.Context(), currentActor(r), id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	// Served as an attachment of its sniffed type, never rendered inline.
	w.Header().Set("Content-Type", d.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": d.FileName}))
	w.Header().Set("Content-Length", strconv.Itoa(len(d.Content)))
	_, _ = w.Write(d.Content)
}

func (s *Server) handleChangeReview(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	a := currentActor(r)
	note := r.PostFormValue("note")
	var err error
	msg := "已审核通过，变更已写入登记库"
	if r.PostFormValue("decision") == "approve" {
		err = s.dynamicStore().Approve(r.Context(), a, id, note)
	} else {
		err = s.dynamicStore().Return(r.Context(), a, id, note)
		msg = "已退回，登记库未改动"
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, withFlash(fmt.Sprintf("/changes/%d", id), msg))
}
