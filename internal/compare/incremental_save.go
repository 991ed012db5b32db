package compare

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/batchdiff"
	"github.com/canbao/canbao/internal/pgcopy"
)

// An incremental run writes a whole run_person partition like a full run
// (every reader reads one run from one partition), but most of it is
// known once the run is planned: the untouched persons (ghosts) keep the
// base's row, their records moved to this run's lines. Those rows are
// written, indexed and analyzed on a connection of their own while the
// run links and classifies the touched persons, into a table not yet
// attached to run_person (no reader sees it); the save then replaces the
// rows of persons touched since, adds the touched persons' and attaches
// the table, whose indexes it adopts instead of building them. On a
// million persons that building took half of an incremental run.

// ghostTable is the early written partition of an incremental run.
type ghostTable struct {
	name    string
	written []bool     // by base person: its row is in the table
	done    chan error // the side transaction's outcome, once
	cancel  context.CancelFunc
	err     error
	waited  bool
	took    time.Duration
	dropped bool
}

// ghostLock is the advisory lock (with the run's id) a run holds in its
// transaction while its early written table may exist unattached: a table
// whose lock is free belongs to a run that ended without attaching or
// dropping it (its process stopped mid-run), and the next run drops it.
// Its %s is the run's id.
const ghostLock = `7002, (%s::bigint %% 2147483647)::int`

// qOrphans locks and names the early written tables whose runs ended
// without them (the names are filtered before any lock is tried).
var qOrphans = fmt.Sprintf(`
	WITH t AS MATERIALIZED (
		SELECT relname FROM pg_class
		WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND NOT relispartition AND relname ~ '^run_person_[0-9]+$')
	SELECT relname::text FROM t WHERE pg_try_advisory_xact_lock(`+ghostLock+`)`, "substr(relname, 12)")

// startGhostRows writes the rows of the persons untouched so far into
// the run's partition-to-be on a connection of its own.
func (r *run) startGhostRows(ctx context.Context) error {
	if _, err := r.tx.Exec(ctx, fmt.Sprintf(`SELECT pg_advisory_xact_lock(`+ghostLock+`)`, "$1"), r.id); err != nil {
		return fmt.Errorf("ghost table lock: %w", err)
	}
	inc := r.inc
	g := &ghostTable{name: fmt.Sprintf("public.run_person_%d", r.id), written: make([]bool, len(inc.persons)), done: make(chan error, 1)}
	// Region then ID order, as writePersons writes: inc.persons is in ID
	// order, and a counting sort over the few regions keeps it.
	byName := make([]int, len(inc.regions))
	for i := range byName {
		byName[i] = i
	}
	slices.SortFunc(byName, func(a, b int) int { return strings.Compare(inc.regions[a], inc.regions[b]) })
	order := make([]int, len(inc.regions)) // region → its place in code order
	for k, reg := range byName {
		order[reg] = k
	}
	start := make([]int, len(inc.regions)+1)
	for i := range inc.persons {
		if !inc.touched[inc.persons[i].id] {
			g.written[i] = true
			start[order[inc.persons[i].region]+1]++
		}
	}
	for k := 1; k < len(start); k++ {
		start[k] += start[k-1]
	}
	rows := make([]int32, start[len(start)-1])
	for i := range inc.persons {
		if g.written[i] {
			k := order[inc.persons[i].region]
			rows[start[k]] = int32(i)
			start[k]++
		}
	}
	r.ghosts = g
	ctx, g.cancel = context.WithCancel(ctx)
	go func() {
		t := time.Now()
		err := r.writeGhostTable(ctx, g.name, rows)
		g.took = time.Since(t)
		g.done <- err
	}()
	return nil
}

// writeGhostTable creates the table, writes the rows frozen, builds every
// index run_person has and analyzes it, in one transaction it commits.
func (r *run) writeGhostTable(ctx context.Context, name string, rows []int32) error {
	conn, err := r.db.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	exec := func(q string) error {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("%.60s…: %w", q, err)
		}
		return nil
	}
	if err := exec(`SET LOCAL maintenance_work_mem = '512MB'`); err != nil {
		return err
	}
	if err := dropOrphans(ctx, tx); err != nil {
		return err
	}
	if err := exec(fmt.Sprintf(`CREATE TABLE %s (LIKE run_person_row INCLUDING DEFAULTS, CHECK (run_id = %d))`, name, r.id)); err != nil {
		return err
	}
	inc := r.inc
	_, err = pgcopy.FromFrozen(ctx, tx.Conn().PgConn(), name+" ("+personCopyCols+")", func(e *pgcopy.Encoder) error {
		for _, i := range rows {
			p := &inc.persons[i]
			e.FlushIfFull()
			inc.writeGhostRow(e, r.id, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	stmts, err := partitionIndexes(ctx, tx, name)
	if err != nil {
		return err
	}
	stmts = append(stmts, `ANALYZE `+name+` (`+personStatCols+`)`)
	for _, q := range stmts {
		if err := exec(q); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// dropOrphans drops the early written tables of runs that ended without
// attaching or dropping them.
func dropOrphans(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, qOrphans)
	if err != nil {
		return fmt.Errorf("orphan tables: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("orphan tables: %w", err)
	}
	for _, name := range names {
		if _, err := tx.Exec(ctx, `DROP TABLE `+pgx.Identifier{"public", name}.Sanitize()); err != nil {
			return fmt.Errorf("drop %s: %w", name, err)
		}
	}
	return nil
}

// writeGhostRow writes a base person's row as this run's: the base's
// name, region and result, its records under their current batch and line,
// and not changed.
func (inc *incremental) writeGhostRow(e *pgcopy.Encoder, runID int64, p *basePerson) {
	var id [18]byte
	e.Row(12)
	e.Int64(runID)
	e.TextBytes(batchdiff.AppendID(id[:0], p.id))
	if p.name.n > 0 {
		e.TextBytes(inc.arena[p.name.off : p.name.off+p.name.n])
	} else {
		e.TextNotNull("")
	}
	e.TextNotNull(inc.regions[p.region])
	o := p.res
	e.Bool(o.universe)
	e.Text(statuses[o.pension])
	e.Text(statuses[o.medical])
	e.Int32(int32(o.flags))
	e.Bool(o.survey)
	e.Int64Array(inc.refBatch[p.refs : p.refs+p.nref])
	e.Int32Array(inc.refLine[p.refs : p.refs+p.nref])
	e.Bool(false)
}

// indexName is an index definition's "CREATE [UNIQUE] INDEX name ON ONLY
// public.run_person " head, as pg_get_indexdef gives a partitioned index.
var indexName = regexp.MustCompile(`^CREATE (UNIQUE )?INDEX \S+ ON ONLY public\.run_person_row `)

// partitionIndexes are the statements that give table every index of
// run_person, as ATTACH PARTITION would build them (and then adopts them):
// its primary key as a constraint, the others from their definitions.
func partitionIndexes(ctx context.Context, tx pgx.Tx, table string) ([]string, error) {
	const q = `
		SELECT pg_get_indexdef(i.indexrelid), coalesce(pg_get_constraintdef(c.oid), '')
		FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype = 'p'
		WHERE i.indrelid = 'public.run_person_row'::regclass
		ORDER BY i.indisprimary DESC, i.indexrelid`
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("run_person indexes: %w", err)
	}
	defs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Index, Primary string }])
	if err != nil {
		return nil, fmt.Errorf("run_person indexes: %w", err)
	}
	var out []string
	for _, d := range defs {
		switch {
		case d.Primary != "":
			out = append(out, `ALTER TABLE `+table+` ADD `+d.Primary)
		case indexName.MatchString(d.Index):
			out = append(out, indexName.ReplaceAllString(d.Index, `CREATE ${1}INDEX ON `+table+` `))
		default:
			return nil, fmt.Errorf("run_person index not understood: %s", d.Index)
		}
	}
	return out, nil
}

// waitGhosts waits for the side transaction, once.
func (g *ghostTable) wait() error {
	if !g.waited {
		g.err, g.waited = <-g.done, true
	}
	return g.err
}

// dropGhosts drops the early written table of a run that falls back to
// a full one or does not commit (its ATTACH rolled back with it): outside
// the run's transaction, which has ended or never touched the table.
func (r *run) dropGhosts() {
	g := r.ghosts
	if g == nil || g.dropped {
		return
	}
	g.dropped = true
	g.cancel()
	_ = g.wait() // an error rolled the side transaction back, but a failed COMMIT may still have committed
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Only while it is not a partition: a COMMIT that failed as the
	// connection broke may still have attached it, with its run.
	var standalone bool
	const q = `SELECT coalesce((SELECT NOT relispartition FROM pg_class WHERE oid = to_regclass($1)), false)`
	if err := r.db.QueryRow(ctx, q, g.name).Scan(&standalone); err != nil || !standalone {
		return // best effort: a table never attached is never read
	}
	_, _ = r.db.Exec(ctx, `DROP TABLE IF EXISTS `+g.name)
}

// saveIncremental saves an incremental run: the early written rows, less
// those of persons touched since, plus every touched person's row.
func (r *run) saveIncremental(ctx context.Context) error {
	if r.sparse != nil {
		return r.saveSparse(ctx)
	}
	g, inc, s := r.ghosts, r.inc, r.state
	if err := r.writeSnapshot(ctx); err != nil {
		return err
	}
	t := time.Now()
	err := g.wait()
	g.cancel()
	if err != nil {
		return fmt.Errorf("ghost rows: %w", err)
	}
	t = r.lap(fmt.Sprintf("等待未变人员（同时写入 %.1fs）", g.took.Seconds()), t)
	var stale []string
	for i, w := range g.written {
		if w && inc.touched[inc.persons[i].id] {
			stale = append(stale, unpack(inc.persons[i].id))
		}
	}
	if len(stale) > 0 {
		if _, err := r.tx.Exec(ctx, `DELETE FROM `+g.name+` WHERE id_number = ANY($1)`, stale); err != nil {
			return fmt.Errorf("ghost rows: %w", err)
		}
	}
	r.persons = g.name
	_, err = pgcopy.From(ctx, r.tx.Conn().PgConn(), g.name+" ("+personCopyCols+")", func(e *pgcopy.Encoder) error {
		w := r.newPersonWriter()
		for _, k := range r.byRegion() {
			if !s.persons[r.order[k]].ghost {
				e.FlushIfFull()
				w.row(e, k)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	t = r.lap(fmt.Sprintf("写入变动人员（替换 %d 行）", len(stale)), t)
	return r.saveLinks(ctx, t, true)
}
