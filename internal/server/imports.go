package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/sheet"
	"github.com/canbao/canbao/internal/source"
	"github.com/canbao/canbao/web"
)

func (s *Server) routesImports(r chi.Router) {
	r.Get("/imports", s.handleImports)
	r.Get("/imports/{id:[0-9]+}", s.handleImport)
	r.Get("/imports/{id:[0-9]+}/errors.xlsx", s.handleImportReport)
	r.Group(func(r chi.Router) {
		r.Use(s.requireImporter)
		r.Get("/imports/new", s.handleImportNew)
		r.Post("/imports/upload", s.handleImportUpload)
		r.Get("/imports/uploads/{token}", s.handleImportPreview)
		r.Post("/imports/uploads/{token}", s.handleImportStart)
		r.Get("/imports/jobs/{token}", s.handleImportJob)
		r.Get("/imports/jobs/{token}/status", s.handleImportJobStatus)
		r.Post("/imports/jobs/{token}/confirm", s.handleImportConfirm)
	})
	r.With(s.requireAdmin).Post("/imports/{id:[0-9]+}/withdraw", s.handleImportWithdraw)
}

func (s *Server) requireImporter(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, _ := currentUser(r); !u.CanImport() {
			s.renderStatus(w, r, http.StatusNotFound, "页面不存在")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) handleImports(w http.ResponseWriter, r *http.Request) {
	me, _ := currentUser(r)
	q := r.URL.Query()
	f := imports.Filter{Scope: me.RegionCode, Kind: q.Get("kind"), Status: q.Get("status")}
	pg := pager(r, "/imports", url.Values{"kind": {f.Kind}, "status": {f.Status}})
	f.Limit, f.Offset = pg.PerPage, pg.Offset()
	list, total, err := s.imports.List(r.Context(), f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	pg.Total = total
	v := web.ImportsView{Page: s.page(r, "数据导入", "imports"), Kind: f.Kind, Status: f.Status, Kinds: kindNames(), Pager: pg, CanImport: me.CanImport()}
	for _, b := range list {
		v.Batches = append(v.Batches, batchRow(b))
	}
	s.render(w, r, web.Imports(v))
}

func batchRow(b imports.Batch) web.BatchRow {
	return web.BatchRow{ID: b.ID, Kind: b.Kind, Region: b.RegionName, Source: b.Source, FileName: b.FileName,
		Status: b.StatusLabel(), Failed: b.Status == "failed", Error: b.Error, Read: b.Read, Accepted: b.Accepted,
		Rejected: b.Rejected, Marked: b.Marked, By: b.CreatedName, At: b.CreatedAt.In(cst).Format("2006-01-02 15:04")}
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
	children, err := s.regions.Children(r.Context(), me.RegionCode)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.ImportNewView{Page: s.page(r, "新建导入", "imports"), Form: f, Kinds: kindNames(), MaxMB: s.cfg.MaxUpload >> 20}
	v.Regions = append(v.Regions, web.RoleOption{Value: me.RegionCode, Label: me.RegionName + "（本级）"})
	for _, c := range children {
		v.Regions = append(v.Regions, web.RoleOption{Value: c.Code, Label: c.Name})
	}
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
			os.Remove(up.path)
		}
		form := web.ImportForm{Error: apperr.Message(err)}
		if up != nil {
			form.Kind, form.Region, form.Source = string(up.kind), up.region, up.source
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
		case "kind", "region", "source":
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
	if !me.Sees(up.region) {
		return up, apperr.Invalidf("只能导入本人管辖区划内的数据")
	}
	if err := s.imports.CheckDuplicate(r.Context(), me.RegionCode, up.kind, up.sha256); err != nil {
		return up, err
	}
	var err error
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
	}
}

func (s *Server) saveFile(up *upload, part io.Reader) error {
	f, err := os.CreateTemp(s.cfg.TempDir, "canbao-upload-*")
	if err != nil {
		return err
	}
	defer f.Close()
	up.path = f.Name()
	if p, ok := part.(interface{ FileName() string }); ok {
		up.fileName = filepath.Base(p.FileName())
	}
	h := sha256.New()
	up.size, err = io.Copy(io.MultiWriter(f, h), part)
	up.sha256 = hex.EncodeToString(h.Sum(nil))
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
	if up.done != nil {
		redirect(w, r, "/imports/jobs/"+up.token)
		return
	}
	me, _ := currentUser(r)
	p := up.preview
	headerIdx, mapping := p.HeaderIdx, p.Mapping
	// The user may pick another header row or apply a saved template.
	if line, err := strconv.Atoi(r.URL.Query().Get("header")); err == nil {
		headerIdx = indexOf(p.Lines, line)
		if headerIdx >= 0 {
			mapping = source.MatchHeader(p.Rows[headerIdx], up.kind)
		}
	}
	templates, err := s.imports.Templates(r.Context(), me.RegionCode, up.kind)
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
	for i, row := range p.Rows {
		v.Rows = append(v.Rows, web.PreviewRow{Line: p.Lines[i], Cells: row, Header: i == headerIdx})
		v.HeaderChoices = append(v.HeaderChoices, p.Lines[i])
	}
	if headerIdx >= 0 {
		v.HeaderLine = p.Lines[headerIdx]
		header := p.Rows[headerIdx]
		for i, h := range header {
			v.Columns = append(v.Columns, web.RoleOption{Value: strconv.Itoa(i), Label: columnLetter(i) + "：" + h})
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
		v.Templates = append(v.Templates, web.RoleOption{Value: strconv.FormatInt(t.ID, 10), Label: t.Name})
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

// handleImportStart takes the confirmed mapping and runs the import in the
// background; the browser follows its progress.
func (s *Server) handleImportStart(w http.ResponseWriter, r *http.Request) {
	up, err := s.uploadOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	me, _ := currentUser(r)
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
			if err := s.imports.SaveTemplate(r.Context(), me.RegionCode, up.kind, name, me.ID, up.preview.Rows[idx], m); err != nil {
				s.error(w, r, err)
				return
			}
		}
	}
	if !s.startJob(up, imports.Request{Kind: up.kind, Region: up.region, Source: up.source, Path: up.path,
		FileName: up.fileName, SHA256: up.sha256, Mapping: m, HeaderLine: headerLine,
		UserID: me.ID, UserName: me.Username, IP: clientIP(r), TempDir: s.cfg.TempDir}) {
		redirect(w, r, "/imports/jobs/"+up.token)
		return
	}
	redirect(w, r, "/imports/jobs/"+up.token)
}

// startJob starts the import once; a second confirm (double click) is ignored.
func (s *Server) startJob(up *upload, req imports.Request) bool {
	s.uploads.mu.Lock()
	if up.done != nil {
		s.uploads.mu.Unlock()
		return false
	}
	up.done = make(chan struct{})
	up.started = time.Now()
	s.uploads.mu.Unlock()
	up.req = req
	go func() {
		defer close(up.done)
		up.result, up.err = s.imports.Import(context.Background(), req, &up.progress)
		if !needsConfirm(up.err) { // the file waits for the user's confirmation
			os.Remove(up.path)
		}
		if up.err != nil && apperr.KindOf(up.err) == apperr.Internal {
			s.log.Error("import failed", "file", req.FileName, "err", up.err)
		}
	}()
	return true
}

func (s *Server) handleImportJob(w http.ResponseWriter, r *http.Request) {
	up, err := s.uploadOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if up.done == nil {
		redirect(w, r, "/imports/uploads/"+up.token)
		return
	}
	st := jobStatus(up)
	if st.Done && st.Error == "" {
		http.Redirect(w, r, "/imports/"+strconv.FormatInt(st.BatchID, 10), http.StatusSeeOther)
		return
	}
	v := web.ImportJobView{Page: s.page(r, "正在导入", "imports"), Token: up.token, FileName: up.fileName,
		Kind: string(up.kind), Rows: st.Rows, Rate: st.Rate, Percent: st.Percent, Done: st.Done, Error: st.Error,
		Confirm: st.Confirm}
	s.render(w, r, web.ImportJob(v))
}

// status is the JSON the progress page polls.
type status struct {
	Rows    int64   `json:"rows"`
	Rate    int64   `json:"rate"`    // rows per second
	Percent float64 `json:"percent"` // estimated; -1 when unknown (xlsx)
	Done    bool    `json:"done"`
	BatchID int64   `json:"batch"`
	Error   string  `json:"error,omitempty"`
	Confirm bool    `json:"confirm,omitempty"` // stopped until the user confirms replacing a larger extract
}

func jobStatus(up *upload) status {
	st := status{Rows: up.progress.Rows.Load(), Percent: -1}
	if el := time.Since(up.started).Seconds(); el > 0 {
		st.Rate = int64(float64(st.Rows) / el)
	}
	if isClosed(up.done) {
		st.Done, st.Rows = true, int64(up.result.Read)
		st.BatchID = up.result.BatchID
		if up.err != nil {
			st.Error = apperr.Message(up.err)
			st.Confirm = needsConfirm(up.err)
		}
		st.Percent = 100
	} else if up.preview.Format == sheet.CSV {
		st.Percent = estimatePercent(up, st.Rows)
	}
	return st
}

// estimatePercent guesses how far a CSV import is from the preview rows'
// average size; it never claims 100 before the job ends.
func estimatePercent(up *upload, rows int64) float64 {
	var bytes, n int
	for _, row := range up.preview.Rows {
		for _, c := range row {
			bytes += len(c) + 1
		}
		n++
	}
	if n == 0 || up.size == 0 {
		return -1
	}
	total := float64(up.size) / (float64(bytes) / float64(n))
	return min(99, 100*float64(rows)/total)
}

func (s *Server) handleImportJobStatus(w http.ResponseWriter, r *http.Request) {
	up, err := s.uploadOf(r)
	if err != nil || up.done == nil {
		http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(jobStatus(up))
}

func (s *Server) batchOf(r *http.Request) (imports.Batch, error) {
	me, _ := currentUser(r)
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	return s.imports.Get(r.Context(), me.RegionCode, id)
}

func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	b, err := s.batchOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	me, _ := currentUser(r)
	q := r.URL.Query()
	search := strings.TrimSpace(q.Get("q"))
	ipg := pager(r, "/imports/"+strconv.FormatInt(b.ID, 10), url.Values{"q": {search}})
	issues, itotal, err := s.imports.Issues(r.Context(), b.ID, ipg.PerPage, ipg.Offset())
	if err != nil {
		s.error(w, r, err)
		return
	}
	ipg.Total = itotal
	rpg := web.Pager{Page: pageParam(r, "rpage"), PerPage: perPage, Path: ipg.Path, Base: url.Values{"q": {search}}, Param: "rpage"}
	recs, rtotal, err := s.imports.Records(r.Context(), b.ID, search, rpg.PerPage, rpg.Offset())
	if err != nil {
		s.error(w, r, err)
		return
	}
	rpg.Total = rtotal
	v := web.ImportDetailView{Page: s.page(r, fmt.Sprintf("导入批次 #%d", b.ID), "imports"), Batch: batchRow(b),
		Format: b.Format, Encoding: b.Encoding, HeaderLine: b.HeaderLine, Duration: fmt.Sprintf("%.1f 秒", float64(b.DurationMS)/1000),
		CanWithdraw: me.CanManageUsers() && b.Status == "done", Query: search, IssuePager: ipg, RecordPager: rpg,
		CanReport: me.CanImport()}
	if b.SupersededBy != nil {
		v.SupersededBy = *b.SupersededBy
	}
	for k, i := range b.Mapping {
		if i < len(b.Header) {
			v.Mapping = append(v.Mapping, web.RoleOption{Value: fieldName(source.Kind(b.Kind), k), Label: b.Header[i]})
		}
	}
	for _, is := range issues {
		v.Issues = append(v.Issues, web.IssueRow{Line: is.Line, Rejected: is.Rejected, Column: is.Column, Value: maskIssue(is), Reason: is.Reason})
	}
	for _, rec := range recs {
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
	if me, _ := currentUser(r); !me.CanImport() {
		s.error(w, r, apperr.Forbiddenf("错误报告含完整身份证号码，仅供负责导入的经办人员下载"))
		return
	}
	b, err := s.batchOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	name := fmt.Sprintf("导入错误报告_批次%d_%s.xlsx", b.ID, strings.TrimSuffix(b.FileName, filepath.Ext(b.FileName)))
	s.serveSheet(w, r, name, func(sw sheet.Writer) error {
		if err := s.imports.WriteReport(r.Context(), b.ID, sw); err != nil {
			return err
		}
		s.audit(r, audit.Entry{Action: audit.ImportReport, Object: "batch:" + strconv.FormatInt(b.ID, 10)})
		return nil
	})
}

func (s *Server) handleImportWithdraw(w http.ResponseWriter, r *http.Request) {
	b, err := s.batchOf(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	me, _ := currentUser(r)
	id := me.ID
	e := audit.Entry{UserID: &id, Username: me.Username, Region: me.RegionCode, IP: clientIP(r)}
	if err := s.imports.Withdraw(r.Context(), me.RegionCode, b.ID, e); err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/imports/%d?flash=%s", b.ID, url.QueryEscape("已撤回该批次，比对时不再使用")))
}
