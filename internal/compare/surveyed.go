package compare

import (
	"context"
	"fmt"

	"github.com/canbao/canbao/internal/batchdiff"
)

// surveyed reads who has been surveyed already: persons whose live survey
// form (survey_form, 000009) is approved (已入库). The survey's result is in
// the registry, so such a person is no longer a survey target (入户调查) in
// later runs, whatever the extracts still say; a form superseded by a new
// one that is not yet approved does not count. Keys are packed IDs.
func (r *run) surveyed(ctx context.Context) (map[uint64]bool, error) {
	const q = `SELECT DISTINCT m.id_number FROM survey_form f JOIN survey_member m ON m.id = f.member_id WHERE f.state = 'approved'`
	rows, err := r.tx.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("surveyed persons: %w", err)
	}
	defer rows.Close()
	out := map[uint64]bool{}
	for rows.Next() {
		var id []byte
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if key, ok := batchdiff.Pack(id); ok {
			out[key] = true
		}
	}
	return out, rows.Err()
}
