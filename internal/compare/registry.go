package compare

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/pgcopy"
)

// registryFields are the person columns a run sets, in the order compared
// and written below; every one but identity_kind is recorded when it
// changes.
var registryFields = []string{"name", "sex", "birth", "household", "relation", "hukou_region", "pop_status", "identity_kind", "region_code"}

const (
	nameField  = 0 // never NULL
	birthField = 2 // a date
	kindField  = 7 // not recorded in person_change
)

// field appends registry field i of the k-th person of the run to buf, as
// text: empty is NULL, birth is YYYY-MM-DD.
func (r *run) field(buf []byte, k, i int) []byte {
	s := r.state
	p := &s.persons[r.order[k]]
	switch i {
	case nameField:
		return append(buf, s.bytes(p.name)...)
	case 1:
		return append(buf, s.dict.vals[p.sex]...)
	case birthField:
		if p.birth == noDate {
			return buf
		}
		return dayTime(p.birth).AppendFormat(buf, "2006-01-02")
	case 3:
		return append(buf, s.bytes(p.household)...)
	case 4:
		return append(buf, s.dict.vals[p.relation]...)
	case 5:
		return append(buf, s.dict.vals[p.hukou]...)
	case 6:
		return append(buf, s.dict.vals[p.pop]...)
	case kindField:
		return append(buf, s.batches[p.batch].Kind...)
	}
	return append(buf, s.dict.vals[r.regions[k]]...)
}

// writeField writes registry field i as text; "" is NULL but for the name.
func writeField(e *pgcopy.Encoder, i int, v []byte) {
	if i == nameField && len(v) == 0 {
		e.TextNotNull("")
		return
	}
	e.TextBytes(v)
}

// updateRegistry writes this run's persons into the registry: changed
// entries are updated with every changed field recorded in person_change
// first, so nothing is overwritten without history, and new persons are
// inserted. The registry is read once for the run's persons and compared
// here; only what differs is written.
func (r *run) updateRegistry(ctx context.Context) error {
	changes, err := pgcopy.NewSpool("")
	if err != nil {
		return err
	}
	defer changes.Close()
	updates, err := pgcopy.NewSpool("")
	if err != nil {
		return err
	}
	defer updates.Close()
	d := &registryDiff{r: r, changes: changes, updates: updates, known: make([]bool, len(r.order))}
	// Most persons are found where the registry manages them; those new to
	// the region (moved in, or new to the registry) are looked up by ID.
	const cols = `p.id_number, p.name, p.sex, p.birth::text, p.household, p.relation, p.hukou_region, p.pop_status, p.identity_kind, p.region_code`
	if err := d.read(ctx, `SELECT `+cols+` FROM person p WHERE p.region_code LIKE $1 || '%'`, r.req.Region); err != nil {
		return err
	}
	var rest []string
	for k, pi := range r.order {
		if !d.known[k] {
			rest = append(rest, unpack(r.state.persons[pi].id))
		}
	}
	// A registry with nobody outside the region (a first run, or a county
	// installation) has none of them.
	var elsewhere bool
	if err := r.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM person WHERE region_code NOT LIKE $1 || '%')`, r.req.Region).Scan(&elsewhere); err != nil {
		return err
	}
	if len(rest) > 0 && elsewhere {
		if err := d.read(ctx, `SELECT `+cols+` FROM unnest($1::text[]) AS u(id) JOIN person p ON p.id_number = u.id`, rest); err != nil {
			return err
		}
	}
	if err := r.applyUpdates(ctx, updates); err != nil {
		return err
	}
	if err := changes.CopyTo(ctx, r.tx.Conn().PgConn(), "person_change (run_id, id_number, field, old_value, new_value)"); err != nil {
		return err
	}
	return r.insertPersons(ctx, d.known)
}

// registryDiff compares registry entries with the run's persons.
type registryDiff struct {
	r                *run
	changes, updates *pgcopy.Spool
	known            []bool // by position in r.order: the registry has the person
}

// read compares the entries a query returns (cols of updateRegistry).
func (d *registryDiff) read(ctx context.Context, q string, arg any) error {
	r := d.r
	rows, err := r.tx.Query(ctx, q, pgx.QueryResultFormats{pgx.BinaryFormatCode}, arg)
	if err != nil {
		return fmt.Errorf("read registry: %w", err)
	}
	defer rows.Close()
	var buf []byte
	for rows.Next() {
		raw := rows.RawValues()
		key, _ := packBytes(raw[0])
		pi, ok := r.state.index[key]
		if !ok || r.pos[pi] < 0 || d.known[r.pos[pi]] {
			continue
		}
		k := int(r.pos[pi])
		d.known[k] = true
		changed := false
		for i := range registryFields {
			buf = r.field(buf[:0], k, i)
			if bytes.Equal(raw[i+1], buf) { // NULL and "" alike: neither is ever stored as ''
				continue
			}
			changed = true
			if i == kindField {
				continue
			}
			c := d.changes
			c.Row(5)
			c.Int64(r.id)
			c.TextBytes(raw[0])
			c.Text(registryFields[i])
			writeField(c.Encoder, i, raw[i+1])
			writeField(c.Encoder, i, buf)
		}
		if changed {
			d.updates.Row(10)
			d.updates.TextBytes(raw[0])
			for i := range registryFields {
				buf = r.field(buf[:0], k, i)
				writeField(d.updates.Encoder, i, buf)
			}
		}
	}
	return rows.Err()
}

// applyUpdates writes the changed entries.
func (r *run) applyUpdates(ctx context.Context, updates *pgcopy.Spool) error {
	if updates.Len() == 0 {
		return nil
	}
	cols := strings.Join(registryFields, ", ")
	vals := strings.Replace("u."+strings.Join(registryFields, ", u."), "u.birth", "u.birth::date", 1)
	// birth is text here: the spool writes every field as text
	if err := r.exec(ctx, `CREATE TEMP TABLE cmp_person_update (id_number text, name text, sex text, birth text, household text,
			relation text, hukou_region text, pop_status text, identity_kind text, region_code text) ON COMMIT DROP`); err != nil {
		return err
	}
	if err := updates.CopyTo(ctx, r.tx.Conn().PgConn(), "cmp_person_update (id_number, "+cols+")"); err != nil {
		return err
	}
	return r.exec(ctx, fmt.Sprintf(`UPDATE person p SET (%s, last_run, updated_at) = (%s, %d, now())
		FROM cmp_person_update u WHERE p.id_number = u.id_number`, cols, vals, r.id))
}

// insertPersons adds the persons the registry does not have yet, in ID order.
func (r *run) insertPersons(ctx context.Context, known []bool) error {
	target := "person (id_number, " + strings.Join(registryFields, ", ") + ", first_run, last_run)"
	_, err := pgcopy.From(ctx, r.tx.Conn().PgConn(), target, func(e *pgcopy.Encoder) error {
		var buf []byte
		for k, pi := range r.order {
			if known[k] {
				continue
			}
			p := &r.state.persons[pi]
			e.FlushIfFull()
			e.Row(12)
			e.TextBytes(appendID(buf[:0], p.id))
			for i := range registryFields {
				switch {
				case i != birthField:
					buf = r.field(buf[:0], k, i)
					writeField(e, i, buf)
				case p.birth == noDate:
					e.Null()
				default:
					e.Days(p.birth) // binary COPY wants a date's own form
				}
			}
			e.Int64(r.id)
			e.Int64(r.id)
		}
		return nil
	})
	return err
}
