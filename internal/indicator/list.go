package indicator

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/list"
)

// PersonRow is a person in an indicator's list (the caller masks the ID).
type PersonRow struct {
	IDNumber, Name, RegionCode string
}

// Filter narrows a part's list: to one bucket of the statistics of the
// not insured (Dim and Value both set).
type Filter struct {
	Dim, Value string
}

// Store reads the indicators for the web layer, always for an actor and
// inside their region.
type Store struct {
	db  *pgxpool.Pool
	now func() time.Time
}

// NewStore returns a Store over db.
func NewStore(db *pgxpool.Pool) *Store { return &Store{db: db, now: time.Now} }

// Persons lists the persons of part in region (inside the actor's) as of
// the end of day (zero: today), found by the same facts as that day's
// snapshot, in region then ID order.
func (st *Store) Persons(ctx context.Context, a actor.Actor, region string, day time.Time, part Part, f Filter, lq list.Query) (list.Page[PersonRow], error) {
	if err := a.CheckIn(actor.ReportRead, region, "区划 "+region); err != nil {
		return list.Page[PersonRow]{}, err
	}
	if _, ok := PartByKey(string(part)); !ok {
		return list.Page[PersonRow]{}, fmt.Errorf("indicator: unknown part %q", part)
	}
	if day.IsZero() {
		day = st.now()
	}
	tx, err := st.db.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return list.Page[PersonRow]{}, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := tune(ctx, tx); err != nil {
		return list.Page[PersonRow]{}, err
	}
	s, err := LoadScope(ctx, tx, region, day)
	if err != nil {
		return list.Page[PersonRow]{}, err
	}
	return persons(ctx, tx, s, part, f, lq)
}

func persons(ctx context.Context, db Querier, s Scope, part Part, f Filter, lq list.Query) (list.Page[PersonRow], error) {
	facts, params := s.facts()
	a := args(params)
	where := string(part)
	if f.Dim != "" {
		ok := false
		for _, d := range Dims {
			ok = ok || d.Key == f.Dim
		}
		if !ok {
			return list.Page[PersonRow]{}, fmt.Errorf("indicator: unknown dimension %q", f.Dim)
		}
		where += " AND " + f.Dim + " = " + a.add(f.Value)
	}
	from := ` FROM (` + facts + `) f WHERE ` + where
	var total int
	if err := db.QueryRow(ctx, `SELECT count(*)`+from, a...).Scan(&total); err != nil {
		return list.Page[PersonRow]{}, fmt.Errorf("indicator list count: %w", err)
	}
	limit, offset := a.add(lq.Limit()), a.add(lq.Offset())
	rows, err := db.Query(ctx, `SELECT id_number, name, region_code`+from+
		` ORDER BY region_code, id_number LIMIT `+limit+` OFFSET `+offset, a...)
	if err != nil {
		return list.Page[PersonRow]{}, fmt.Errorf("indicator list: %w", err)
	}
	ps, err := pgx.CollectRows(rows, pgx.RowToStructByPos[PersonRow])
	return list.Of(ps, total, lq), err
}
