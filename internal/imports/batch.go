package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/source"
)

// Batch is one import attempt as listed.
type Batch struct {
	ID                                   int64
	Kind, RegionCode, RegionName, Source string
	FileName, Format, Encoding, Sheet    string
	FileSize                             int64
	HeaderLine                           int
	Header                               []string
	Mapping                              source.Mapping
	Status, Error                        string
	Read, Accepted, Rejected, Marked     int
	SupersededBy                         *int64
	CreatedName                          string
	CreatedAt                            time.Time
	ExtractDate                          time.Time // the day the extract was taken (数据日期)
	DurationMS                           int
	WithdrawnAt                          *time.Time
	WithdrawnName                        string
}

// StatusLabel is the batch's state in Chinese.
func (b Batch) StatusLabel() string {
	switch {
	case b.Status == "failed":
		return "失败"
	case b.Status == "withdrawn":
		return "已撤回"
	case b.SupersededBy != nil:
		return "已被替代"
	}
	return "有效"
}

const batchCols = `b.id, b.kind, b.region_code, coalesce(r.name, ''), b.source, b.file_name, b.format, b.encoding, b.sheet,
	b.file_size, b.header_line, b.header, b.mapping, b.status, b.error, b.rows_read, b.rows_accepted, b.rows_rejected,
	b.rows_marked, b.superseded_by, b.created_name, b.created_at, b.extract_date, b.duration_ms, b.withdrawn_at, b.withdrawn_name`

func scanBatch(row pgx.Row) (Batch, error) {
	var b Batch
	var mapping []byte
	err := row.Scan(&b.ID, &b.Kind, &b.RegionCode, &b.RegionName, &b.Source, &b.FileName, &b.Format, &b.Encoding, &b.Sheet,
		&b.FileSize, &b.HeaderLine, &b.Header, &mapping, &b.Status, &b.Error, &b.Read, &b.Accepted, &b.Rejected,
		&b.Marked, &b.SupersededBy, &b.CreatedName, &b.CreatedAt, &b.ExtractDate, &b.DurationMS, &b.WithdrawnAt, &b.WithdrawnName)
	if err == nil {
		err = json.Unmarshal(mapping, &b.Mapping)
	}
	return b, err
}

// Filter selects batches in a list.
type Filter struct {
	Kind, Status string
}

// List returns a page of the batches inside the actor's region matching f,
// newest first.
func (im *Importer) List(ctx context.Context, a actor.Actor, f Filter, q list.Query) (list.Page[Batch], error) {
	if err := a.Check(actor.ImportRead); err != nil {
		return list.Page[Batch]{}, err
	}
	where := ` FROM import_batch b LEFT JOIN region r ON r.code = b.region_code
		WHERE ` + actor.InScope("b.region_code", "$1") + ` AND ($2 = '' OR b.kind = $2) AND ($3 = '' OR b.status = $3)`
	var total int
	if err := im.db.QueryRow(ctx, `SELECT count(*)`+where, a.Region, f.Kind, f.Status).Scan(&total); err != nil {
		return list.Page[Batch]{}, fmt.Errorf("count batches: %w", err)
	}
	rows, err := im.db.Query(ctx, `SELECT `+batchCols+where+` ORDER BY b.id DESC LIMIT $4 OFFSET $5`,
		a.Region, f.Kind, f.Status, q.Limit(), q.Offset())
	if err != nil {
		return list.Page[Batch]{}, fmt.Errorf("list batches: %w", err)
	}
	batches, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Batch, error) { return scanBatch(r) })
	return list.Of(batches, total, q), err
}

// Get returns one batch inside the actor's region.
func (im *Importer) Get(ctx context.Context, a actor.Actor, id int64) (Batch, error) {
	if err := a.Check(actor.ImportRead); err != nil {
		return Batch{}, err
	}
	b, err := scanBatch(im.db.QueryRow(ctx, `SELECT `+batchCols+` FROM import_batch b LEFT JOIN region r ON r.code = b.region_code
		WHERE b.id = $1 AND `+actor.InScope("b.region_code", "$2"), id, a.Region))
	if errors.Is(err, pgx.ErrNoRows) {
		return Batch{}, apperr.NotFoundf("导入批次 #%d 不存在", id)
	}
	if err != nil {
		return Batch{}, fmt.Errorf("batch %d: %w", id, err)
	}
	return b, nil
}

// Issues returns the rejected rows and warnings of a batch inside the
// actor's region in row order, a page at a time (the zero Query: all of
// them, for the report).
func (im *Importer) Issues(ctx context.Context, a actor.Actor, id int64, lq list.Query) (list.Page[Issue], error) {
	if _, err := im.Get(ctx, a, id); err != nil {
		return list.Page[Issue]{}, err
	}
	var total int
	if err := im.db.QueryRow(ctx, `SELECT count(*) FROM import_issue WHERE batch_id = $1`, id).Scan(&total); err != nil {
		return list.Page[Issue]{}, err
	}
	q := `SELECT line, rejected, col, value, reason FROM import_issue WHERE batch_id = $1 ORDER BY line, rejected DESC, col`
	args := []any{id}
	if lq.Limit() > 0 {
		q += ` LIMIT $2 OFFSET $3`
		args = append(args, lq.Limit(), lq.Offset())
	}
	rows, err := im.db.Query(ctx, q, args...)
	if err != nil {
		return list.Page[Issue]{}, fmt.Errorf("issues of %d: %w", id, err)
	}
	issues, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Issue])
	return list.Of(issues, total, lq), err
}

// Record is an accepted row as listed (the ID is masked by the caller).
type Record struct {
	Line               int
	IDNorm, IDDamage   string
	Name, Sex          string
	Birth              *time.Time
	RegionCode, Scheme string
}

// Records lists the accepted rows of a batch inside the actor's region,
// optionally those whose name or ID starts with q, a page at a time.
func (im *Importer) Records(ctx context.Context, a actor.Actor, id int64, q string, lq list.Query) (list.Page[Record], error) {
	if _, err := im.Get(ctx, a, id); err != nil {
		return list.Page[Record]{}, err
	}
	const where = ` FROM source_record WHERE batch_id = $1 AND ($2 = '' OR name LIKE $2 || '%' OR id_norm LIKE $2 || '%')`
	const cols = `SELECT line, coalesce(id_norm, ''), coalesce(id_damage, 'ok'), coalesce(name, ''), coalesce(sex, ''),
		birth, coalesce(region_code, ''), coalesce(scheme, '')`
	var total int
	if err := im.db.QueryRow(ctx, `SELECT count(*)`+where, id, q).Scan(&total); err != nil {
		return list.Page[Record]{}, fmt.Errorf("count records: %w", err)
	}
	rows, err := im.db.Query(ctx, cols+where+
		` ORDER BY line LIMIT $3 OFFSET $4`, id, q, lq.Limit(), lq.Offset())
	if err != nil {
		return list.Page[Record]{}, fmt.Errorf("records: %w", err)
	}
	records, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Record])
	return list.Of(records, total, lq), err
}

// Withdraw takes a batch inside the actor's region out of comparison (its
// rows stay viewable) and lets the batch it had superseded count again. The
// change and its audit line commit together; a refusal is audited too.
func (im *Importer) Withdraw(ctx context.Context, a actor.Actor, id int64) error {
	e := audit.For(a, audit.ImportWithdraw, "batch:"+strconv.FormatInt(id, 10))
	if err := im.withdraw(ctx, a, id, e); err != nil {
		return audit.Reject(ctx, im.db, e, err)
	}
	return nil
}

func (im *Importer) withdraw(ctx context.Context, a actor.Actor, id int64, e audit.Entry) error {
	if err := a.Check(actor.BatchWithdraw); err != nil {
		return err
	}
	b, err := im.Get(ctx, a, id)
	if err != nil {
		return err
	}
	if b.Status != "done" {
		return apperr.Invalidf("只有导入成功的批次可以撤回")
	}
	tx, err := im.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `UPDATE import_batch SET status = 'withdrawn', withdrawn_at = now(), withdrawn_name = $2 WHERE id = $1`, id, a.Username); err != nil {
		return fmt.Errorf("withdraw %d: %w", id, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE import_batch SET superseded_by = NULL WHERE superseded_by = $1`, id); err != nil {
		return fmt.Errorf("withdraw %d: %w", id, err)
	}
	e.Detail = b.Kind + " " + b.FileName
	if err := audit.Record(ctx, tx, e); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Template is a saved column mapping: field key → header text.
type Template struct {
	ID      int64
	Name    string
	Mapping map[string]string
}

// SaveTemplate stores (or replaces) a named mapping for a kind in the
// actor's region.
func (im *Importer) SaveTemplate(ctx context.Context, a actor.Actor, kind source.Kind, name string, header []string, m source.Mapping) error {
	if err := a.Check(actor.Import); err != nil {
		return err
	}
	byName := map[string]string{}
	for k, i := range m {
		if i >= 0 && i < len(header) {
			byName[k] = header[i]
		}
	}
	js, _ := json.Marshal(byName)
	const q = `INSERT INTO import_template (region_code, kind, name, mapping, created_by) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (region_code, kind, name) DO UPDATE SET mapping = excluded.mapping, created_by = excluded.created_by, created_at = now()`
	if _, err := im.db.Exec(ctx, q, a.Region, kind, name, js, nullID(a.UserID)); err != nil {
		return fmt.Errorf("save template: %w", err)
	}
	return nil
}

// Templates lists the mappings saved for kind in the actor's region or
// above it.
func (im *Importer) Templates(ctx context.Context, a actor.Actor, kind source.Kind) ([]Template, error) {
	q := `SELECT id, name, mapping FROM import_template WHERE kind = $2 AND ` + actor.InScope("$1", "region_code") + ` ORDER BY name`
	rows, err := im.db.Query(ctx, q, a.Region, kind)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Template, error) {
		var t Template
		var js []byte
		err := r.Scan(&t.ID, &t.Name, &js)
		if err == nil {
			err = json.Unmarshal(js, &t.Mapping)
		}
		return t, err
	})
}

// Apply maps a template onto a header: each field goes to the column whose
// text the template names.
func (t Template) Apply(header []string) source.Mapping {
	m := source.Mapping{}
	for k, name := range t.Mapping {
		for i, h := range header {
			if h == name {
				m[k] = i
				break
			}
		}
	}
	return m
}
