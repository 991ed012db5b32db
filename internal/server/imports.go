package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/job"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/sheet"
	"github.com/canbao/canbao/internal/source"
	"github.com/canbao/canbao/web"
)

func (s *Server) routesImports(r chi.Router) {
	read := r.With(s.allow(actor.ImportRead))
	read.Get("/imports", s.handleImports)
	read.Get("/imports/{id:[0-9]+}", s.handleImport)
	r.With(s.allow(actor.Export)).Get("/imports/{id:[0-9]+}/errors.xlsx", s.handleImportReport)
	r.Group(func(r chi.Router) {
		r.Use(s.allow(actor.Import))
		r.Get("/imports/new", s.handleImportNew)
		r.Post("/imports/upload", s.handleImportUpload)
		r.Get("/imports/uploads/{token}", s.handleImportPreview)
		r.Post("/imports/uploads/{token}", s.handleImportStart)
		r.Post("/imports/uploads/{token}/confirm", s.handleImportConfirm)
	})
	r.With(s.allow(actor.BatchWithdraw)).Post("/imports/{id:[0-9]+}/withdraw", s.handleImportWithdraw)
}

func (s *Server) handleImports(w http.ResponseWriter, r *http.Request) {
	a := currentActor(r)
	q := r.URL.Query()
	f := imports.Filter{Kind: q.Get("kind"), Status: q.Get("status")}
	batches, err := s.imports.List(r.Context(), a, f, list.Parse(q, list.Spec{Filters: []string{"kind", "status"}}))
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.ImportsView{Page: s.page(r, "数据导入", "imports"), Kind: f.Kind, Status: f.Status, Kinds: kindNames(),
		Pager: web.PagerOf(batches.Query, batches.Total, "/imports"), CanImport: a.May(actor.Import)}
	for _, b := range batches.Items {
		v.Batches = append(v.Batches, batchRow(b))
	}
	s.render(w, r, web.Imports(v))
}

func batchRow(b imports.Batch) web.BatchRow {
	return web.BatchRow{ID: b.ID, Kind: b.Kind, Region: b.RegionName, Source: b.Source, FileName: b.FileName,
		Status: b.StatusLabel(), Failed: b.Status == "failed", Error: b.Error, Read: b.Read, Accepted: b.Accepted,
		Rejected: b.Rejected, Marked: b.Marked, By: b.CreatedName, At: b.CreatedAt.In(cst).Format("2006-01-02 15:04"),
		ExtractDate: b.ExtractDate.Format("2006-01-02")}
}

func kindNames() []string {
	var out []string
	for _, k := range source.Kinds() {
		out = append(out, string(k))
	}
	return out
}

func (s *Server) handleImportNew(w http.ResponseWriter, r *http.Request) {
	s.renderImportNew(w, r, web.ImportForm{})
}

func (s *Server) renderImportNew(w http.ResponseWriter, r *http.Request, f web.ImportForm) {
	me, _ := currentUser(r)
	regions, err := s.regionChoices(r.Context(), me.RegionCode, me.RegionName)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.ImportNewView{Page: s.page(r, "新建导入", "imports"), Form: f, Kinds: kindNames(), MaxMB: s.cfg.MaxUpload >> 20, Regions: regions}
	if f.Error != "" {
		w.WriteHeader(http.StatusBadRequest)
	}
	s.render(w, r, web.ImportNew(v))
}

// handleImportUpload streams the multipart body to a temporary file,
// hashing it on the way, so a 512 MiB extract never sits in memory.
func (s *Server) handleImportUpload(w http.ResponseWriter, r *http.Request) {
	me, _ := currentUser(r)
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload+1<<20)
	up, err := s.receiveUpload(r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			err = apperr.Invalidf("文件超过上限 %d MB", s.cfg.MaxUpload>>20)
		}
		if up != nil {
			s.removeUpload(up.path)
		}
		form := web.ImportForm{Error: apperr.Message(err)}
		if up != nil {
			form.Kind, form.Region, form.Source, form.ExtractDate = string(up.kind), up.region, up.source, up.extractText
		}
		s.renderImportNew(w, r, form)
		return
	}
	up.userID = me.ID
	s.uploads.add(up)
	redirect(w, r, "/imports/uploads/"+up.token)
}

func (s *Server) receiveUpload(r *http.Request) (*upload, error) {
	me, _ := currentUser(r)
	mr, ok := multipartBody(r) // the CSRF check read the token before it
	if !ok {
		return nil, apperr.Invalidf("请选择要上传的文件")
	}
	up := &upload{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return up, err
		}
		switch part.FormName() {
		case "kind", "region", "source", "extract_date":
			b, _ := io.ReadAll(io.LimitReader(part, 200))
			setField(up, part.FormName(), strings.TrimSpace(string(b)))
		case "file":
			if err := s.saveFile(up, part); err != nil {
				return up, err
			}
		}
	}
	if up.path == "" || up.size == 0 {
		return up, apperr.Invalidf("请选择要上传的文件（文件不能为空）")
	}
	if _, ok := source.ParseKind(string(up.kind)); !ok {
		return up, apperr.Invalidf("请选择数据类型")
	}
	if up.region == "" {
		up.region = me.RegionCode
	}
	var err error
	if up.extractDate, err = imports.ParseExtractDate(up.extractText); err != nil {
		return up, err
	}
	if !currentActor(r).Sees(up.region) {
		return up, apperr.Invalidf("只能导入本人管辖区划内的数据")
	}
	if err := s.imports.CheckExtractDate(r.Context(), up.kind, up.region, up.source, up.extractDate); err != nil {
		return up, err
	}
	if err := s.imports.CheckDuplicate(r.Context(), me.RegionCode, up.kind, up.sha256); err != nil {
		return up, err
	}
	up.preview, err = imports.Open(up.path, up.kind)
	return up, err
}

func setField(up *upload, name, value string) {
	switch name {
	case "kind":
		up.kind = source.Kind(value)
	case "region":
		up.region = value
	case "source":
		up.source = value
	case "extract_date":
		up.extractText = value
	}
}

func (s *Server) saveFile(up *upload, part io.Reader) error {
	f, err := os.CreateTemp(s.cfg.TempDir, "canbao-upload-*")
	if err != nil {
		return err
	}
	up.path = f.Name()
	if p, ok := part.(interface{ FileName() string }); ok {
		up.fileName = filepath.Base(p.FileName())
	}
	h := sha256.New()
	up.size, err = io.Copy(io.MultiWriter(f, h), part)
	up.sha256 = hex.EncodeToString(h.Sum(nil))
	if cerr := f.Close(); err == nil {
		err = cerr // a file written is whole only once closed
	}
	return err
}

func (s *Server) uploadOf(r *http.Request) (*upload, error) {
	me, _ := currentUser(r)
	up, ok := s.uploads.get(chi.URLParam(r, "token"), me.ID)
	if !ok {
		return nil, apperr.NotFoundf("上传的文件已过期，请重新上传")
	}
	return up, nil
}

func (s *Server) handleImportPreview(w http.ResponseWriter, r *http.Request) {
	up, err := s.uploadOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if id := s.uploadJob(up); id != 0 {
		redirect(w, r, jobURL(id))
		return
	}
	p := up.preview
	headerIdx, mapping := p.HeaderIdx, p.Mapping
	// The user may pick another header row or apply a saved template.
	if line, err := strconv.Atoi(r.URL.Query().Get("header")); err == nil {
		headerIdx = indexOf(p.Lines, line)
		if headerIdx >= 0 {
			mapping = source.MatchHeader(p.Rows[headerIdx], up.kind)
		}
	}
	templates, err := s.imports.Templates(r.Context(), currentActor(r), up.kind)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if id, err := strconv.ParseInt(r.URL.Query().Get("template"), 10, 64); err == nil && headerIdx >= 0 {
		for _, t := range templates {
			if t.ID == id {
				mapping = t.Apply(p.Rows[headerIdx])
			}
		}
	}
	s.render(w, r, web.ImportPreview(previewView(s.page(r, "确认导入", "imports"), up, headerIdx, mapping, templates, r.URL.Query().Get("error"))))
}

func indexOf(lines []int, line int) int {
	for i, l := range lines {
		if l == line {
			return i
		}
	}
	return -1
}

func previewView(page web.Page, up *upload, headerIdx int, m source.Mapping, templates []imports.Template, errMsg string) web.ImportPreviewView {
	p := up.preview
	v := web.ImportPreviewView{Page: page, Token: up.token, Kind: string(up.kind), FileName: up.fileName,
		Size: humanSize(up.size), Format: string(p.Format), Encoding: p.Encoding, Sheet: p.Sheet, Reason: p.Reason, Error: errMsg}
	if !up.extractDate.IsZero() {
		v.ExtractDate = up.extractDate.Format("2006-01-02")
	}
	for i, row := range p.Rows {
		v.Rows = append(v.Rows, web.PreviewRow{Line: p.Lines[i], Cells: row, Header: i == headerIdx})
		v.HeaderChoices = append(v.HeaderChoices, p.Lines[i])
	}
	if headerIdx >= 0 {
		v.HeaderLine = p.Lines[headerIdx]
		header := p.Rows[headerIdx]
		for i, h := range header {
			v.Columns = append(v.Columns, web.Option{Value: strconv.Itoa(i), Label: columnLetter(i) + "：" + h})
		}
	}
	for _, f := range source.Fields(up.kind) {
		col, ok := m[f.Key]
		if !ok {
			col = -1
		}
		v.Fields = append(v.Fields, web.MappingField{Key: f.Key, Name: f.Name, Required: f.Required, Column: col})
	}
	for _, t := range templates {
		v.Templates = append(v.Templates, web.Option{Value: strconv.FormatInt(t.ID, 10), Label: t.Name})
	}
	return v
}

func columnLetter(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d 字节", n)
}

// handleImportStart takes the confirmed mapping and runs the import as a
// job; the browser follows its progress.
func (s *Server) handleImportStart(w http.ResponseWriter, r *http.Request) {
	up, err := s.uploadOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if id := s.uploadJob(up); id != 0 {
		redirect(w, r, jobURL(id))
		return
	}
	headerLine, _ := strconv.Atoi(r.PostFormValue("header_line"))
	m := source.Mapping{}
	for _, f := range source.Fields(up.kind) {
		if col, err := strconv.Atoi(r.PostFormValue("map_" + f.Key)); err == nil && col >= 0 {
			m[f.Key] = col
		}
	}
	back := "/imports/uploads/" + up.token + "?header=" + strconv.Itoa(headerLine) + "&error="
	if headerLine <= 0 {
		redirect(w, r, back+url.QueryEscape("请先选择表头所在行"))
		return
	}
	if name := strings.TrimSpace(r.PostFormValue("template_name")); name != "" {
		if idx := indexOf(up.preview.Lines, headerLine); idx >= 0 {
			if err := s.imports.SaveTemplate(r.Context(), currentActor(r), up.kind, name, up.preview.Rows[idx], m); err != nil {
				s.error(w, r, err)
				return
			}
		}
	}
	id, err := s.startImport(r.Context(), up, currentActor(r), imports.Request{Kind: up.kind, Region: up.region, Source: up.source, Path: up.path,
		FileName: up.fileName, SHA256: up.sha256, Mapping: m, HeaderLine: headerLine, TempDir: s.cfg.TempDir, ExtractDate: up.extractDate})
	if err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, jobURL(id))
}

// uploadJob is the id of the upload's import job, 0 before it starts.
func (s *Server) uploadJob(up *upload) int64 {
	s.uploads.mu.Lock()
	defer s.uploads.mu.Unlock()
	return up.jobID
}

// startImport submits the upload's import once; a second confirm (double
// click) gets the first one's job, and so does a post while the import
// waits for its confirmation (confirmImport restarts it).
func (s *Server) startImport(ctx context.Context, up *upload, a actor.Actor, req imports.Request) (int64, error) {
	s.uploads.mu.Lock()
	defer s.uploads.mu.Unlock()
	if up.jobID != 0 {
		return up.jobID, nil
	}
	return s.submitImport(ctx, up, a, req)
}

// confirmImport imports a stopped upload again, forced, with the user's
// first choices. The switch from the stopped job to the new one happens
// under one hold of the lock, so no other post and no cleanup sees the
// upload in between.
func (s *Server) confirmImport(ctx context.Context, up *upload, a actor.Actor) (int64, error) {
	s.uploads.mu.Lock()
	defer s.uploads.mu.Unlock()
	if !up.waiting {
		return 0, apperr.Conflictf("该导入无需确认或已在进行")
	}
	req := up.req
	req.Force = true
	id, err := s.submitImport(ctx, up, a, req)
	if err == nil {
		up.waiting = false
	}
	return id, err
}

// submitImport submits the upload's import job; the caller holds the
// uploads' lock. The job owns the file: it removes it when it ends, however
// it ends (also cancelled while queued, or after a panic), unless it
// stopped to ask before replacing a larger extract: then the file waits for
// the user's confirmation (confirmImport).
func (s *Server) submitImport(ctx context.Context, up *upload, a actor.Actor, req imports.Request) (int64, error) {
	spec := s.imports.Job(a, req, up.preview.EstimateRows(up.size), nil)
	var (
		self    int64 // this job's id, set under the lock before Finally can read it
		stopped bool  // it stopped to ask; written and read on the job's goroutine
	)
	run := spec.Run
	spec.Run = func(ctx context.Context, p *job.Progress) (int64, error) {
		id, err := run(ctx, p)
		if needsConfirm(err) {
			stopped = true
			s.uploads.mu.Lock()
			up.waiting = true // before the row says failed, so its page offers the confirmation
			s.uploads.mu.Unlock()
		}
		return id, err
	}
	spec.Finally = func(st job.State) {
		s.uploads.mu.Lock()
		mine := up.jobID == self // else a confirmed import took the file over
		keep := !mine || (stopped && st == job.Failed)
		if !keep {
			up.waiting = false // interrupted after it asked: nothing left to confirm
		}
		s.uploads.mu.Unlock()
		if !keep {
			s.removeUpload(req.Path) // the import is over: the rows are in the batch or nowhere
		}
	}
	id, err := s.jobs.Submit(ctx, spec)
	if err != nil {
		return 0, err
	}
	up.req, up.jobID, self = req, id, id
	return id, nil
}

func (s *Server) batchOf(r *http.Request) (imports.Batch, error) {
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	return s.imports.Get(r.Context(), currentActor(r), id)
}

func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	b, err := s.batchOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	a := currentActor(r)
	q := r.URL.Query()
	path := "/imports/" + strconv.FormatInt(b.ID, 10)
	// Issues and records page separately; both keep the record search.
	iq := list.Parse(q, list.Spec{Filters: []string{"q"}})
	search := iq.Filter("q")
	issues, err := s.imports.Issues(r.Context(), a, b.ID, iq)
	if err != nil {
		s.error(w, r, err)
		return
	}
	recs, err := s.imports.Records(r.Context(), a, b.ID, search, list.Parse(q, list.Spec{Filters: []string{"q"}, Param: "rpage"}))
	if err != nil {
		s.error(w, r, err)
		return
	}
	ipg, rpg := web.PagerOf(issues.Query, issues.Total, path), web.PagerOf(recs.Query, recs.Total, path)
	v := web.ImportDetailView{Page: s.page(r, fmt.Sprintf("导入批次 #%d", b.ID), "imports"), Batch: batchRow(b),
		Format: b.Format, Encoding: b.Encoding, HeaderLine: b.HeaderLine, Duration: fmt.Sprintf("%.1f 秒", float64(b.DurationMS)/1000),
		CanWithdraw: a.May(actor.BatchWithdraw) && b.Status == "done", Query: search, IssuePager: ipg, RecordPager: rpg,
		CanReport: a.May(actor.Export)}
	if a.May(actor.Import) {
		if v.CanRederive, err = s.dynamicStore().Pending(r.Context(), b.ID); err != nil {
			s.error(w, r, err)
			return
		}
	}
	if b.SupersededBy != nil {
		v.SupersededBy = *b.SupersededBy
	}
	for k, i := range b.Mapping {
		if i < len(b.Header) {
			v.Mapping = append(v.Mapping, web.Option{Value: fieldName(source.Kind(b.Kind), k), Label: b.Header[i]})
		}
	}
	for _, is := range issues.Items {
		v.Issues = append(v.Issues, web.IssueRow{Line: is.Line, Rejected: is.Rejected, Column: is.Column, Value: maskIssue(is), Reason: is.Reason})
	}
	for _, rec := range recs.Items {
		v.Records = append(v.Records, recordRow(rec))
	}
	s.render(w, r, web.ImportDetail(v))
}

func fieldName(k source.Kind, key string) string {
	for _, f := range source.Fields(k) {
		if f.Key == key {
			return f.Name
		}
	}
	return key
}

// maskIssue hides an ID number shown in an issue list (the downloadable
// report, for staff fixing the source file, keeps it whole).
func maskIssue(is imports.Issue) string {
	if strings.Contains(is.Column, "身份") || strings.Contains(is.Column, "证件") || strings.Contains(is.Column, "号码") {
		return maskID(is.Value)
	}
	return is.Value
}

func (s *Server) handleImportReport(w http.ResponseWriter, r *http.Request) {
	b, err := s.batchOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	name := fmt.Sprintf("导入错误报告_批次%d_%s.xlsx", b.ID, strings.TrimSuffix(b.FileName, filepath.Ext(b.FileName)))
	s.serveSheet(w, r, name, func(sw sheet.Writer) error {
		return s.imports.WriteReport(r.Context(), currentActor(r), b.ID, sw)
	})
}

func (s *Server) handleImportWithdraw(w http.ResponseWriter, r *http.Request) {
	b, err := s.batchOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.imports.Withdraw(r.Context(), currentActor(r), b.ID); err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/imports/%d?flash=%s", b.ID, url.QueryEscape("已撤回该批次，比对时不再使用")))
}
