// Package imports brings department extracts into the registry: it finds
// the header, maps the columns, checks every row, and writes a batch that
// either commits whole or leaves no trace.
package imports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/batchdiff"
	"github.com/canbao/canbao/internal/job"
	"github.com/canbao/canbao/internal/pgcopy"
	"github.com/canbao/canbao/internal/sheet"
	"github.com/canbao/canbao/internal/source"
)

// Request describes one import.
type Request struct {
	Kind     source.Kind
	Region   string // the batch's region (natural-length code)
	Source   string // which extract this is; "" derives it (see defaultSource)
	Path     string // the file on disk
	FileName string // the name the user knows it by
	SHA256   string // content hash if already computed while uploading
	// Mapping overrides the detected columns (field key → column index) and
	// HeaderLine the detected header row (spreadsheet row number); zero: detect.
	Mapping    source.Mapping
	HeaderLine int
	TempDir    string // for the issue log; "" = the system's
	// Force confirms replacing an extract that had many times more rows
	// (see ReplaceRatio); without it such an import stops with a ReplaceError.
	Force bool
	// ExtractDate is the day the department took the extract (数据日期);
	// zero: the import day. Not after today, nor before the extract it
	// replaces.
	ExtractDate time.Time
}

// Result is what an import did.
type Result struct {
	BatchID                          int64
	Read, Accepted, Rejected, Marked int
	Duration                         time.Duration
	Source                           string
	Superseded                       []int64
	Steps                            Steps
}

// Steps is where an import's time went, for the benchmarks and the
// batch's log line.
type Steps struct {
	Hash, Check, Copy, Attach, Change, Finish time.Duration // hashing the file; duplicate check; reading+COPY; indexing and attaching; issues, counts, supersede and matching with the superseded batch; audit, commit
}

// String lists the steps in seconds.
func (s Steps) String() string {
	return fmt.Sprintf("hash %.2fs, duplicate check %.2fs, read+convert+COPY %.2fs, index+attach %.2fs, supersede+match %.2fs, finish+commit %.2fs",
		s.Hash.Seconds(), s.Check.Seconds(), s.Copy.Seconds(), s.Attach.Seconds(), s.Change.Seconds(), s.Finish.Seconds())
}

// Progress is updated while an import runs; safe to read from other goroutines.
type Progress struct {
	Rows atomic.Int64
}

// Preview is what the user sees before confirming: the first rows, the
// detected header and the column mapping.
type Preview struct {
	Format    sheet.Format
	Encoding  string
	Sheet     string
	Lines     []int      // spreadsheet row number of each row in Rows
	Rows      [][]string // the first rows as read
	HeaderIdx int        // index into Rows of the header; -1 when none was found
	Mapping   source.Mapping
	Reason    string // why no header was found
}

// PreviewRows is how many rows a preview shows (enough to reach the header
// below a few title rows).
const PreviewRows = 20

// Open reads the first rows of a file and detects its header for kind.
func Open(path string, kind source.Kind) (Preview, error) {
	rows, format, err := sheet.Open(path, sheet.Options{})
	if err != nil {
		return Preview{}, fileError(err)
	}
	defer rows.Close()
	p := Preview{Format: format, Sheet: rows.Sheet(), HeaderIdx: -1}
	if format == sheet.CSV {
		p.Encoding, _ = sheet.Encoding(path)
	}
	for len(p.Rows) < PreviewRows && rows.Next() {
		p.Rows = append(p.Rows, append([]string(nil), rows.Values()...))
		p.Lines = append(p.Lines, rows.Line())
	}
	if err := rows.Err(); err != nil {
		return Preview{}, fileError(err)
	}
	if len(p.Rows) == 0 {
		return p, apperr.Invalidf("文件中没有数据")
	}
	idx, m, reason, ok := source.FindHeader(p.Rows, kind)
	if ok {
		p.HeaderIdx, p.Mapping = idx, m
	} else {
		p.Reason = reason
	}
	if ok && idx == len(p.Rows)-1 && len(p.Rows) < PreviewRows {
		return p, apperr.Invalidf("文件只有表头，没有数据行，请检查导出的文件")
	}
	return p, nil
}

// fileError turns a reader's error into a user-facing one; the sheet
// package's errors already speak Chinese.
func fileError(err error) error {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, sheet.ErrLegacyXLS) || errors.Is(err, sheet.ErrUnknownFormat) || errors.Is(err, sheet.ErrTooLarge) || errors.Is(err, sheet.ErrTextTooLong) {
		return &apperr.Error{Kind: apperr.Invalid, Msg: err.Error(), Err: err}
	}
	return &apperr.Error{Kind: apperr.Invalid, Msg: "文件无法读取：" + err.Error(), Err: err}
}

// HashFile returns the hex SHA-256 of a file's content.
func HashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer func() { _ = f.Close() }() // read only
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// Importer writes batches into the database.
type Importer struct {
	db   *pgxpool.Pool
	then FollowUp
}

// FollowUp is work an import job does after its batch has committed, in
// the same job (deriving what changed since the superseded extract); an
// error fails the job, the batch stays.
type FollowUp func(ctx context.Context, a actor.Actor, res Result, p *job.Progress) error

// Then returns the importer with f run after every successful import job.
func (im *Importer) Then(f FollowUp) *Importer {
	return &Importer{db: im.db, then: f}
}

// New returns an Importer over db.
func New(db *pgxpool.Pool) *Importer { return &Importer{db: db} }

// CheckDuplicate refuses a file already imported as the same kind. The
// earlier batch is named only when it lies inside scope (the importer's
// region): another county's batch and file name are none of their business.
func (im *Importer) CheckDuplicate(ctx context.Context, scope string, kind source.Kind, sha string) error {
	const q = `SELECT id, file_name, created_at, created_name, region_code FROM import_batch WHERE kind = $1 AND file_sha256 = $2 AND status = 'done'`
	var (
		id                 int64
		name, user, region string
		at                 time.Time
	)
	err := im.db.QueryRow(ctx, q, kind, sha).Scan(&id, &name, &at, &user, &region)
	if err == nil && !strings.HasPrefix(region, scope) {
		return apperr.Conflictf("该文件已作为%s导入过（其他地区的批次），不能重复导入", kind)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check duplicate: %w", err)
	}
	return apperr.Conflictf("该文件已于 %s 由 %s 作为%s导入（批次 #%d，%s），不能重复导入",
		at.In(cst).Format("2006-01-02 15:04"), user, kind, id, name)
}

var cst = time.FixedZone("CST", 8*3600)

// Import runs one import by actor a into a region inside theirs. On any
// failure nothing of the batch remains but a 'failed' batch row saying why
// and its audit line; if even those cannot be written, the error says so.
func (im *Importer) Import(ctx context.Context, a actor.Actor, req Request, prog *Progress) (Result, error) {
	start := time.Now()
	if prog == nil {
		prog = &Progress{}
	}
	if err := a.CheckIn(actor.Import, req.Region, "区划 "+req.Region); err != nil {
		return Result{}, audit.Reject(ctx, im.db, audit.For(a, audit.ImportCreate, "file:"+fileName(req)), err)
	}
	res, err := im.importFile(ctx, a, req, prog, start)
	var replace *ReplaceError
	if errors.As(err, &replace) {
		return Result{}, err // waits for the user's confirmation; nothing failed
	}
	if err != nil {
		return Result{}, im.recordFailure(a, req, err)
	}
	return res, nil
}

func (im *Importer) importFile(ctx context.Context, a actor.Actor, req Request, prog *Progress, start time.Time) (Result, error) {
	if _, ok := source.ParseKind(string(req.Kind)); !ok {
		return Result{}, apperr.Invalidf("未知的数据类型：%s", req.Kind)
	}
	if err := checkExtractDate(extractDate(req), today()); err != nil {
		return Result{}, err
	}
	var steps Steps
	t := time.Now()
	if req.SHA256 == "" {
		sha, _, err := HashFile(req.Path)
		if err != nil {
			return Result{}, fileError(err)
		}
		req.SHA256 = sha
	}
	steps.Hash = time.Since(t)
	t = time.Now()
	if err := im.CheckDuplicate(ctx, req.Region, req.Kind, req.SHA256); err != nil {
		return Result{}, err
	}
	steps.Check = time.Since(t)
	rows, format, err := sheet.Open(req.Path, sheet.Options{})
	if err != nil {
		return Result{}, fileError(err)
	}
	defer rows.Close()
	h, err := readHeader(rows, req)
	if err != nil {
		return Result{}, err
	}
	h.format, h.sheet = format, rows.Sheet()
	return im.write(ctx, a, req, h, rows, prog, start, steps)
}

// header is the detected (or chosen) header and the rows read before it was
// found that lie below it and so are data.
type header struct {
	line     int
	cells    []string
	mapping  source.Mapping
	pending  [][]string
	pendLine []int
	format   sheet.Format
	sheet    string
}

func readHeader(rows sheet.Rows, req Request) (header, error) {
	var buf [][]string
	var lines []int
	for len(buf) < source.HeaderScanRows && rows.Next() {
		buf = append(buf, append([]string(nil), rows.Values()...))
		lines = append(lines, rows.Line())
	}
	if err := rows.Err(); err != nil {
		return header{}, fileError(err)
	}
	if len(buf) == 0 {
		return header{}, apperr.Invalidf("文件中没有数据")
	}
	idx, m := -1, req.Mapping
	if req.HeaderLine > 0 {
		for i, l := range lines {
			if l == req.HeaderLine {
				idx = i
			}
		}
		if idx < 0 {
			return header{}, apperr.Invalidf("表头行 %d 不在文件的前 %d 行中", req.HeaderLine, source.HeaderScanRows)
		}
		if m == nil {
			m = source.MatchHeader(buf[idx], req.Kind)
		}
	} else {
		i, found, reason, ok := source.FindHeader(buf, req.Kind)
		if !ok {
			return header{}, apperr.Invalidf("未找到%s的表头：%s", req.Kind, reason)
		}
		idx = i
		if m == nil {
			m = found
		}
	}
	if err := checkMapping(m, req.Kind); err != nil {
		return header{}, err
	}
	return header{line: lines[idx], cells: buf[idx], mapping: m, pending: buf[idx+1:], pendLine: lines[idx+1:]}, nil
}

// checkMapping refuses a mapping that cannot identify anyone or lacks a
// required field.
func checkMapping(m source.Mapping, kind source.Kind) error {
	_, id := m[source.KeyID]
	_, name := m[source.KeyName]
	if !id && !name {
		return apperr.Invalidf("列对应中缺少“公民身份号码”和“姓名”，至少需要其一")
	}
	for _, f := range source.Fields(kind) {
		if _, ok := m[f.Key]; f.Required && !ok {
			return apperr.Invalidf("列对应中缺少必需的列“%s”", f.Name)
		}
	}
	return nil
}

// write runs the whole import in one transaction: the batch row, the
// records COPYed into the batch's own partition, the issues, superseding
// older batches, and the audit line.
func (im *Importer) write(ctx context.Context, a actor.Actor, req Request, h header, rows sheet.Rows, prog *Progress, start time.Time, steps Steps) (Result, error) {
	t := time.Now()
	tx, err := im.db.Begin(ctx)
	if err != nil {
		return Result{}, err
	}
	defer tx.Rollback(ctx)
	id, err := insertBatch(ctx, tx, a, req, h)
	if err != nil {
		return Result{}, err
	}
	issues, err := newIssueLog(id, req.TempDir)
	if err != nil {
		return Result{}, err
	}
	defer issues.Close()
	conv := newConverter(req.Kind, id, req.Region, h.cells, h.mapping, issues)
	part := pgx.Identifier{fmt.Sprintf("source_record_%d", id)}
	if err := createPartition(ctx, tx, part, id); err != nil {
		return Result{}, err
	}
	pre := im.readPredecessor(ctx, req)
	defer pre.stop()
	src := &rowSource{rows: rows, conv: conv, prog: prog, pending: h.pending, pendLine: h.pendLine}
	n, err := copyRows(ctx, tx, part, src)
	if err != nil {
		return Result{}, err
	}
	steps.Copy, t = time.Since(t), time.Now()
	if err := attachPartition(ctx, tx, part, id); err != nil {
		return Result{}, err
	}
	steps.Attach, t = time.Since(t), time.Now()
	if err := issues.copyTo(ctx, tx); err != nil {
		return Result{}, err
	}
	if src.read == 0 {
		return Result{}, apperr.Invalidf("文件只有表头，没有数据行，未导入")
	}
	res := Result{BatchID: id, Read: src.read, Accepted: int(n), Rejected: conv.rejected, Marked: conv.marked}
	res.Source = req.Source
	if res.Source == "" {
		res.Source = defaultSource(req.Kind, conv.schemes)
	}
	if err := checkNotOlder(ctx, tx, req, res); err != nil {
		return Result{}, err
	}
	if err := checkReplace(ctx, tx, req, res); err != nil {
		return Result{}, err
	}
	res.Duration = time.Since(start)
	if res.Superseded, err = finishBatch(ctx, tx, req, res); err != nil {
		return Result{}, err
	}
	if err := recordChange(ctx, tx, pre, res.Superseded, id, conv.rows); err != nil {
		return Result{}, err
	}
	conv.rows = nil
	steps.Change, t = time.Since(t), time.Now()
	e := audit.For(a, audit.ImportCreate, "batch:"+strconv.FormatInt(id, 10))
	e.Detail = fmt.Sprintf("%s %s %s 读取%d 接收%d 拒绝%d", req.Kind, req.Region, req.FileName, res.Read, res.Accepted, res.Rejected)
	if err := audit.Record(ctx, tx, e); err != nil {
		return Result{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return Result{}, apperr.Conflictf("该文件正在或已经被导入，不能重复导入")
		}
		return Result{}, fmt.Errorf("commit batch: %w", err)
	}
	steps.Finish = time.Since(t)
	res.Steps = steps
	res.Duration = time.Since(start) // the batch row keeps the figure before its commit
	return res, nil
}

// defaultSource names the extract when the user did not: for enrollment
// files the schemes they hold (each scheme's system sends its own file),
// otherwise the kind itself.
func defaultSource(kind source.Kind, schemes map[string]bool) string {
	if kind != source.Enrollment || len(schemes) == 0 {
		return string(kind)
	}
	keys := make([]string, 0, len(schemes))
	for k := range schemes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, "+")
}

func insertBatch(ctx context.Context, tx pgx.Tx, a actor.Actor, req Request, h header) (int64, error) {
	mapping, _ := json.Marshal(h.mapping)
	st, err := os.Stat(req.Path)
	if err != nil {
		return 0, err
	}
	enc := ""
	if h.format == sheet.CSV {
		enc, _ = sheet.Encoding(req.Path)
	}
	const q = `
		INSERT INTO import_batch (kind, region_code, source, file_name, file_sha256, file_size, format, encoding,
		                          sheet, header_line, header, mapping, status, created_by, created_name, extract_date)
		VALUES ($1, $2, '', $3, $4, $5, $6, $7, $8, $9, $10, $11, 'done', $12, $13, $14)
		RETURNING id`
	var id int64
	err = tx.QueryRow(ctx, q, req.Kind, req.Region, fileName(req), req.SHA256, st.Size(), string(h.format), enc,
		h.sheet, h.line, h.cells, mapping, nullID(a.UserID), a.Username, extractDate(req)).Scan(&id)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return 0, apperr.Invalidf("区划 %s 不存在", req.Region)
	}
	if err != nil {
		return 0, fmt.Errorf("insert batch: %w", err)
	}
	return id, nil
}

func fileName(req Request) string {
	if req.FileName != "" {
		return req.FileName
	}
	return filepath.Base(req.Path)
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// createPartition makes a stand-alone table for the batch's rows. It is
// attached only after the COPY: creating a partition in place would lock
// source_record against readers for the whole import.
func createPartition(ctx context.Context, tx pgx.Tx, part pgx.Identifier, id int64) error {
	q := fmt.Sprintf(`CREATE TABLE %s (LIKE source_record INCLUDING DEFAULTS, CHECK (batch_id = %d))`, part.Sanitize(), id)
	if _, err := tx.Exec(ctx, q); err != nil {
		return fmt.Errorf("create partition: %w", err)
	}
	return nil
}

// attachPartition indexes the filled table and attaches it; the CHECK
// constraint spares PostgreSQL a validation scan. Lines arrive in file
// order, so a BRIN index finds a row by its line at almost no build cost.
func attachPartition(ctx context.Context, tx pgx.Tx, part pgx.Identifier, id int64) error {
	stmts := []string{
		fmt.Sprintf(`CREATE INDEX ON %s USING brin (batch_id, line) WITH (pages_per_range = 16)`, part.Sanitize()),
		// An incremental comparison finds the records of the few persons
		// touched since its base by this index (see batchdiff.Key).
		fmt.Sprintf(`CREATE INDEX %s ON %s (id_key)`, pgx.Identifier{batchdiff.KeyIndex(id)}.Sanitize(), part.Sanitize()),
		fmt.Sprintf(`ALTER TABLE source_record ATTACH PARTITION %s FOR VALUES IN (%d)`, part.Sanitize(), id),
	}
	for _, q := range stmts {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("attach partition: %w", err)
		}
	}
	return nil
}

// finishBatch stores the counts and marks older batches of the same extract
// as superseded by this one.
func finishBatch(ctx context.Context, tx pgx.Tx, req Request, res Result) ([]int64, error) {
	const q = `UPDATE import_batch SET source = $2, rows_read = $3, rows_accepted = $4, rows_rejected = $5, rows_marked = $6,
		duration_ms = $7 WHERE id = $1`
	if _, err := tx.Exec(ctx, q, res.BatchID, res.Source, res.Read, res.Accepted, res.Rejected, res.Marked, res.Duration.Milliseconds()); err != nil {
		return nil, fmt.Errorf("finish batch: %w", err)
	}
	const sup = `
		UPDATE import_batch SET superseded_by = $1
		WHERE kind = $2 AND region_code = $3 AND source = $4 AND status = 'done' AND superseded_by IS NULL AND id <> $1
		RETURNING id`
	rows, err := tx.Query(ctx, sup, res.BatchID, req.Kind, req.Region, res.Source)
	if err != nil {
		return nil, fmt.Errorf("supersede: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// recordFailure keeps a trace of a failed attempt (no records) for the batch
// list and the audit log, in one transaction of its own outside the failed
// one, and returns cause (or, if the trace cannot be written, why not).
func (im *Importer) recordFailure(a actor.Actor, req Request, cause error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var size int64
	if st, err := os.Stat(req.Path); err == nil {
		size = st.Size()
	}
	msg := apperr.Message(cause)
	e := audit.For(a, audit.ImportCreate, "file:"+fileName(req))
	e.Result, e.Detail = "failed", msg
	err := pgx.BeginFunc(ctx, im.db, func(tx pgx.Tx) error {
		// A batch row needs an existing region; an import refused for an
		// unknown region is only audited.
		const q = `INSERT INTO import_batch (kind, region_code, source, file_name, file_sha256, file_size, status, error, created_by, created_name,
		                                      extract_date)
			SELECT $1, $2, $3, $4, $5, $6, 'failed', $7, $8, $9, $10 WHERE EXISTS (SELECT 1 FROM region WHERE code = $2)`
		if _, err := tx.Exec(ctx, q, req.Kind, req.Region, req.Source, fileName(req), req.SHA256, size, msg, nullID(a.UserID), a.Username,
			extractDate(req)); err != nil {
			return fmt.Errorf("record failed import: %w", err)
		}
		return audit.Record(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("%w (after: %v)", err, cause)
	}
	return cause
}

// copyRows streams the file into the batch's table: the reader checks and
// encodes rows while the connection sends them, so the file is never held
// in memory and reading overlaps the server's work. The table was created
// in this transaction, so its rows go in frozen: the first reads of a new
// batch (deriving its events, the comparison) neither set hint bits on
// every page nor leave vacuum a million rows to visit.
func copyRows(ctx context.Context, tx pgx.Tx, part pgx.Identifier, src *rowSource) (int64, error) {
	cols := make([]string, len(copyColumns))
	for i, c := range copyColumns {
		cols[i] = pgx.Identifier{c}.Sanitize()
	}
	target := fmt.Sprintf(`%s (%s)`, part.Sanitize(), strings.Join(cols, ", "))
	n, err := pgcopy.FromFrozen(ctx, tx.Conn().PgConn(), target, src.encodeAll)
	if err != nil {
		return 0, fmt.Errorf("copy records: %w", err)
	}
	return n, nil
}

// rowSource reads rows (first those read while looking for the header),
// converts them and counts them.
type rowSource struct {
	rows     sheet.Rows
	conv     *converter
	prog     *Progress
	pending  [][]string
	pendLine []int
	read     int
}

func (s *rowSource) encodeAll(e *pgcopy.Encoder) error {
	for i, vals := range s.pending {
		s.one(s.pendLine[i], vals, e)
	}
	for s.rows.Next() {
		s.one(s.rows.Line(), s.rows.Values(), e)
		if err := e.Err(); err != nil {
			return err
		}
	}
	s.prog.Rows.Store(int64(s.read))
	if err := s.rows.Err(); err != nil {
		return fileError(err)
	}
	return nil
}

func (s *rowSource) one(line int, vals []string, e *pgcopy.Encoder) {
	s.read++
	if s.read&1023 == 0 {
		s.prog.Rows.Store(int64(s.read))
	}
	s.conv.convert(line, vals, e)
	e.FlushIfFull()
}

func itoa(n int) string { return strconv.Itoa(n) }
