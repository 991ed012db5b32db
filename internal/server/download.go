package server

import (
	"mime"
	"net/http"
	"os"
	"path/filepath"

	"github.com/canbao/canbao/internal/sheet"
)

// serveSheet writes a spreadsheet through a temporary file (exports of a
// city stream, they are not built in memory) and sends it as a download
// named name; .xlsx or .csv by the name's extension. write's error, if
// any, is rendered instead.
func (s *Server) serveSheet(w http.ResponseWriter, r *http.Request, name string, write func(sheet.Writer) error) bool {
	ext := filepath.Ext(name)
	f, err := os.CreateTemp(s.cfg.TempDir, "canbao-download-*"+ext)
	if err != nil {
		s.error(w, r, err)
		return false
	}
	path := f.Name()
	_ = f.Close() // only its name is wanted
	defer func() { _ = os.Remove(path) }()
	sw, err := sheet.Create(path)
	if err != nil {
		s.error(w, r, err)
		return false
	}
	err = write(sw)
	if cerr := sw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.error(w, r, err)
		return false
	}
	ctype := "text/csv; charset=utf-8"
	if ext == ".xlsx" {
		ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	http.ServeFile(w, r, path)
	return true
}
