package compare

import (
	"context"
	"fmt"
)

// withCachedPlans runs fn with the server's own plan cache mode instead of
// the custom plans the run's connection forces (see workConn). A statement
// that writes rows into a table with a foreign key fires the key's check
// once per row, a saved query that is then planned afresh every time:
// about 40 µs a row, nine tenths of writing a run's summary (run_summary →
// comparison_run) and most of the registry's events (person_event →
// app_user). The plan chosen decides no result.
func (r *run) withCachedPlans(ctx context.Context, fn func() error) error {
	var mode string
	if err := r.tx.QueryRow(ctx, `SELECT current_setting('plan_cache_mode')`).Scan(&mode); err != nil {
		return fmt.Errorf("plan cache mode: %w", err)
	}
	if _, err := r.tx.Exec(ctx, `SELECT set_config('plan_cache_mode', 'auto', true)`); err != nil {
		return fmt.Errorf("plan cache mode: %w", err)
	}
	if err := fn(); err != nil {
		return err // the transaction is done for: nothing to restore
	}
	if _, err := r.tx.Exec(ctx, `SELECT set_config('plan_cache_mode', $1, true)`, mode); err != nil {
		return fmt.Errorf("plan cache mode: %w", err)
	}
	return nil
}
