package dynamic

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/registry"
	"github.com/canbao/canbao/internal/source"
)

// Event is one change found between two extracts.
type Event struct {
	ID, Batch, Prev  int64
	Kind             Kind
	IDNumber, Name   string
	Region           string
	Effective        time.Time
	Scheme           string
	Old, New         string
	HoldReason       string
	State            State
	DecidedName      string
	DecidedAt        *time.Time
	BatchKind        string // the extract's kind
	FileName         string // the newer extract's file name
	CreatedAt        time.Time
	RegionName       string
	PersonRegistered bool // the registry has the person (a link can be offered)
}

// Label is the event's kind in Chinese, as the kind of its extract tells
// it (a residence extract's move in is "迁入（居住）").
func (e Event) Label() string { return e.Kind.LabelFor(source.Kind(e.BatchKind)) }

const eventCols = `e.id, e.batch_id, e.prev_batch, e.kind, e.id_number, e.name, e.region_code, e.effective, coalesce(e.scheme, ''),
	coalesce(e.old_value, ''), coalesce(e.new_value, ''), e.hold_reason, e.state, e.decided_name, e.decided_at,
	b.kind, b.file_name, e.created_at, coalesce(r.name, ''), EXISTS (SELECT 1 FROM person p WHERE p.id_number = e.id_number)`

const eventFrom = ` FROM extract_event e JOIN import_batch b ON b.id = e.batch_id LEFT JOIN region r ON r.code = e.region_code`

func scanEvent(row pgx.CollectableRow) (Event, error) {
	var e Event
	err := row.Scan(&e.ID, &e.Batch, &e.Prev, &e.Kind, &e.IDNumber, &e.Name, &e.Region, &e.Effective, &e.Scheme,
		&e.Old, &e.New, &e.HoldReason, &e.State, &e.DecidedName, &e.DecidedAt,
		&e.BatchKind, &e.FileName, &e.CreatedAt, &e.RegionName, &e.PersonRegistered)
	return e, err
}

// loadEvents reads the events matching where (over extract_event e).
func loadEvents(ctx context.Context, tx pgx.Tx, where string, args ...any) ([]Event, error) {
	rows, err := tx.Query(ctx, `SELECT `+eventCols+eventFrom+` WHERE `+where+` ORDER BY e.effective, e.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("load events: %w", err)
	}
	events, err := pgx.CollectRows(rows, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("load events: %w", err)
	}
	return events, nil
}

// applyEvents hands events to the registry, as change sets of their batch
// and effective date, in date order (a registry.ChangeSet has one date), by
// actor (0: the system). A person the registry does not know yet is added
// from the event's record.
func applyEvents(ctx context.Context, tx pgx.Tx, events []Event, actorID int64) error {
	if len(events) == 0 {
		return nil
	}
	// Hold the registry writers' lock from the first read, so what is read
	// here is what Apply changes.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7002)`); err != nil {
		return fmt.Errorf("apply events: %w", err)
	}
	ids := make([]string, 0, len(events))
	for _, e := range events {
		ids = append(ids, e.IDNumber)
	}
	known, err := registered(ctx, tx, ids)
	if err != nil {
		return err
	}
	records, err := newcomers(ctx, tx, events)
	if err != nil {
		return err
	}
	events = slices.Clone(events)
	slices.SortStableFunc(events, func(a, b Event) int {
		if c := a.Batch - b.Batch; c != 0 {
			return int(c)
		}
		return a.Effective.Compare(b.Effective)
	})
	for len(events) > 0 {
		n := 1
		for n < len(events) && events[n].Batch == events[0].Batch && events[n].Effective.Equal(events[0].Effective) {
			n++
		}
		if err := applyGroup(ctx, tx, events[:n], known, records, actorID); err != nil {
			return err
		}
		events = events[n:]
	}
	return nil
}

// person is what the registry says of a person before the events.
type person struct {
	enrollment map[string]string // scheme → state
	identity   string            // the extract kind the identity comes from
	pop        string            // 人口状态
}

// livingHukou reports whether the person's identity is a hukou that still
// lists them as 正常 (a hukou without 人口状态 counts as 正常, as in the
// derivation): their hukou, not their residence, says where they are
// managed (DOMAIN §5).
func (p *person) livingHukou() bool {
	return p.identity == string(source.Hukou) && (p.pop == source.PopNormal || p.pop == "")
}

// registered reads the persons of ids the registry has.
func registered(ctx context.Context, tx pgx.Tx, ids []string) (map[string]*person, error) {
	rows, err := tx.Query(ctx, `SELECT id_number, coalesce(enrollment, ''), identity_kind, coalesce(pop_status, '') FROM person WHERE id_number = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("apply events: %w", err)
	}
	known := map[string]*person{}
	var id, enr, identity, pop string
	_, err = pgx.ForEachRow(rows, []any{&id, &enr, &identity, &pop}, func() error {
		known[id] = &person{enrollment: parseEnrollment(enr), identity: identity, pop: pop}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("apply events: %w", err)
	}
	return known, nil
}

// newcomers reads the newer extract's record of every birth and move in
// (of the hukou or the residence extract): the registry may take the
// person's identity from it.
func newcomers(ctx context.Context, tx pgx.Tx, events []Event) (map[string]map[registry.Field]string, error) {
	byBatch := map[int64][]string{}
	kinds := map[int64]string{}
	for _, e := range events {
		if e.Kind == Birth || e.Kind == MoveIn {
			byBatch[e.Batch] = append(byBatch[e.Batch], e.IDNumber)
			kinds[e.Batch] = e.BatchKind
		}
	}
	out := map[string]map[registry.Field]string{}
	const q = `
		SELECT DISTINCT ON (id_norm) id_norm, coalesce(name, ''), coalesce(sex, ''), coalesce(to_char(birth, 'YYYY-MM-DD'), ''),
		       coalesce(household, ''), coalesce(relation, ''), coalesce(region_code, ''), coalesce(hukou_region, '')
		FROM source_record WHERE batch_id = $1 AND id_norm = ANY($2) AND id_damage IS NULL
		ORDER BY id_norm, line`
	for batch, ids := range byBatch {
		rows, err := tx.Query(ctx, q, batch, ids)
		if err != nil {
			return nil, fmt.Errorf("apply events: %w", err)
		}
		var id, name, sex, birth, household, relation, reg, hukou string
		resident := kinds[batch] == string(source.Resident)
		_, err = pgx.ForEachRow(rows, []any{&id, &name, &sex, &birth, &household, &relation, &reg, &hukou}, func() error {
			v := map[registry.Field]string{registry.Name: name, registry.Sex: sex, registry.Birth: birth,
				registry.RegionCode: reg, registry.HukouRegion: hukou, registry.IdentityKind: string(source.Resident)}
			if !resident { // a hukou record: its household and 人口状态 too (a resident's says nothing of them)
				v[registry.Household], v[registry.Relation], v[registry.PopStatus] = household, relation, source.PopNormal
				v[registry.IdentityKind] = string(source.Hukou)
			}
			out[id] = v
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("apply events: %w", err)
		}
	}
	return out, nil
}

// applyGroup applies the events of one batch and date as one change set.
func applyGroup(ctx context.Context, tx pgx.Tx, events []Event, known map[string]*person,
	records map[string]map[registry.Field]string, actorID int64) error {
	values := map[string]map[registry.Field]string{}
	var order []string
	for _, e := range events {
		p := known[e.IDNumber]
		if p == nil && leaving(e) {
			// Gone from a residence or school list, unknown to the registry:
			// nothing to record, and no entry to make (no comparison would
			// know the person from records no longer there).
			continue
		}
		v, ok := values[e.IDNumber]
		if !ok {
			v = map[registry.Field]string{}
			values[e.IDNumber] = v
			order = append(order, e.IDNumber)
		}
		if p == nil {
			// New to the registry: its identity from the record, or the
			// little the event knows.
			p = &person{enrollment: map[string]string{}}
			known[e.IDNumber] = p
			v[registry.Name], v[registry.IdentityKind], v[registry.RegionCode] = e.Name, e.BatchKind, e.Region
		}
		eventValues(e, v, p, records[e.IDNumber])
	}
	if len(order) == 0 {
		return nil
	}
	entries := make([]registry.Entry, 0, len(order))
	for _, id := range order {
		entries = append(entries, registry.Entry{ID: id, Values: values[id]})
	}
	_, err := registry.Apply(ctx, tx, registry.ChangeSet{
		Source:    registry.Source{Kind: registry.Extract, ID: events[0].Batch},
		Actor:     actorID,
		Effective: events[0].Effective,
		Persons:   registry.NewEntries(entries...),
	})
	return err
}

// leaving reports whether an event says only that a person left a
// residence or school list.
func leaving(e Event) bool {
	return e.Kind == SchoolEnd || (e.Kind == MoveOut && e.BatchKind == string(source.Resident))
}

// eventValues sets the registry fields an event changes.
func eventValues(e Event, v map[registry.Field]string, p *person, record map[registry.Field]string) {
	if e.BatchKind == string(source.Resident) {
		residenceValues(e, v, p, record)
		return
	}
	switch e.Kind {
	case Birth, MoveIn:
		for f, x := range record {
			v[f] = x
		}
		v[registry.PopStatus] = source.PopNormal
	case Death:
		v[registry.PopStatus] = source.PopDead
		if isDate(e.New) {
			v[registry.DeathDate] = e.New
		}
	case DeathFix:
		v[registry.DeathDate] = e.New
	case MoveOut:
		v[registry.PopStatus] = source.PopMovedOut
		if e.New == source.PopCancelled {
			v[registry.PopStatus] = source.PopCancelled
		}
	case Household:
		v[registry.Household] = e.New
	case Region:
		v[registry.HukouRegion], v[registry.RegionCode] = e.New, e.New
	case EnrollStart, EnrollPause, EnrollResume, EnrollEnd:
		p.enrollment[e.Scheme] = enrollState[e.Kind]
		v[registry.Enrollment] = formatEnrollment(p.enrollment)
	case SchoolStart:
		v[registry.School] = "在读"
		if e.New != "" {
			v[registry.School] = "在读（" + e.New + "）"
		}
	case SchoolEnd:
		v[registry.School] = SchoolLeft
	}
}

// What the registry's school and residence say of a person no longer
// listed: a value, not a blank, so that leaving is recorded (and read by
// the next incremental comparison) even for a person the registry knew
// nothing of as a student or resident, as an enrollment's end is.
const (
	SchoolLeft    = "已离校"
	ResidenceLeft = "已迁离"
)

// residenceValues sets the registry fields a residence event changes: the
// residence always; the region the person is managed in unless a living
// hukou decides it; the identity when it came from a lesser source than
// the residence extract (DOMAIN §5: hukou first, then residence). A
// hukou's facts are never touched.
func residenceValues(e Event, v map[registry.Field]string, p *person, record map[registry.Field]string) {
	switch e.Kind {
	case MoveIn, Region:
		v[registry.Residence] = e.New
		if p.livingHukou() {
			return
		}
		if e.Kind == MoveIn && p.identity != string(source.Hukou) && p.identity != string(source.Resident) {
			for f, x := range record {
				v[f] = x
			}
			p.identity = string(source.Resident)
		}
		v[registry.RegionCode] = e.New
	case MoveOut:
		v[registry.Residence] = ResidenceLeft
	}
}

// enrollState is the state a scheme's enrollment is in after an event.
var enrollState = map[Kind]string{EnrollStart: "正常参保", EnrollPause: "参保中断", EnrollResume: "正常参保", EnrollEnd: "参保终止"}

func isDate(s string) bool {
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}

// parseEnrollment reads the registry's 参保情况 ("居民医疗:正常参保、城乡居民养老:参保中断").
func parseEnrollment(s string) map[string]string {
	out := map[string]string{}
	for part := range strings.SplitSeq(s, "、") {
		if k, v, ok := strings.Cut(part, ":"); ok {
			out[k] = v
		}
	}
	return out
}

// formatEnrollment writes 参保情况 in the schemes' order.
func formatEnrollment(m map[string]string) string {
	var parts []string
	for _, sc := range source.Schemes() {
		if v, ok := m[sc.Key]; ok {
			parts = append(parts, sc.Key+":"+v)
		}
	}
	var rest []string // a scheme no longer known keeps its place at the end
	for k, v := range m {
		if _, ok := source.ParseScheme(k); !ok {
			rest = append(rest, k+":"+v)
		}
	}
	slices.Sort(rest)
	parts = append(parts, rest...)
	return strings.Join(parts, "、")
}
