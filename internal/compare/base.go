package compare

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/batchdiff"
)

// gone is a person of the base run missing from this one.
type gone struct {
	id, name, region string
}

// compareWithBase finds what changed since the region's previous run (the
// base): each person's result against the base's, the persons new since,
// and the base's persons no longer there. A region's first run has no base.
func (r *run) compareWithBase(ctx context.Context) error {
	r.startSnapshot() // the results are final
	r.changed = make([]bool, len(r.order))
	err := r.tx.QueryRow(ctx, `SELECT id FROM comparison_run WHERE region_code = $1 AND status = 'done' AND id < $2
		ORDER BY id DESC LIMIT 1`, r.req.Region, r.id).Scan(&r.base)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("base run: %w", err)
	}
	s := r.state
	rows, err := r.tx.Query(ctx, `SELECT id_number, name, region_code, in_universe, pension, medical, flags, survey
		FROM run_persons($1)`, pgx.QueryResultFormats{pgx.BinaryFormatCode}, r.base)
	if err != nil {
		return fmt.Errorf("base run: %w", err)
	}
	defer rows.Close()
	seen := make([]bool, len(r.order))
	for rows.Next() {
		v := rows.RawValues()
		key, _ := batchdiff.Pack(v[0])
		pi, ok := s.index[key]
		if !ok || r.pos[pi] < 0 {
			r.gone = append(r.gone, gone{string(v[0]), string(v[1]), string(v[2])})
			continue
		}
		k := r.pos[pi]
		seen[k] = true
		o := r.results[k].result()
		r.changed[k] = (v[3][0] == 1) != o.Universe || string(v[4]) != o.Pension || string(v[5]) != o.Medical ||
			int(int32(binary.BigEndian.Uint32(v[6]))) != o.Flags || (v[7][0] == 1) != o.Survey
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("base run: %w", err)
	}
	for k := range r.changed {
		r.changed[k] = r.changed[k] || !seen[k]
	}
	return nil
}
