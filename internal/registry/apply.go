package registry

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/pgcopy"
)

// Apply writes a change set into the registry inside tx: every field that
// differs from the entry is recorded in person_event, with the entry's
// update, in the same transaction; persons the registry does not have are
// added (their first source on the entry, not one event per field: a first
// comparison adds a million). The registry is read once for the set's
// persons and compared in memory; only what differs is written, each part
// with one COPY and at most one set-based statement.
//
// Writers take turns, until their transactions end: a change set read
// against entries another writer is changing would overwrite that change
// without recording it.
func Apply(ctx context.Context, tx pgx.Tx, cs ChangeSet) (Result, error) {
	if err := cs.check(); err != nil {
		return Result{}, err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, writerLock); err != nil {
		return Result{}, fmt.Errorf("registry: %w", err)
	}
	kept, err := keepCorrections(ctx, tx, cs)
	if err != nil {
		return Result{}, err
	}
	cs.Persons = kept
	d, err := newDiff(cs)
	if err != nil {
		return Result{}, err
	}
	defer d.close()
	if err := d.readRegistry(ctx, tx); err != nil {
		return Result{}, err
	}
	res := Result{Updated: d.updates.Len(), Events: d.events.Len()}
	if err := d.applyUpdates(ctx, tx); err != nil {
		return Result{}, err
	}
	const events = "person_event (id_number, field, old_value, new_value, effective, source_kind, source_id, actor_id)"
	if err := d.events.CopyTo(ctx, tx.Conn().PgConn(), events); err != nil {
		return Result{}, err
	}
	if res.Inserted, err = d.insert(ctx, tx); err != nil {
		return Result{}, err
	}
	return res, nil
}

// writerLock is the advisory lock registry writers hold (comparisons hold
// 7001 per region while they run).
const writerLock = 7002

func (cs ChangeSet) check() error {
	switch cs.Source.Kind {
	case Comparison, Survey, Manual, Extract:
	default:
		return fmt.Errorf("registry: unknown source kind %q", cs.Source.Kind)
	}
	if cs.Effective.IsZero() {
		return fmt.Errorf("registry: change set of %s %d has no effective date", cs.Source.Kind, cs.Source.ID)
	}
	if cs.Persons == nil {
		return fmt.Errorf("registry: change set of %s %d has no persons", cs.Source.Kind, cs.Source.ID)
	}
	return nil
}

// diff compares registry entries with a change set's persons, spooling the
// events and the updated entries for one COPY each.
type diff struct {
	cs              ChangeSet
	events, updates *pgcopy.Spool
	known           []bool // by position: the registry has the person
	// buf holds the set's value of the field at hand, old a copy of the
	// registry's: never the same memory, and neither the driver's row
	// buffer, which the next value appended to buf would overwrite.
	buf, old []byte
}

func newDiff(cs ChangeSet) (*diff, error) {
	events, err := pgcopy.NewSpool("")
	if err != nil {
		return nil, err
	}
	updates, err := pgcopy.NewSpool("")
	if err != nil {
		events.Close()
		return nil, err
	}
	return &diff{cs: cs, events: events, updates: updates, known: make([]bool, cs.Persons.Len())}, nil
}

func (d *diff) close() {
	d.events.Close()
	d.updates.Close()
}

// entryCols are read in binary: text as its bytes, birth as days since
// 2000-01-01, whatever the session's DateStyle.
const entryCols = `p.id_number, p.name, p.sex, p.birth, p.household, p.relation, p.hukou_region, p.pop_status, p.identity_kind, p.region_code,
	p.address, p.phone, p.death_date, p.enrollment, p.residence, p.school`

// readRegistry compares the entries of the set's persons. With a region,
// most are found where the registry manages them in one pass; those new
// to the region (moved in, or new to the registry) are looked up by ID.
func (d *diff) readRegistry(ctx context.Context, tx pgx.Tx) error {
	lookUp := true
	if reg := d.cs.Region; reg != "" {
		if err := d.read(ctx, tx, `SELECT `+entryCols+` FROM person p WHERE `+actor.InScope("p.region_code", "$1"), reg); err != nil {
			return err
		}
		// A registry with nobody outside the region (a first run, or a
		// county installation) has none of the rest.
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM person WHERE NOT `+actor.InScope("region_code", "$1")+`)`, reg).Scan(&lookUp); err != nil {
			return fmt.Errorf("registry: %w", err)
		}
	}
	if !lookUp {
		return nil
	}
	var rest []string
	for k, known := range d.known {
		if !known {
			rest = append(rest, string(d.cs.Persons.ID(d.buf[:0], k)))
		}
	}
	if len(rest) == 0 {
		return nil
	}
	// One index probe per ID (OFFSET 0 keeps the subquery from being
	// flattened into a join): as a join, the planner hashed the whole
	// registry for a few thousand IDs whenever the table's statistics were
	// older than its rows (just after a run inserted them), a scan of a
	// million entries that took an incremental run's registry step from
	// well under a second to several.
	return d.read(ctx, tx, `SELECT e.* FROM unnest($1::text[]) AS u(id)
		CROSS JOIN LATERAL (SELECT `+entryCols+` FROM person p WHERE p.id_number = u.id OFFSET 0) e`, rest)
}

// read compares the entries a query returns (entryCols).
func (d *diff) read(ctx context.Context, tx pgx.Tx, q string, arg any) error {
	rows, err := tx.Query(ctx, q, pgx.QueryResultFormats{pgx.BinaryFormatCode}, arg)
	if err != nil {
		return fmt.Errorf("read registry: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		raw := rows.RawValues()
		k, ok := d.cs.Persons.Find(raw[0])
		if !ok || d.known[k] {
			continue
		}
		d.known[k] = true
		if err := d.compare(k, raw); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read registry: %w", err)
	}
	return nil
}

// compare spools the events and the new entry of the k-th person when the
// set changes any of its registry fields (raw, after the ID).
func (d *diff) compare(k int, raw [][]byte) error {
	p := d.cs.Persons
	changed := false
	for f := range numFields {
		v, set := p.Value(d.buf[:0], k, f)
		d.buf = v
		if !set {
			continue
		}
		old := d.oldValue(raw, f)
		if bytes.Equal(old, v) { // NULL and "" alike: neither is ever stored as ''
			continue
		}
		changed = true
		if !f.recorded() {
			continue
		}
		e := d.events
		e.Row(8)
		e.TextBytes(raw[0])
		e.Text(f.Column())
		e.TextBytes(old) // "" as NULL
		e.TextBytes(v)
		e.Date(d.cs.Effective)
		e.Text(string(d.cs.Source.Kind))
		e.Int64(d.cs.Source.ID)
		d.writeActor(e.Encoder)
	}
	if !changed {
		return nil
	}
	u := d.updates
	u.Row(1 + int(numFields))
	u.TextBytes(raw[0])
	for f := range numFields {
		v, set := p.Value(d.buf[:0], k, f)
		if set {
			d.buf = v
		} else {
			v = d.oldValue(raw, f)
		}
		if err := writeField(u.Encoder, raw[0], f, v); err != nil {
			return err
		}
	}
	return nil
}

// oldValue is field f of a registry entry as text, copied into d.old (nil
// for NULL), valid until the next call.
func (d *diff) oldValue(raw [][]byte, f Field) []byte {
	r := raw[f+1]
	switch {
	case r == nil:
		return nil
	case f.isDate():
		d.old = AppendDate(d.old[:0], int32(binary.BigEndian.Uint32(r)))
	default:
		d.old = append(d.old[:0], r...)
	}
	return d.old
}

func (d *diff) writeActor(e *pgcopy.Encoder) {
	if d.cs.Actor == 0 {
		e.Null()
		return
	}
	e.Int64(d.cs.Actor)
}

// writeField writes field f of an entry in its column's type, refusing
// what the person table cannot hold.
func writeField(e *pgcopy.Encoder, id []byte, f Field, v []byte) error {
	switch f {
	case Name: // may be empty (a person known only from nameless records), never NULL
		if len(v) == 0 {
			e.TextNotNull("")
			return nil
		}
	case IdentityKind, RegionCode:
		if len(v) == 0 {
			return apperr.Invalidf("人员 %s 的%s不能为空", idcard.Mask(string(id)), fieldLabels[f])
		}
	case Birth, DeathDate:
		if len(v) == 0 {
			e.Null()
			return nil
		}
		days, ok := parseDate(v)
		if !ok {
			return apperr.Invalidf("人员 %s 的%s %q 不是有效日期（应为 YYYY-MM-DD）", idcard.Mask(string(id)), fieldLabels[f], v)
		}
		e.Days(days)
		return nil
	}
	e.TextBytes(v)
	return nil
}

// required are the fields a new entry must be given.
var required = [...]Field{Name, IdentityKind, RegionCode}

// fieldLabels are the fields' Chinese names.
var fieldLabels = [numFields]string{"姓名", "性别", "出生日期", "户号", "与户主关系", "户籍地区划", "人口状态", "身份信息来源", "管理区划",
	"地址", "联系电话", "死亡日期", "参保情况", "居住登记", "在校情况"}

// Label is the field's Chinese name.
func (f Field) Label() string { return fieldLabels[f] }

// applyUpdates writes the changed entries through a staging table.
func (d *diff) applyUpdates(ctx context.Context, tx pgx.Tx) error {
	if d.updates.Len() == 0 {
		return nil
	}
	cols := strings.Join(columns[:], ", ")
	stmts := []string{
		`DROP TABLE IF EXISTS pg_temp.registry_update`,
		`CREATE TEMP TABLE registry_update (id_number text, name text, sex text, birth date, household text,
			relation text, hukou_region text, pop_status text, identity_kind text, region_code text,
			address text, phone text, death_date date, enrollment text, residence text, school text) ON COMMIT DROP`,
	}
	for _, q := range stmts {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("registry update: %w", err)
		}
	}
	if err := d.updates.CopyTo(ctx, tx.Conn().PgConn(), "registry_update (id_number, "+cols+")"); err != nil {
		return err
	}
	q := fmt.Sprintf(`UPDATE person p SET (%s, last_kind, last_source, updated_at) = (u.%s, $1, $2, now())
		FROM registry_update u WHERE p.id_number = u.id_number`, cols, strings.Join(columns[:], ", u."))
	if _, err := tx.Exec(ctx, q, string(d.cs.Source.Kind), d.cs.Source.ID); err != nil {
		return fmt.Errorf("registry update: %w", err)
	}
	return nil
}

// insert adds the persons the registry does not have, in the set's order
// (a comparison gives them in ID order, which keeps the table's pages
// close to its index). A new person needs every field the table cannot
// leave empty.
func (d *diff) insert(ctx context.Context, tx pgx.Tx) (int, error) {
	target := "person (id_number, " + strings.Join(columns[:], ", ") + ", first_kind, first_source, last_kind, last_source)"
	p := d.cs.Persons
	kind := string(d.cs.Source.Kind)
	n, err := pgcopy.From(ctx, tx.Conn().PgConn(), target, func(e *pgcopy.Encoder) error {
		var buf, id []byte
		for k, known := range d.known {
			if known {
				continue
			}
			id = p.ID(id[:0], k)
			for _, f := range required {
				if _, set := p.Value(buf[:0], k, f); !set {
					return apperr.Invalidf("登记库中没有人员 %s；新增人员须给出姓名、身份信息来源和管理区划", idcard.Mask(string(id)))
				}
			}
			e.FlushIfFull()
			e.Row(5 + int(numFields))
			e.TextBytes(id)
			for f := range numFields {
				v, _ := p.Value(buf[:0], k, f)
				buf = v
				if err := writeField(e, id, f, v); err != nil {
					return err
				}
			}
			e.Text(kind)
			e.Int64(d.cs.Source.ID)
			e.Text(kind)
			e.Int64(d.cs.Source.ID)
		}
		return nil
	})
	return int(n), err
}
