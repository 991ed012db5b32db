package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/region"
)

// Store reads the registry.
type Store struct {
	db *pgxpool.Pool
}

// NewStore returns a Store over db.
func NewStore(db *pgxpool.Pool) *Store { return &Store{db: db} }

// Person is a registry entry.
type Person struct {
	IDNumber, Name, Sex    string
	Birth                  *time.Time
	Household, Relation    string
	HukouRegion, PopStatus string
	IdentityKind           string
	RegionCode             string
	Address, Phone         string
	DeathDate              *time.Time
	Enrollment             string
	Residence, School      string // as the 居住人口 and 在校学生 extracts last reported them
	First, Last            Source // the source that added the entry and the one that last changed it
	UpdatedAt              time.Time
}

// Person returns the entry of a citizen ID in full for actor a, and audits
// the read (a full record is personal data: no read goes unrecorded, and a
// read whose audit line cannot be written fails). Outside a's region the
// entry does not exist.
func (s *Store) Person(ctx context.Context, a actor.Actor, id string) (Person, error) {
	if err := a.Check(actor.PersonRead); err != nil {
		return Person{}, err
	}
	p, err := s.person(ctx, a.Region, id)
	if err != nil {
		return p, err
	}
	if err := audit.Record(ctx, s.db, audit.For(a, audit.RecordView, "person:"+p.IDNumber)); err != nil {
		return Person{}, err
	}
	return p, nil
}

// Entry returns the entry of a citizen ID inside scope without auditing
// the read: for domain methods that write their own audit line (a manual
// change records who registered it).
func (s *Store) Entry(ctx context.Context, scope, id string) (Person, error) {
	return s.person(ctx, scope, id)
}

func (s *Store) person(ctx context.Context, scope, id string) (Person, error) {
	const q = `
		SELECT id_number, name, coalesce(sex, ''), birth, coalesce(household, ''), coalesce(relation, ''),
		       coalesce(hukou_region, ''), coalesce(pop_status, ''), identity_kind, region_code,
		       coalesce(address, ''), coalesce(phone, ''), death_date, coalesce(enrollment, ''),
		       coalesce(residence, ''), coalesce(school, ''), first_kind, first_source, last_kind, last_source, updated_at
		FROM person WHERE id_number = $1`
	var p Person
	err := s.db.QueryRow(ctx, q, id).Scan(&p.IDNumber, &p.Name, &p.Sex, &p.Birth, &p.Household, &p.Relation,
		&p.HukouRegion, &p.PopStatus, &p.IdentityKind, &p.RegionCode,
		&p.Address, &p.Phone, &p.DeathDate, &p.Enrollment, &p.Residence, &p.School,
		&p.First.Kind, &p.First.ID, &p.Last.Kind, &p.Last.ID, &p.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !region.Within(scope, p.RegionCode)) {
		return Person{}, apperr.NotFoundf("登记库中没有该人员")
	}
	if err != nil {
		return Person{}, fmt.Errorf("person: %w", err)
	}
	return p, nil
}

// Event is one recorded change of a registry field.
type Event struct {
	ID                        int64
	Field, OldValue, NewValue string
	Effective                 time.Time
	Source                    Source
	SourceName                string // an extract batch's file name, "" for other sources
	ActorID                   *int64
	ActorName                 string // "" for the system
	RecordedAt                time.Time
}

// MaxPageSize caps a timeline page.
const MaxPageSize = 200

// Timeline returns a page of a person's events, newest first, and how many
// there are in all; the page size is capped at MaxPageSize whatever the
// Query says. A person outside scope has no events.
func (s *Store) Timeline(ctx context.Context, a actor.Actor, id string, lq list.Query) (list.Page[Event], error) {
	if err := a.Check(actor.PersonRead); err != nil {
		return list.Page[Event]{}, err
	}
	scope := a.Region
	lq.Size = min(max(lq.Size, 1), MaxPageSize)
	lq.Page = max(lq.Page, 1)
	q := `
		SELECT e.id, e.field, coalesce(e.old_value, ''), coalesce(e.new_value, ''), e.effective, e.source_kind, e.source_id,
		       coalesce(b.file_name, ''), e.actor_id, coalesce(u.display_name, ''), e.recorded_at
		FROM person_event e LEFT JOIN app_user u ON u.id = e.actor_id
		LEFT JOIN import_batch b ON e.source_kind = 'extract' AND b.id = e.source_id
		WHERE e.id_number = $1 AND EXISTS (SELECT 1 FROM person p WHERE p.id_number = $1 AND ` + actor.InScope("p.region_code", "$4") + `)
		ORDER BY e.id DESC LIMIT $2 OFFSET $3`
	rows, err := s.db.Query(ctx, q, id, lq.Limit(), lq.Offset(), scope)
	if err != nil {
		return list.Page[Event]{}, fmt.Errorf("timeline: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Event, error) {
		var e Event
		err := row.Scan(&e.ID, &e.Field, &e.OldValue, &e.NewValue, &e.Effective, &e.Source.Kind, &e.Source.ID,
			&e.SourceName, &e.ActorID, &e.ActorName, &e.RecordedAt)
		return e, err
	})
	if err != nil {
		return list.Page[Event]{}, fmt.Errorf("timeline: %w", err)
	}
	var total int
	count := `SELECT count(*) FROM person_event e
		WHERE e.id_number = $1 AND EXISTS (SELECT 1 FROM person p WHERE p.id_number = $1 AND ` + actor.InScope("p.region_code", "$2") + `)`
	if err := s.db.QueryRow(ctx, count, id, scope).Scan(&total); err != nil {
		return list.Page[Event]{}, fmt.Errorf("timeline: %w", err)
	}
	return list.Of(events, total, lq), nil
}
