package registry

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Dated is implemented by a comparison's persons: Asserted is when the
// source last vouched for what the set says of the k-th person (the import
// of the extract the person's identity comes from).
type Dated interface {
	Asserted(k int) time.Time
}

// keepCorrections wraps a comparison's persons so that a field a survey
// form, a manual change or an extract event changed after the extract the
// comparison read was imported is left as it is: an older extract does
// not undo a newer correction, and a newer extract that still disagrees
// wins again. Changes from a withdrawn extract protect nothing. Sets of
// other sources, or without dates, are returned as they are.
func keepCorrections(ctx context.Context, tx pgx.Tx, cs ChangeSet) (Persons, error) {
	dated, ok := cs.Persons.(Dated)
	if !ok || cs.Source.Kind != Comparison {
		return cs.Persons, nil
	}
	// The other sources' latest change per person and field: a few among
	// the comparisons' many, read through the partial index
	// person_event_other.
	const q = `
		SELECT id_number, field, max(recorded_at) FROM person_event
		WHERE source_kind <> 'compare'
		  AND NOT (source_kind = 'extract' AND source_id IN (SELECT id FROM import_batch WHERE status = 'withdrawn'))
		GROUP BY id_number, field`
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("registry: corrections: %w", err)
	}
	defer rows.Close()
	var mask []uint32
	var id, field string
	var at time.Time
	for rows.Next() {
		if err := rows.Scan(&id, &field, &at); err != nil {
			return nil, fmt.Errorf("registry: corrections: %w", err)
		}
		f, ok := FieldOf(field)
		if !ok {
			continue
		}
		k, ok := cs.Persons.Find([]byte(id))
		if !ok || !at.After(dated.Asserted(k)) {
			continue
		}
		if mask == nil {
			mask = make([]uint32, cs.Persons.Len())
		}
		mask[k] |= 1 << f
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("registry: corrections: %w", err)
	}
	if mask == nil {
		return cs.Persons, nil
	}
	return keeping{cs.Persons, mask}, nil
}

// keeping leaves the masked fields of each person unset.
type keeping struct {
	Persons
	mask []uint32 // by position: a bit per Field to leave as it is
}

// Value implements Persons.
func (p keeping) Value(buf []byte, k int, f Field) ([]byte, bool) {
	if p.mask[k]&(1<<f) != 0 {
		return buf, false
	}
	return p.Persons.Value(buf, k, f)
}
