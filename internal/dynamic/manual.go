package dynamic

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/registry"
	"github.com/canbao/canbao/internal/source"
)

// ChangeKind is the kind of a change registered by hand.
type ChangeKind string

// The kinds of manual change.
const (
	Correct ChangeKind = "change" // 变更登记: name, address, phone, household corrected
	Cancel  ChangeKind = "cancel" // 注销登记: death or emigration
)

// Label is the kind's Chinese name.
func (k ChangeKind) Label() string {
	if k == Cancel {
		return "注销登记"
	}
	return "变更登记"
}

// Cancellation reasons of a 注销登记.
const (
	CancelDeath      = "death"
	CancelEmigration = "emigration"
)

// ChangeState is where a manual change stands.
type ChangeState string

// The manual change states.
const (
	ChangePending  ChangeState = "pending"
	ChangeApproved ChangeState = "approved"
	ChangeRejected ChangeState = "rejected"
)

// Label is the state's Chinese name.
func (s ChangeState) Label() string {
	switch s {
	case ChangePending:
		return "待审核"
	case ChangeApproved:
		return "已审核入库"
	case ChangeRejected:
		return "已退回"
	}
	return string(s)
}

// MaxDocument bounds a scanned document.
const MaxDocument = 5 << 20

// documentTypes are the scans accepted, by their sniffed content type.
var documentTypes = map[string]string{"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}

// Document is a scanned document behind a change.
type Document struct {
	FileName    string
	ContentType string
	Size        int
	SHA256      string
	Content     []byte
}

// ChangeRequest is a change a clerk registers: for Correct, the fields
// given (not empty) replace the registry's; for Cancel, CancelReason says
// death or emigration.
type ChangeRequest struct {
	IDNumber                        string
	Kind                            ChangeKind
	Name, Address, Phone, Household string
	CancelReason                    string
	Effective                       time.Time
	Reason                          string
	DocumentName                    string // the scan's file name as uploaded
	DocumentData                    []byte // the scan, optional

	documentType, documentSHA256 string
	changes, oldValues           map[string]string
	personRegion                 string
}

// Change is a manual change as listed and shown.
type Change struct {
	ID                       int64
	IDNumber, Name           string // the person's ID and name when the change was made
	Region, RegionName       string
	Kind                     ChangeKind
	Changes, Old             map[string]string // column → value
	Effective                time.Time
	Reason                   string
	State                    ChangeState
	MadeBy                   *int64
	MadeName                 string
	MadeAt                   time.Time
	DecidedName, Note        string
	DecidedAt                *time.Time
	DocName, DocType, DocSHA string
	DocSize                  int
}

var phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 -]{5,19}$`)

// validate checks a request and works out its changes against the entry.
func (req *ChangeRequest) validate(p registry.Person, today time.Time) error {
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Reason == "" {
		return apperr.Invalidf("请填写变更原因")
	}
	if utf8.RuneCountInString(req.Reason) > 500 {
		return apperr.Invalidf("变更原因不能超过 500 字")
	}
	if req.Effective.IsZero() {
		return apperr.Invalidf("请填写生效日期（YYYY-MM-DD）")
	}
	if req.Effective.After(today) {
		return apperr.Invalidf("生效日期不能晚于今天")
	}
	old := map[registry.Field]string{registry.Name: p.Name, registry.Address: p.Address, registry.Phone: p.Phone,
		registry.Household: p.Household, registry.PopStatus: p.PopStatus}
	if p.DeathDate != nil {
		old[registry.DeathDate] = p.DeathDate.Format("2006-01-02")
	}
	changes := map[registry.Field]string{}
	switch req.Kind {
	case Correct:
		given := []struct {
			f   registry.Field
			v   string
			max int
		}{{registry.Name, req.Name, 50}, {registry.Address, req.Address, 200}, {registry.Phone, req.Phone, 20}, {registry.Household, req.Household, 50}}
		for _, g := range given {
			v := strings.TrimSpace(g.v)
			if v == "" || v == old[g.f] {
				continue
			}
			if utf8.RuneCountInString(v) > g.max {
				return apperr.Invalidf("%s不能超过 %d 个字", g.f.Label(), g.max)
			}
			changes[g.f] = v
		}
		if v, ok := changes[registry.Phone]; ok && !phonePattern.MatchString(v) {
			return apperr.Invalidf("联系电话格式不正确：%s", v)
		}
		if len(changes) == 0 {
			return apperr.Invalidf("没有需要变更的内容：请至少填写一项与登记库不同的新值")
		}
	case Cancel:
		if p.PopStatus == source.PopDead || p.PopStatus == source.PopMovedOut || p.PopStatus == source.PopCancelled {
			if req.CancelReason != CancelDeath || p.PopStatus != source.PopDead {
				return apperr.Conflictf("该人员已是“%s”状态，无需注销登记", p.PopStatus)
			}
		}
		switch req.CancelReason {
		case CancelDeath:
			changes[registry.PopStatus] = source.PopDead
			changes[registry.DeathDate] = req.Effective.Format("2006-01-02")
			if old[registry.DeathDate] == changes[registry.DeathDate] && p.PopStatus == source.PopDead {
				return apperr.Invalidf("登记库中的死亡日期已是 %s", changes[registry.DeathDate])
			}
		case CancelEmigration:
			changes[registry.PopStatus] = source.PopMovedOut
		default:
			return apperr.Invalidf("请选择注销原因（死亡或迁出）")
		}
	default:
		return apperr.Invalidf("未知的变更类型")
	}
	req.changes, req.oldValues = map[string]string{}, map[string]string{}
	for f, v := range changes {
		req.changes[f.Column()] = v
		req.oldValues[f.Column()] = old[f]
	}
	req.personRegion = p.RegionCode
	return req.checkDocument()
}

// checkDocument checks the optional scan by its bytes, not its name.
func (req *ChangeRequest) checkDocument() error {
	if len(req.DocumentData) == 0 {
		return nil
	}
	if len(req.DocumentData) > MaxDocument {
		return apperr.Invalidf("证明材料不能超过 %d MB", MaxDocument>>20)
	}
	t := http.DetectContentType(req.DocumentData)
	if _, ok := documentTypes[t]; !ok {
		return apperr.Invalidf("证明材料只接受 PDF、JPEG 或 PNG 扫描件（该文件为 %s）", t)
	}
	name := strings.TrimSpace(req.DocumentName)
	if name == "" {
		name = "证明材料"
	}
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200])
	}
	sum := sha256.Sum256(req.DocumentData)
	req.DocumentName, req.documentType, req.documentSHA256 = name, t, hex.EncodeToString(sum[:])
	return nil
}

// Register records a change by actor a (the maker) for a person inside
// their region; it waits for another user's approval before it reaches
// the registry. The change, its document and its audit line commit
// together; a refusal is audited too.
func (s *Store) Register(ctx context.Context, a actor.Actor, req ChangeRequest) (int64, error) {
	e := audit.For(a, AuditChangeCreate, "person:"+req.IDNumber)
	id, err := s.register(ctx, a, req, e)
	if err != nil {
		return 0, audit.Reject(ctx, s.db, e, err)
	}
	return id, nil
}

func (s *Store) register(ctx context.Context, a actor.Actor, req ChangeRequest, e audit.Entry) (int64, error) {
	if err := a.Check(actor.RegistryChange); err != nil {
		return 0, err
	}
	p, err := s.person(ctx, a, req.IDNumber)
	if err != nil {
		return 0, err
	}
	if err := req.validate(p, source.Day(time.Now())); err != nil {
		return 0, err
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	// One open change per person: a second would be checked against values
	// the first is about to change.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7012, hashtext($1))`, req.IDNumber); err != nil {
		return 0, fmt.Errorf("register change: %w", err)
	}
	var open int64
	err = tx.QueryRow(ctx, `SELECT id FROM manual_change WHERE id_number = $1 AND state = 'pending' LIMIT 1`, req.IDNumber).Scan(&open)
	if err == nil {
		return 0, apperr.Conflictf("该人员已有待审核的变更登记 #%d，请待其审核后再登记", open)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("register change: %w", err)
	}
	changes, _ := json.Marshal(req.changes)
	old, _ := json.Marshal(req.oldValues)
	const q = `
		INSERT INTO manual_change (id_number, region_code, kind, changes, old_values, effective, reason, state, made_by, made_name)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9) RETURNING id`
	var id int64
	if err := tx.QueryRow(ctx, q, req.IDNumber, req.personRegion, req.Kind, changes, old, req.Effective, req.Reason,
		nullID(a.UserID), a.Username).Scan(&id); err != nil {
		return 0, fmt.Errorf("register change: %w", err)
	}
	if len(req.DocumentData) > 0 {
		const d = `INSERT INTO manual_change_document (change_id, file_name, content_type, size, sha256, content) VALUES ($1, $2, $3, $4, $5, $6)`
		if _, err := tx.Exec(ctx, d, id, req.DocumentName, req.documentType, len(req.DocumentData), req.documentSHA256, req.DocumentData); err != nil {
			return 0, fmt.Errorf("store document: %w", err)
		}
	}
	e.Object = "change:" + strconv.FormatInt(id, 10)
	e.Detail = fmt.Sprintf("%s %s %s", req.Kind.Label(), idcard.Mask(req.IDNumber), strings.Join(changedLabels(req.changes), "、"))
	if err := audit.Record(ctx, tx, e); err != nil {
		return 0, err
	}
	return id, tx.Commit(ctx)
}

// person reads the entry inside a's region without auditing a full-record
// read: the change records its own audit line.
func (s *Store) person(ctx context.Context, a actor.Actor, id string) (registry.Person, error) {
	return registry.NewStore(s.db).Entry(ctx, a.Region, id)
}

func changedLabels(m map[string]string) []string {
	var out []string
	for _, c := range changeColumns {
		if _, ok := m[c]; ok {
			out = append(out, registry.FieldLabel(c))
		}
	}
	return out
}

// changeColumns are the columns a manual change may set, in display order.
var changeColumns = []string{"name", "address", "phone", "household", "pop_status", "death_date"}

// ChangeColumns lists the columns of a change in display order.
func ChangeColumns(m map[string]string) []string {
	var out []string
	for _, c := range changeColumns {
		if _, ok := m[c]; ok {
			out = append(out, c)
		}
	}
	return out
}

// Approve applies a pending change inside the actor's region to the
// registry and marks it approved. Its maker may not approve it: maker and
// checker are two people (refused, and audited, in Chinese).
func (s *Store) Approve(ctx context.Context, a actor.Actor, id int64, note string) error {
	return s.review(ctx, a, id, note, true)
}

// Return refuses a pending change inside the actor's region with a note;
// the registry is left as it is. Its maker may not decide it either.
func (s *Store) Return(ctx context.Context, a actor.Actor, id int64, note string) error {
	return s.review(ctx, a, id, note, false)
}

func (s *Store) review(ctx context.Context, a actor.Actor, id int64, note string, approve bool) error {
	action := AuditChangeReject
	if approve {
		action = AuditChangeApprov
	}
	e := audit.For(a, action, "change:"+strconv.FormatInt(id, 10))
	if err := s.reviewTx(ctx, a, id, note, approve, e); err != nil {
		return audit.Reject(ctx, s.db, e, err)
	}
	return nil
}

func (s *Store) reviewTx(ctx context.Context, a actor.Actor, id int64, note string, approve bool, e audit.Entry) error {
	if err := a.Check(actor.RegistryApprove); err != nil {
		return err
	}
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > 500 {
		return apperr.Invalidf("审核意见不能超过 500 字")
	}
	if !approve && note == "" {
		return apperr.Invalidf("退回时请填写审核意见")
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	c, err := change(ctx, tx, a, id, true)
	if err != nil {
		return err
	}
	if c.State != ChangePending {
		return apperr.Conflictf("变更登记 #%d 已处理（%s），不能重复审核", id, c.State.Label())
	}
	if (c.MadeBy != nil && *c.MadeBy == a.UserID) || (c.MadeBy == nil && c.MadeName == a.Username) {
		return apperr.Forbiddenf("不能审核自己登记的变更：登记与审核须由不同人员完成，请由其他审核人员审核")
	}
	state := ChangeRejected
	if approve {
		state = ChangeApproved
		if err := applyChange(ctx, tx, a, c); err != nil {
			return err
		}
	}
	const q = `UPDATE manual_change SET state = $2, decided_by = $3, decided_name = $4, decided_at = now(), decision_note = $5 WHERE id = $1`
	if _, err := tx.Exec(ctx, q, id, state, nullID(a.UserID), a.Username, note); err != nil {
		return fmt.Errorf("review change %d: %w", id, err)
	}
	e.Detail = fmt.Sprintf("%s %s 登记人 %s %s", c.Kind.Label(), idcard.Mask(c.IDNumber), c.MadeName, note)
	if err := audit.Record(ctx, tx, e); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// applyChange hands an approved change to the registry: the change is the
// source, the approver the actor.
func applyChange(ctx context.Context, tx pgx.Tx, a actor.Actor, c Change) error {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM person WHERE id_number = $1 AND `+actor.InScope("region_code", "$2")+`)`,
		c.IDNumber, a.Region).Scan(&exists); err != nil {
		return fmt.Errorf("approve change %d: %w", c.ID, err)
	}
	if !exists {
		return apperr.NotFoundf("登记库中没有该人员")
	}
	values := map[registry.Field]string{}
	for col, v := range c.Changes {
		f, ok := registry.FieldOf(col)
		if !ok {
			return fmt.Errorf("approve change %d: unknown column %q", c.ID, col)
		}
		values[f] = v
	}
	_, err := registry.Apply(ctx, tx, registry.ChangeSet{
		Source:    registry.Source{Kind: registry.Manual, ID: c.ID},
		Actor:     a.UserID,
		Effective: c.Effective,
		Persons:   registry.NewEntries(registry.Entry{ID: c.IDNumber, Values: values}),
	})
	return err
}

const changeCols = `c.id, c.id_number, coalesce(c.old_values->>'name', p.name, ''), c.region_code, coalesce(r.name, ''), c.kind,
	c.changes, c.old_values, c.effective, c.reason, c.state, c.made_by, c.made_name, c.made_at, c.decided_name, c.decision_note,
	c.decided_at, coalesce(d.file_name, ''), coalesce(d.content_type, ''), coalesce(d.sha256, ''), coalesce(d.size, 0)`

const changeFrom = ` FROM manual_change c LEFT JOIN person p ON p.id_number = c.id_number LEFT JOIN region r ON r.code = c.region_code
	LEFT JOIN manual_change_document d ON d.change_id = c.id`

func scanChange(row pgx.CollectableRow) (Change, error) {
	var c Change
	var changes, old []byte
	err := row.Scan(&c.ID, &c.IDNumber, &c.Name, &c.Region, &c.RegionName, &c.Kind, &changes, &old, &c.Effective, &c.Reason,
		&c.State, &c.MadeBy, &c.MadeName, &c.MadeAt, &c.DecidedName, &c.Note, &c.DecidedAt, &c.DocName, &c.DocType, &c.DocSHA, &c.DocSize)
	if err == nil {
		err = json.Unmarshal(changes, &c.Changes)
	}
	if err == nil {
		err = json.Unmarshal(old, &c.Old)
	}
	return c, err
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// change reads one change inside a's region, locked for update when lock.
func change(ctx context.Context, db querier, a actor.Actor, id int64, lock bool) (Change, error) {
	q := `SELECT ` + changeCols + changeFrom + ` WHERE c.id = $1 AND ` + actor.InScope("c.region_code", "$2")
	if lock {
		q += ` FOR UPDATE OF c`
	}
	rows, err := db.Query(ctx, q, id, a.Region)
	if err != nil {
		return Change{}, fmt.Errorf("change %d: %w", id, err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanChange)
	if errors.Is(err, pgx.ErrNoRows) {
		return Change{}, apperr.NotFoundf("变更登记 #%d 不存在", id)
	}
	if err != nil {
		return Change{}, fmt.Errorf("change %d: %w", id, err)
	}
	return c, nil
}

// Change returns one change inside the actor's region in full (the old
// and new values are personal data: the read is audited).
func (s *Store) Change(ctx context.Context, a actor.Actor, id int64) (Change, error) {
	if err := a.Check(actor.PersonRead); err != nil {
		return Change{}, err
	}
	c, err := change(ctx, s.db, a, id, false)
	if err != nil {
		return c, err
	}
	if err := audit.Record(ctx, s.db, audit.For(a, audit.RecordView, "change:"+strconv.FormatInt(id, 10))); err != nil {
		return Change{}, err
	}
	return c, nil
}

// ChangeSpec is the changes list's parameters.
var ChangeSpec = list.Spec{Filters: []string{"state", "kind"}}

// Changes returns a page of the changes inside the actor's region, newest
// first (the caller masks the IDs).
func (s *Store) Changes(ctx context.Context, a actor.Actor, q list.Query) (list.Page[Change], error) {
	if err := a.Check(actor.PersonRead); err != nil {
		return list.Page[Change]{}, err
	}
	state, kind := q.Filter("state"), q.Filter("kind")
	where := ` WHERE ` + actor.InScope("c.region_code", "$1") + ` AND ($2 = '' OR c.state = $2) AND ($3 = '' OR c.kind = $3)`
	var total int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM manual_change c`+where, a.Region, state, kind).Scan(&total); err != nil {
		return list.Page[Change]{}, fmt.Errorf("count changes: %w", err)
	}
	rows, err := s.db.Query(ctx, `SELECT `+changeCols+changeFrom+where+` ORDER BY c.id DESC LIMIT $4 OFFSET $5`,
		a.Region, state, kind, q.Limit(), q.Offset())
	if err != nil {
		return list.Page[Change]{}, fmt.Errorf("list changes: %w", err)
	}
	changes, err := pgx.CollectRows(rows, scanChange)
	return list.Of(changes, total, q), err
}

// Document returns a change's scanned document inside the actor's region;
// the read is audited.
func (s *Store) Document(ctx context.Context, a actor.Actor, id int64) (Document, error) {
	if err := a.Check(actor.PersonRead); err != nil {
		return Document{}, err
	}
	if _, err := change(ctx, s.db, a, id, false); err != nil {
		return Document{}, err
	}
	var d Document
	err := s.db.QueryRow(ctx, `SELECT file_name, content_type, size, sha256, content FROM manual_change_document WHERE change_id = $1`, id).
		Scan(&d.FileName, &d.ContentType, &d.Size, &d.SHA256, &d.Content)
	if errors.Is(err, pgx.ErrNoRows) {
		return Document{}, apperr.NotFoundf("变更登记 #%d 没有证明材料", id)
	}
	if err != nil {
		return Document{}, fmt.Errorf("document %d: %w", id, err)
	}
	if err := audit.Record(ctx, s.db, audit.For(a, AuditDocumentRead, "change:"+strconv.FormatInt(id, 10))); err != nil {
		return Document{}, err
	}
	return d, nil
}
