package survey

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/source"
)

// MaxPrintForms bounds one print: a village or a team, a few hundred forms;
// beyond this the clerk prints village by village.
const MaxPrintForms = 3000

// PrintSet is what one print holds: the households of a village or a team
// with every member, and for each target the known data of their form.
type PrintSet struct {
	Round      Round
	Title      string // the village's or the team's name
	Households []PrintHousehold
	Forms      int // target members: one form page each
}

// PrintHousehold is a household on paper.
type PrintHousehold struct {
	ID                       int64
	Code                     string
	Household                string
	VillageCode, VillageName string
	Address, HeadName        string
	TeamName                 string
	Targets, Persons         int
	Members                  []PrintMember
}

// PrintMember is a member with what the data knows of the form's items
// (DOMAIN §6); what is not known stays blank for the team to fill in.
type PrintMember struct {
	IDNumber, Name       string
	Sex, Ethnic          string
	Birth                string // YYYY-MM-DD
	HukouAddress         string
	ResAddress           string
	Relation             string
	Employer             string
	Target               bool
	Dropped              bool
	Pension, Medical     string
	Flags                string
	Schemes              []PrintScheme // every scheme, insured or not by the data
	HukouRegion, Region  string
	HukouRegionName      string
	PopStatus            string
	DroppedRun, AddedRun int64
}

// PrintScheme is one scheme's line of the form.
type PrintScheme struct {
	Name    string // the scheme's full name
	Insured bool   // an active record of it
	Where   string // 参保地 of the active record
}

// PrintFilter selects what to print: a village, or a team's households.
type PrintFilter struct {
	Village string
	Team    int64
}

// Print gathers a print of the round for the actor, who must be allowed to
// assign (print) in the region, and audits it as a read of full records:
// the paper carries whole ID numbers.
func (s *Store) Print(ctx context.Context, a actor.Actor, r Round, f PrintFilter) (PrintSet, error) {
	e := audit.For(a, AuditPrint, "round:"+strconv.FormatInt(r.ID, 10))
	set, err := s.print(ctx, a, r, f)
	if err != nil {
		if apperr.KindOf(err) != apperr.Internal {
			return set, audit.Reject(ctx, s.db, e, err)
		}
		return set, err
	}
	e.Detail = fmt.Sprintf("打印 %s：%d 户，登记表 %d 份", set.Title, len(set.Households), set.Forms)
	return set, audit.Record(ctx, s.db, e)
}

func (s *Store) print(ctx context.Context, a actor.Actor, r Round, f PrintFilter) (PrintSet, error) {
	set := PrintSet{Round: r}
	if err := a.Check(actor.SurveyAssign); err != nil {
		return set, err
	}
	where, arg := "h.region_code = $2", any(f.Village)
	if f.Team != 0 {
		t, err := s.GetTeam(ctx, a, f.Team)
		if err != nil {
			return set, err
		}
		if err := s.Scope(a, r, t.RegionCode); err != nil {
			return set, err
		}
		where, arg, set.Title = "h.team_id = $2", f.Team, t.RegionName+" "+t.Name
	} else {
		if len(f.Village) != 12 {
			return set, apperr.Invalidf("请选择一个村（居）委会打印")
		}
		if err := s.Scope(a, r, f.Village); err != nil {
			return set, err
		}
	}
	q := `
		SELECT h.id, h.code, h.household, h.region_code, coalesce(g.name, ''), h.address, h.head_name, coalesce(t.name, ''), h.targets, h.persons
		FROM survey_household h LEFT JOIN region g ON g.code = h.region_code LEFT JOIN survey_team t ON t.id = h.team_id
		WHERE h.round_id = $1 AND %s AND ` + `h.region_code LIKE $3 || '%%' AND ` + inTeamView("h", "$4") + `
		ORDER BY h.region_code, h.id`
	rows, err := s.db.Query(ctx, fmt.Sprintf(q, where), r.ID, arg, a.Region, a.UserID)
	if err != nil {
		return set, fmt.Errorf("print: %w", err)
	}
	set.Households, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (PrintHousehold, error) {
		var h PrintHousehold
		err := row.Scan(&h.ID, &h.Code, &h.Household, &h.VillageCode, &h.VillageName, &h.Address, &h.HeadName, &h.TeamName, &h.Targets, &h.Persons)
		set.Forms += h.Targets
		return h, err
	})
	if err != nil {
		return set, fmt.Errorf("print: %w", err)
	}
	if len(set.Households) == 0 {
		// Nothing of it in the actor's view (another team's village or
		// team, for a member limited to their own): as outside the region.
		if only, err := limited(ctx, s.db, a); err != nil || only {
			return set, errors.Join(err, apperr.NotFoundf("没有可打印的调查户"))
		}
	}
	if set.Title == "" && len(set.Households) > 0 {
		set.Title = set.Households[0].VillageName
	}
	if set.Forms > MaxPrintForms {
		return set, apperr.Invalidf("一次最多打印 %d 份登记表（本次 %d 份），请按村打印", MaxPrintForms, set.Forms)
	}
	return set, s.printMembers(ctx, r, &set)
}

// printMembers fills every household's members with the registry's data
// and what their records in the round's run say.
func (s *Store) printMembers(ctx context.Context, r Round, set *PrintSet) error {
	ids := make([]int64, len(set.Households))
	at := map[int64]int{}
	for i, h := range set.Households {
		ids[i], at[h.ID] = h.ID, i
	}
	const q = `
		SELECT m.household_id, m.id_number, m.name, coalesce(p.sex, ''), coalesce(to_char(p.birth, 'YYYY-MM-DD'), ''),
		       coalesce(nullif(m.relation, ''), p.relation, ''), m.target, m.dropped_run IS NOT NULL, m.pension, m.medical, m.flags,
		       coalesce(p.hukou_region, ''), coalesce(p.region_code, ''), coalesce(p.pop_status, '')
		FROM survey_member m
		LEFT JOIN person p ON p.id_number = m.id_number COLLATE "default" -- person's key, not a scan of it
		WHERE m.round_id = $1 AND m.household_id = ANY($2)
		ORDER BY m.household_id, m.relation <> '户主', m.id`
	rows, err := s.db.Query(ctx, q, r.ID, ids)
	if err != nil {
		return fmt.Errorf("print members: %w", err)
	}
	type ref struct{ h, m int }
	members := map[string][]ref{} // ID → members
	for rows.Next() {
		var hid int64
		var m PrintMember
		var flags int
		if err := rows.Scan(&hid, &m.IDNumber, &m.Name, &m.Sex, &m.Birth, &m.Relation, &m.Target, &m.Dropped, &m.Pension, &m.Medical, &flags,
			&m.HukouRegion, &m.Region, &m.PopStatus); err != nil {
			return fmt.Errorf("print members: %w", err)
		}
		m.Flags = Member{Flags: flags}.FlagNames()
		h := &set.Households[at[hid]]
		h.Members = append(h.Members, m)
		members[m.IDNumber] = append(members[m.IDNumber], ref{at[hid], len(h.Members) - 1})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("print members: %w", err)
	}
	records, err := s.runRecords(ctx, r.RunID, slices.Collect(maps.Keys(members)))
	if err != nil {
		return fmt.Errorf("print members: %w", err)
	}
	insured := map[ref]map[string]string{} // member → scheme key → 参保地 code
	err = s.byLine(ctx, func(tx pgx.Tx) error {
		for _, b := range slices.Sorted(maps.Keys(records)) {
			lines := slices.Sorted(maps.Keys(records[b]))
			recs, err := readRecords(ctx, tx, b, lines)
			if err != nil {
				return err
			}
			for _, rec := range recs {
				for _, at := range members[records[b][rec.line]] {
					m := &set.Households[at.h].Members[at.m]
					rec.fill(m)
					if rec.active() {
						if insured[ref(at)] == nil {
							insured[ref(at)] = map[string]string{}
						}
						insured[ref(at)][rec.scheme] = rec.region
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.printSchemes(ctx, set, func(h, m int) map[string]string { return insured[ref{h, m}] })
}

// runRecords finds the records run links to the persons ids, as batch →
// line → ID, in one query.
func (s *Store) runRecords(ctx context.Context, run int64, ids []string) (map[int64]map[int32]string, error) {
	rows, err := s.db.Query(ctx, `SELECT id_number, batch_id, line FROM run_records($1) WHERE id_number = ANY($2)`, run, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]map[int32]string{}
	for rows.Next() {
		var id string
		var b int64
		var l int32
		if err := rows.Scan(&id, &b, &l); err != nil {
			return nil, err
		}
		if out[b] == nil {
			out[b] = map[int32]string{}
		}
		out[b][l] = id
	}
	return out, rows.Err()
}

// printSchemes lays every scheme out for each member, with the 参保地 of
// active records by name.
func (s *Store) printSchemes(ctx context.Context, set *PrintSet, insured func(h, m int) map[string]string) error {
	codes := map[string]bool{}
	for i, h := range set.Households {
		for j, m := range h.Members {
			codes[m.HukouRegion] = true
			for _, c := range insured(i, j) {
				codes[c] = true
			}
		}
	}
	rows, err := s.db.Query(ctx, `SELECT code, name FROM region WHERE code = ANY($1)`, slices.Collect(maps.Keys(codes)))
	if err != nil {
		return err
	}
	names := map[string]string{}
	for rows.Next() {
		var c, n string
		if err := rows.Scan(&c, &n); err != nil {
			return err
		}
		names[c] = n
	}
	for i := range set.Households {
		for j := range set.Households[i].Members {
			m := &set.Households[i].Members[j]
			m.HukouRegionName = names[m.HukouRegion]
			on := insured(i, j)
			for _, sc := range source.Schemes() {
				ps := PrintScheme{Name: sc.Name}
				if where, ok := on[sc.Key]; ok {
					ps.Insured, ps.Where = true, names[where]
					if ps.Where == "" {
						ps.Where = where
					}
				}
				m.Schemes = append(m.Schemes, ps)
			}
		}
	}
	return rows.Err()
}

// byLine runs fn in a read-only transaction that finds records by batch
// and line through the partitions' BRIN indexes (see compare.byLine: a
// fresh batch has no statistics and would be scanned whole).
func (s *Store) byLine(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// record is what a print reads of one source record.
type record struct {
	line           int32
	kind           string
	scheme, region string
	enroll, pay    int
	cells          []string
	mapping        map[string]int
}

func (r record) cell(key string) string {
	if i, ok := r.mapping[key]; ok && i < len(r.cells) {
		return strings.TrimSpace(r.cells[i])
	}
	return ""
}

// active reports whether an enrollment record is active (DOMAIN §3).
func (r record) active() bool {
	return r.kind == string(source.Enrollment) && r.scheme != "" && r.enroll != 4 && r.pay != 3
}

// fill copies what the record knows into the member's form, the 户籍
// record first: a field already filled from it is kept.
func (r record) fill(m *PrintMember) {
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	switch source.Kind(r.kind) {
	case source.Hukou:
		set(&m.Ethnic, r.cell(source.KeyEthnic))
		set(&m.HukouAddress, r.cell(source.KeyAddress))
	case source.Resident:
		set(&m.ResAddress, r.cell(source.KeyResAddress))
	case source.Enrollment:
		if r.active() {
			set(&m.Employer, r.cell(source.KeyEmployer))
		}
	}
}

func readRecords(ctx context.Context, tx pgx.Tx, batch int64, lines []int32) ([]record, error) {
	rows, err := tx.Query(ctx, `
		SELECT s.line, b.kind, coalesce(s.scheme, ''), coalesce(s.region_code, ''), coalesce(s.enroll_status, 1), coalesce(s.pay_status, 1),
		       s.raw, b.mapping
		FROM import_batch b
		CROSS JOIN unnest($2::int[]) AS l(line)
		-- OFFSET 0: one line at a time, not a join over the partition
		CROSS JOIN LATERAL (SELECT * FROM source_record s WHERE s.batch_id = $1 AND s.line = l.line OFFSET 0) s
		WHERE b.id = $1`, batch, lines)
	if err != nil {
		return nil, fmt.Errorf("print records: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (record, error) {
		var r record
		var raw string
		err := row.Scan(&r.line, &r.kind, &r.scheme, &r.region, &r.enroll, &r.pay, &raw, &r.mapping)
		r.cells = strings.Split(raw, "\x1f")
		return r, err
	})
}

// PrintDate is the date printed on the forms, in China's time.
func PrintDate(now time.Time) string {
	return now.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
}
