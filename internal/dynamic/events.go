package dynamic

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/source"
)

// Audit actions of this package.
const (
	AuditEventConfirm = "event.confirm"
	AuditEventReject  = "event.reject"
	AuditChangeCreate = "change.create"
	AuditChangeApprov = "change.approve"
	AuditChangeReject = "change.reject"
	AuditDocumentRead = "change.document"
)

// EventSpec is the events list's parameters: region (inside the viewer's),
// kind, state, batch, the effective dates from and to (YYYY-MM-DD) and the
// kind of the extract the events came from (source, e.g. 居住人口).
var EventSpec = list.Spec{Filters: []string{"region", "kind", "state", "batch", "from", "to", "source"}}

// Events returns a page of the events inside the actor's region matching
// the query's filters, newest first. A bad filter value is refused in
// Chinese.
func (s *Store) Events(ctx context.Context, a actor.Actor, q list.Query) (list.Page[Event], error) {
	if err := a.Check(actor.ImportRead); err != nil {
		return list.Page[Event]{}, err
	}
	reg := a.Region
	if f := q.Filter("region"); f != "" {
		if !a.Sees(f) {
			return list.Page[Event]{}, apperr.NotFoundf("区划 %s 不存在", f)
		}
		reg = f
	}
	kind, state := q.Filter("kind"), q.Filter("state")
	if kind != "" && Kind(kind).Label() == kind {
		return list.Page[Event]{}, apperr.Invalidf("未知的变化类型：%s", kind)
	}
	if state != "" && State(state).Label() == state {
		return list.Page[Event]{}, apperr.Invalidf("未知的处理状态：%s", state)
	}
	src := q.Filter("source")
	if src != "" {
		k, ok := source.ParseKind(src)
		if !ok {
			return list.Page[Event]{}, apperr.Invalidf("未知的数据类型：%s", src)
		}
		src = string(k)
	}
	var batch int64
	if f := q.Filter("batch"); f != "" {
		var err error
		if batch, err = strconv.ParseInt(f, 10, 64); err != nil {
			return list.Page[Event]{}, apperr.Invalidf("批次号应为数字：%s", f)
		}
	}
	from, err := dateFilter(q.Filter("from"))
	if err != nil {
		return list.Page[Event]{}, err
	}
	to, err := dateFilter(q.Filter("to"))
	if err != nil {
		return list.Page[Event]{}, err
	}
	where := ` WHERE ` + actor.InScope("e.region_code", "$1") + ` AND ($2 = '' OR e.kind = $2) AND ($3 = '' OR e.state = $3)
		AND ($4 = 0 OR e.batch_id = $4) AND ($5::date IS NULL OR e.effective >= $5) AND ($6::date IS NULL OR e.effective <= $6)
		AND ($7 = '' OR e.batch_id IN (SELECT id FROM import_batch WHERE kind = $7))`
	args := []any{reg, kind, state, batch, from, to, src}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM extract_event e`+where, args...).Scan(&total); err != nil {
		return list.Page[Event]{}, fmt.Errorf("count events: %w", err)
	}
	rows, err := s.db.Query(ctx, `SELECT `+eventCols+eventFrom+where+` ORDER BY e.id DESC LIMIT $8 OFFSET $9`,
		append(args, q.Limit(), q.Offset())...)
	if err != nil {
		return list.Page[Event]{}, fmt.Errorf("list events: %w", err)
	}
	events, err := pgx.CollectRows(rows, scanEvent)
	if err != nil {
		return list.Page[Event]{}, fmt.Errorf("list events: %w", err)
	}
	return list.Of(events, total, q), nil
}

func dateFilter(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return nil, apperr.Invalidf("日期格式应为 YYYY-MM-DD：%s", s)
	}
	return &t, nil
}

// Counts are a region's events by state.
type Counts map[State]int

// Counts counts the events inside the actor's region by state.
func (s *Store) Counts(ctx context.Context, a actor.Actor) (Counts, error) {
	if err := a.Check(actor.ImportRead); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT state, count(*) FROM extract_event e WHERE `+actor.InScope("e.region_code", "$1")+` GROUP BY state`, a.Region)
	if err != nil {
		return nil, fmt.Errorf("count events: %w", err)
	}
	out := Counts{}
	var st State
	var n int
	_, err = pgx.ForEachRow(rows, []any{&st, &n}, func() error { out[st] = n; return nil })
	return out, err
}

// Confirm applies a pending event inside the actor's region to the
// registry (the extract batch its source, the actor its author) and marks
// it applied; the change and its audit line commit together, a refusal is
// audited too.
func (s *Store) Confirm(ctx context.Context, a actor.Actor, id int64) error {
	return s.decide(ctx, a, id, true)
}

// Reject marks a pending event inside the actor's region rejected; the
// registry is left as it is.
func (s *Store) Reject(ctx context.Context, a actor.Actor, id int64) error {
	return s.decide(ctx, a, id, false)
}

func (s *Store) decide(ctx context.Context, a actor.Actor, id int64, confirm bool) error {
	action := AuditEventReject
	if confirm {
		action = AuditEventConfirm
	}
	e := audit.For(a, action, "event:"+strconv.FormatInt(id, 10))
	if err := s.decideTx(ctx, a, id, confirm, e); err != nil {
		return audit.Reject(ctx, s.db, e, err)
	}
	return nil
}

func (s *Store) decideTx(ctx context.Context, a actor.Actor, id int64, confirm bool, e audit.Entry) error {
	if err := a.Check(actor.RegistryChange); err != nil {
		return err
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	// Two clerks deciding one event take turns; the second finds it decided.
	if _, err := tx.Exec(ctx, `SELECT 1 FROM extract_event WHERE id = $1 FOR UPDATE`, id); err != nil {
		return fmt.Errorf("decide event %d: %w", id, err)
	}
	events, err := loadEvents(ctx, tx, `e.id = $1 AND `+actor.InScope("e.region_code", "$2"), id, a.Region)
	if err != nil {
		return err
	}
	if len(events) == 0 {
		return apperr.NotFoundf("变化 #%d 不存在", id)
	}
	ev := events[0]
	if ev.State != Pending {
		return apperr.Conflictf("变化 #%d 已处理（%s），不能重复处理", id, ev.State.Label())
	}
	state := Rejected
	if confirm {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM import_batch WHERE id = $1`, ev.Batch).Scan(&status); err != nil {
			return fmt.Errorf("decide event %d: %w", id, err)
		}
		if status != "done" {
			return apperr.Conflictf("变化 #%d 所属的导入批次 #%d 已撤回，不能确认入库，只能驳回", id, ev.Batch)
		}
		state = Applied
		if err := applyEvents(ctx, tx, events, a.UserID); err != nil {
			return err
		}
	}
	const q = `UPDATE extract_event SET state = $2, decided_by = $3, decided_name = $4, decided_at = now() WHERE id = $1`
	if _, err := tx.Exec(ctx, q, id, state, nullID(a.UserID), a.Username); err != nil {
		return fmt.Errorf("decide event %d: %w", id, err)
	}
	e.Detail = fmt.Sprintf("%s %s %s", ev.Label(), idcard.Mask(ev.IDNumber), ev.Effective.Format("2006-01-02"))
	if err := audit.Record(ctx, tx, e); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Event returns one event inside the actor's region.
func (s *Store) Event(ctx context.Context, a actor.Actor, id int64) (Event, error) {
	if err := a.Check(actor.ImportRead); err != nil {
		return Event{}, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+eventCols+eventFrom+` WHERE e.id = $1 AND `+actor.InScope("e.region_code", "$2"), id, a.Region)
	if err != nil {
		return Event{}, fmt.Errorf("event %d: %w", id, err)
	}
	ev, err := pgx.CollectExactlyOneRow(rows, scanEvent)
	if errors.Is(err, pgx.ErrNoRows) {
		return Event{}, apperr.NotFoundf("变化 #%d 不存在", id)
	}
	return ev, err
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
