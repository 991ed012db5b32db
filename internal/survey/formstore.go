package survey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/idcard"
)

// Forms keeps the survey forms: entry by township clerks, review by county
// reviewers, and what the progress pages count.
type Forms struct {
	db *pgxpool.Pool
	// Today is the calendar day dates are validated against (Beijing);
	// tests may replace it.
	Today func() time.Time
}

// NewForms returns the form store over db.
func NewForms(db *pgxpool.Pool) *Forms {
	return &Forms{db: db, Today: func() time.Time {
		y, m, d := time.Now().In(beijing).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}}
}

var beijing = time.FixedZone("CST", 8*3600)

// Audit actions of the forms.
const (
	AuditFormSave    = "survey.form.save"
	AuditFormSubmit  = "survey.form.submit"
	AuditFormApprove = "survey.form.approve"
	AuditFormReturn  = "survey.form.return"
	AuditFormRevise  = "survey.form.revise"
	AuditMemberAdd   = "survey.member.add"
)

// EntryMember is one person listed for a household, with their survey state.
type EntryMember struct {
	ID, HouseholdID, RoundID int64
	IDNumber, Name, Relation string
	Target, Found            bool
	Pension, Medical         string
	Flags                    int
	State                    State // the live form's, Pending without one
	FormID                   int64 // 0 without a live form
	Outcome                  string
	ReturnReason             string
}

// EntryHousehold is a household task of a round with its members.
type EntryHousehold struct {
	ID, RoundID                                int64
	RoundTitle                                 string
	Deadline                                   *time.Time
	Code, Household, RegionCode, Address, Head string
	TeamName                                   string
	Members                                    []EntryMember
}

// FormRecord is a stored form.
type FormRecord struct {
	ID, MemberID, HouseholdID, RoundID int64
	State                              State
	Version                            int
	Data                               Form
	EnteredName, ReviewedName          string
	SubmittedAt, ReviewedAt            *time.Time
	ReturnReason                       string
	Supersedes                         *int64
	Corrected                          int
	UpdatedAt                          time.Time
}

// FormEvent is one change of a form's state.
type FormEvent struct {
	From, To  State
	Version   int
	ActorName string
	Note      string
	At        time.Time
}

// ValidationError carries a form's field errors.
type ValidationError struct{ Fields FieldErrors }

func (e *ValidationError) Error() string { return "调查表有误，请按提示修改后再保存" }

// ConflictError says the form changed since the user loaded it: Current is
// the stored version, to be shown beside what the user typed.
type ConflictError struct{ Current FormRecord }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("保存冲突：您打开后，%s 已将该调查表保存为第 %d 版。下面并排列出两个版本，您填写的内容没有丢失；核对后再次保存将以您的版本为准。",
		orName(e.Current.EnteredName), e.Current.Version)
}

func orName(n string) string {
	if n == "" {
		return "他人"
	}
	return n
}

// entryMemberCols read a member with its live form (aliases m, h, f).
const entryMemberCols = `m.id, m.household_id, m.round_id, m.id_number, m.name, m.relation, m.target, m.found, m.pension, m.medical, m.flags,
	coalesce(f.state, 'pending'), coalesce(f.id, 0), coalesce(f.outcome, ''), coalesce(f.return_reason, '')`

// scanMember reads entryMemberCols, then the columns after them into extra.
func scanMember(row pgx.Row, extra ...any) (EntryMember, error) {
	var m EntryMember
	err := row.Scan(append([]any{&m.ID, &m.HouseholdID, &m.RoundID, &m.IDNumber, &m.Name, &m.Relation, &m.Target, &m.Found, &m.Pension,
		&m.Medical, &m.Flags, &m.State, &m.FormID, &m.Outcome, &m.ReturnReason}, extra...)...)
	return m, err
}

// Household returns a household task of the actor's region with every
// member listed (户不漏人) and each member's state.
func (s *Forms) Household(ctx context.Context, a actor.Actor, id int64) (EntryHousehold, error) {
	if err := a.Check(actor.SurveyEnter); err != nil {
		return EntryHousehold{}, err
	}
	h, err := s.household(ctx, s.db, id)
	if err == nil {
		err = inView(ctx, s.db, a, h.RegionCode, h.ID, "调查户不存在")
	}
	if err != nil {
		return EntryHousehold{}, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+entryMemberCols+`
		FROM survey_member m `+liveFormOf+`
		WHERE m.household_id = $1 ORDER BY m.found, m.id`, id)
	if err != nil {
		return EntryHousehold{}, fmt.Errorf("household members: %w", err)
	}
	h.Members, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (EntryMember, error) { return scanMember(r) })
	if err != nil {
		return EntryHousehold{}, fmt.Errorf("household members: %w", err)
	}
	return h, nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// taskHouseholdCols read a household task for entry (aliases h, r for its round, t
// for its team).
const taskHouseholdCols = `h.id, h.round_id, r.title, r.deadline, h.code, h.household, h.region_code, h.address, h.head_name, coalesce(t.name, '')`

func taskHouseholdDst(h *EntryHousehold) []any {
	return []any{&h.ID, &h.RoundID, &h.RoundTitle, &h.Deadline, &h.Code, &h.Household, &h.RegionCode, &h.Address, &h.Head, &h.TeamName}
}

func (s *Forms) household(ctx context.Context, db querier, id int64) (EntryHousehold, error) {
	const q = `SELECT ` + taskHouseholdCols + `
		FROM survey_household h JOIN survey_round r ON r.id = h.round_id LEFT JOIN survey_team t ON t.id = h.team_id
		WHERE h.id = $1`
	var h EntryHousehold
	err := db.QueryRow(ctx, q, id).Scan(taskHouseholdDst(&h)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return h, apperr.NotFoundf("调查户不存在")
	}
	if err != nil {
		return h, fmt.Errorf("household %d: %w", id, err)
	}
	return h, nil
}

// formCols read a stored form (alias f).
const formCols = `f.id, f.member_id, f.household_id, f.round_id, f.state, f.version, f.data, f.entered_name, f.reviewed_name,
	f.submitted_at, f.reviewed_at, f.return_reason, f.supersedes, f.corrected, f.updated_at`

// scanForm reads formCols, then the columns after them into extra.
func scanForm(row pgx.Row, extra ...any) (FormRecord, error) {
	f, data, err := scanFormRaw(row, extra...)
	if err == nil {
		err = f.decode(data)
	}
	return f, err
}

// scanFormRaw reads formCols like scanForm but leaves the form's data
// undecoded: a save decodes the stored form only when it answers with it.
func scanFormRaw(row pgx.Row, extra ...any) (FormRecord, []byte, error) {
	var f FormRecord
	var data []byte
	dst := append([]any{&f.ID, &f.MemberID, &f.HouseholdID, &f.RoundID, &f.State, &f.Version, &data, &f.EnteredName, &f.ReviewedName,
		&f.SubmittedAt, &f.ReviewedAt, &f.ReturnReason, &f.Supersedes, &f.Corrected, &f.UpdatedAt}, extra...)
	err := row.Scan(dst...)
	return f, data, err
}

// decode sets the form's data from its stored JSON.
func (f *FormRecord) decode(data []byte) error {
	if err := json.Unmarshal(data, &f.Data); err != nil {
		return fmt.Errorf("form %d data: %w", f.ID, err)
	}
	return nil
}

// Entry is what the form page needs: the member, their household, their
// live form (nil before the first save) and the form pre-filled from the
// list and the registry when there is none.
type Entry struct {
	Household EntryHousehold
	Member    EntryMember
	Live      *FormRecord
	Prefill   Form
	Events    []FormEvent
}

// Entry returns member id's form for entry by a clerk of its region, and
// audits the read (the form carries the whole ID).
func (s *Forms) Entry(ctx context.Context, a actor.Actor, memberID int64) (Entry, error) {
	if err := a.Check(actor.SurveyEnter); err != nil {
		return Entry{}, err
	}
	// The member with their live form, household, team view and registry
	// entry in one round trip, then their form with its history: a clerk
	// opens the form before every save, 200 of them at once. The member's
	// ID is compared in person's collation, so person's key finds it (in
	// survey_member's "C" the join read every person).
	var e Entry
	var visible bool
	var person personEntry
	m, err := scanMember(s.db.QueryRow(ctx, `SELECT `+entryMemberCols+`, `+taskHouseholdCols+`, `+inTeamView("h", "$2")+`, `+personCols+`
		FROM survey_member m LEFT JOIN survey_form f ON f.member_id = m.id AND f.state <> 'superseded'
		JOIN survey_household h ON h.id = m.household_id AND h.round_id = m.round_id
		JOIN survey_round r ON r.id = h.round_id LEFT JOIN survey_team t ON t.id = h.team_id
		LEFT JOIN person p ON p.id_number = m.id_number COLLATE "default"
		WHERE m.id = $1`, memberID, a.UserID), append(taskHouseholdDst(&e.Household), &visible, &person.found, &person.name, &person.sex,
		&person.birth, &person.relation)...)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && (!a.Sees(e.Household.RegionCode) || !visible)) {
		return Entry{}, apperr.NotFoundf("调查对象不存在")
	}
	if err != nil {
		return e, fmt.Errorf("member %d: %w", memberID, err)
	}
	e.Member = m
	e.Prefill = prefill(e.Household, m, person)
	// The live form with its history, and the read's audit line (the form
	// shows the whole ID and the registry's entry: a full-record read), in
	// one round trip.
	b := &pgx.Batch{}
	if m.FormID != 0 {
		b.Queue(`SELECT `+formCols+` FROM survey_form f WHERE f.id = $1`, m.FormID)
		b.Queue(qEvents, m.FormID)
	}
	ae := audit.For(a, audit.RecordView, "survey_member:"+strconv.FormatInt(memberID, 10))
	ae.Result = "ok"
	if err := audit.Record(ctx, queue{b}, ae); err != nil {
		return Entry{}, err
	}
	br := s.db.SendBatch(ctx, b)
	if m.FormID != 0 {
		f, err := scanForm(br.QueryRow())
		if err == nil {
			e.Live = &f
			e.Events, err = readEvents(br.Query())
		}
		if err != nil {
			_ = br.Close()
			return Entry{}, fmt.Errorf("form %d: %w", m.FormID, err)
		}
	}
	_, err = br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Entry{}, fmt.Errorf("form of %d: %w", memberID, err)
	}
	return e, nil
}

// personEntry is what the registry knows of a member (alias p).
type personEntry struct {
	found                      bool
	name, sex, birth, relation string
}

const personCols = `p.id_number IS NOT NULL, coalesce(p.name, ''), coalesce(p.sex, ''), coalesce(to_char(p.birth, 'YYYY-MM-DD'), ''),
	coalesce(p.relation, '')`

// prefill is a blank form with what the list and the registry know.
func prefill(h EntryHousehold, m EntryMember, p personEntry) Form {
	f := Form{Name: m.Name, IDNumber: m.IDNumber, Relation: m.Relation, HeadName: h.Head, HukouAddress: h.Address, Outcome: OutcomePresent}
	if p.found {
		if p.name != "" {
			f.Name = p.name
		}
		f.Sex, f.Birth = p.sex, p.birth
		if p.relation != "" {
			f.Relation = p.relation
		}
	}
	if f.Sex == "" && m.IDNumber != "" {
		if male, ok := idcardSex(m.IDNumber); ok {
			f.Sex = map[bool]string{true: "男", false: "女"}[male]
		}
	}
	if f.Birth == "" {
		f.Birth = idcardBirth(m.IDNumber)
	}
	return f
}

// qEvents is form $1's history, with the history of the form it
// superseded.
const qEvents = `
	SELECT e.from_state, e.to_state, e.version, e.actor_name, e.note, e.at FROM survey_form_event e
	WHERE e.form_id = $1 OR e.form_id = (SELECT supersedes FROM survey_form WHERE id = $1) ORDER BY e.id`

func (s *Forms) events(ctx context.Context, formID int64) ([]FormEvent, error) {
	return readEvents(s.db.Query(ctx, qEvents, formID))
}

// readEvents reads qEvents' answer.
func readEvents(rows pgx.Rows, err error) ([]FormEvent, error) {
	if err != nil {
		return nil, fmt.Errorf("form events: %w", err)
	}
	events, err := pgx.CollectRows(rows, pgx.RowToStructByPos[FormEvent])
	if err != nil {
		return nil, fmt.Errorf("form events: %w", err)
	}
	return events, nil
}

// Save is one save of a member's form by a clerk.
type Save struct {
	// Version is the version the clerk opened (0: there was no form).
	Version int
	Data    Form
	Submit  bool
	// Key is the submission's idempotency key, rendered once per form
	// page: a retried submission with the same key returns the form it
	// submitted, never a second submission.
	Key string
}

// Saved is what a save did.
type Saved struct {
	Form FormRecord
	// Warnings are a draft's items not yet as they must be: a draft keeps
	// whatever was typed, and a submission refuses them.
	Warnings FieldErrors
	// Repeated says the submission's key had submitted the form already:
	// nothing was written this time.
	Repeated bool
}

// Save stores a draft or submits member id's form. It refuses (with the
// stored version in a *ConflictError) a save based on an older version,
// and a submission (with a *ValidationError) whose items are not as typed
// or miss a required one; a retried submission answers the form its key
// already submitted.
func (s *Forms) Save(ctx context.Context, a actor.Actor, memberID int64, in Save) (Saved, error) {
	if err := a.Check(actor.SurveyEnter); err != nil {
		return Saved{}, err
	}
	conn, err := s.db.Acquire(ctx)
	if err != nil {
		return Saved{}, fmt.Errorf("save form of %d: %w", memberID, err)
	}
	defer conn.Release()
	tx := &pipeTx{conn: conn.Conn()}
	defer tx.end(ctx)
	return s.save(ctx, tx, a, memberID, in)
}

// save is Save in tx: what its form moves in the household's counts goes
// with COMMIT.
func (s *Forms) save(ctx context.Context, tx *pipeTx, a actor.Actor, memberID int64, in Save) (Saved, error) {
	// One round trip: the household's lock (the counts' order: every
	// change of a household's counts locks it first), the member's (the
	// lock every writer of its forms takes, so two saves, or a save and a
	// retried submission, take turns) with the team view, then under them
	// the household's members and the member's live form with the form a
	// submission's key submitted already, if any, and a new form's id when
	// there is no live form (so that the new form's write goes with
	// COMMIT, with its audit line). A member without a live form has no
	// form at all (forms are superseded, never deleted), so no keyed one
	// either. Each statement sees what the writer before committed.
	var (
		region, listedID string
		found, visible   bool
		keyed            *int64
		live             FormRecord
		liveData         []byte // live's data, decoded only to answer with it
		hasLive          bool
		newID            int64
	)
	b := &pgx.Batch{}
	queueHold(b, qHouseholdOfMember, memberID)
	b.Queue(`SELECT h.region_code, m.id_number, m.found, `+inTeamView("h", "$2")+`
		FROM survey_member m JOIN survey_household h ON h.id = m.household_id AND h.round_id = m.round_id
		WHERE m.id = $1 FOR UPDATE OF m`, memberID, a.UserID)
	queueMembers(b, qHouseholdOfMember, memberID)
	b.Queue(`SELECT `+formCols+`,
		(SELECT k.id FROM survey_form k WHERE k.submit_key = $2 AND k.member_id = $1)
		FROM survey_form f WHERE f.member_id = $1 AND f.state <> 'superseded'`, memberID, in.Key)
	b.Queue(`SELECT nextval('survey_form_id_seq') WHERE NOT EXISTS (SELECT 1 FROM survey_form WHERE member_id = $1 AND state <> 'superseded')`,
		memberID)
	br := tx.SendBatch(ctx, b)
	held, ok, err := readHold(br)
	if err == nil && ok {
		err = br.QueryRow().Scan(&region, &listedID, &found, &visible)
	}
	if err == nil && ok {
		held.members, err = readMembers(br)
	}
	if err == nil && ok {
		live, liveData, err = scanFormRaw(br.QueryRow(), &keyed)
		hasLive = err == nil
		if errors.Is(err, pgx.ErrNoRows) {
			err = nil
		}
	}
	if err == nil && ok && !hasLive {
		err = br.QueryRow().Scan(&newID)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && (!ok || !a.Sees(region) || !visible)) {
		return Saved{}, apperr.NotFoundf("调查对象不存在")
	}
	if err != nil {
		return Saved{}, fmt.Errorf("save form of %d: %w", memberID, err)
	}
	if in.Submit && in.Key != "" && keyed != nil {
		// This submission happened already.
		if hasLive && *keyed == live.ID {
			if err := live.decode(liveData); err != nil {
				return Saved{}, err
			}
			return Saved{Form: live, Repeated: true}, nil
		}
		done, err := scanForm(tx.QueryRow(ctx, `SELECT `+formCols+` FROM survey_form f WHERE f.id = $1`, *keyed))
		if err != nil {
			return Saved{}, fmt.Errorf("submission %s: %w", in.Key, err)
		}
		return Saved{Form: done, Repeated: true}, nil
	}
	from := Pending
	if hasLive {
		from = live.State
	}
	if (hasLive && live.Version != in.Version) || (!hasLive && in.Version != 0) {
		if hasLive {
			if err := live.decode(liveData); err != nil {
				return Saved{}, err
			}
			return Saved{}, &ConflictError{Current: live}
		}
		return Saved{}, apperr.Conflictf("该调查表已不存在，请重新打开")
	}
	step := StepSave
	if in.Submit {
		step = StepSubmit
	}
	to, err := Next(from, step)
	if err != nil {
		return Saved{}, err
	}
	errs := in.Data.Validate(in.Submit, s.Today())
	if !found && in.Data.IDNumber != "" && in.Data.IDNumber != listedID {
		errs["id_number"] = "公民身份号码须与名单一致；名单上的号码有误时请在备注中说明"
	}
	if in.Submit && len(errs) > 0 {
		return Saved{}, &ValidationError{Fields: errs}
	}
	data, err := json.Marshal(in.Data)
	if err != nil {
		return Saved{}, err
	}
	key := (*string)(nil)
	if in.Submit && in.Key != "" {
		key = &in.Key
	}
	// The form is written, its state change added to its history and the
	// stored form read back in one statement.
	const write = `UPDATE survey_form f SET state = $2, version = version + 1, data = $3, outcome = $4, outcome_date = $5, willing = $6,
			reason = $7, surveyed_on = $8, submit_key = coalesce($9, submit_key), entered_by = $10, entered_name = $11,
			submitted_at = CASE WHEN $2 = 'submitted' THEN now() ELSE submitted_at END, updated_at = now()
			WHERE id = $1`
	const create = `INSERT INTO survey_form AS f (id, member_id, household_id, round_id, state, data, outcome, outcome_date, willing, reason,
			surveyed_on, submit_key, entered_by, entered_name, submitted_at)
			SELECT $13, m.id, m.household_id, m.round_id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CASE WHEN $2 = 'submitted' THEN now() END
			FROM survey_member m WHERE m.id = $1`
	action := AuditFormSave
	if in.Submit {
		action = AuditFormSubmit
	}
	q, target, formID := create, memberID, newID
	if hasLive {
		q, target, formID = write, live.ID, live.ID
	}
	const writeForm = `WITH f AS (%s RETURNING f.*),
		e AS (INSERT INTO survey_form_event (form_id, from_state, to_state, version, actor_id, actor_name, note)
		      SELECT id, $12, $2, version, $10, $11, '' FROM f)
		SELECT ` + formCols + ` FROM f`
	args := []any{target, to, data, in.Data.Outcome, nullDate(in.Data.OutcomeDate), in.Data.Willing, in.Data.Reason,
		nullDate(in.Data.SurveyedOn), key, nullID(a.UserID), a.Username, from}
	if !hasLive {
		args = append(args, newID)
	}
	// The form's id is known: the write, its audit line, what it moved in
	// the counts and COMMIT go in one round trip.
	batch := &pgx.Batch{}
	batch.Queue(fmt.Sprintf(writeForm, q), args...)
	var f FormRecord
	if err := s.audit(ctx, queue{batch}, a, formID, from, to, "", action); err != nil {
		return Saved{}, err
	}
	released := held.move(batch, held.with(memberID, to, a.UserID))
	err = tx.Commit(ctx, batch, func(results pgx.BatchResults) error {
		var err error
		if f, _, err = scanFormRaw(results.QueryRow()); err != nil {
			return err
		}
		f.Data = in.Data // as written: data is in.Data's JSON
		if _, err = results.Exec(); err == nil && released {
			_, err = results.Exec()
		}
		return err
	})
	if err != nil {
		return Saved{}, fmt.Errorf("save form of %d: %w", memberID, err)
	}
	if len(errs) == 0 {
		errs = nil
	}
	return Saved{Form: f, Warnings: errs}, nil
}

// queue is an audit.Execer that queues its statement in a batch.
type queue struct{ b *pgx.Batch }

func (q queue) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	q.b.Queue(sql, args...)
	return pgconn.CommandTag{}, nil
}

// record writes a form's state change to its history and the audit log,
// in the change's transaction.
func (s *Forms) record(ctx context.Context, tx pgx.Tx, a actor.Actor, formID int64, from, to State, note, action string) error {
	const q = `INSERT INTO survey_form_event (form_id, from_state, to_state, version, actor_id, actor_name, note)
		SELECT $1, $2, $3, version, $4, $5, $6 FROM survey_form WHERE id = $1`
	if _, err := tx.Exec(ctx, q, formID, from, to, nullID(a.UserID), a.Username, note); err != nil {
		return fmt.Errorf("form event: %w", err)
	}
	return s.audit(ctx, tx, a, formID, from, to, note, action)
}

// audit writes a form's state change to the audit log.
func (s *Forms) audit(ctx context.Context, tx audit.Execer, a actor.Actor, formID int64, from, to State, note, action string) error {
	e := audit.For(a, action, "survey_form:"+strconv.FormatInt(formID, 10))
	e.Result = "ok"
	e.Detail = from.Label() + " → " + to.Label()
	if note != "" {
		e.Detail += "：" + note
	}
	return audit.Record(ctx, tx, e)
}

// Revise starts a new form for a member whose live form is approved: the
// approved one is superseded (kept, no longer live) and the new draft
// starts from its data. It returns the new form.
func (s *Forms) Revise(ctx context.Context, a actor.Actor, formID int64) (FormRecord, error) {
	if err := a.Check(actor.SurveyEnter); err != nil {
		return FormRecord{}, err
	}
	var out FormRecord
	err := pgx.BeginFunc(ctx, s.db, countingForm(ctx, formID, func(tx pgx.Tx) error {
		old, region, err := lockForm(ctx, tx, formID)
		if err != nil || !a.Sees(region) {
			return notFound(err)
		}
		if err := inView(ctx, tx, a, region, old.HouseholdID, "调查表不存在"); err != nil {
			return err
		}
		to, err := Next(old.State, StepRevise)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE survey_form SET state = $2, version = version + 1, updated_at = now() WHERE id = $1`, formID, to); err != nil {
			return fmt.Errorf("supersede form %d: %w", formID, err)
		}
		if err := s.record(ctx, tx, a, formID, old.State, to, "", AuditFormRevise); err != nil {
			return err
		}
		var id int64
		const q = `INSERT INTO survey_form (member_id, household_id, round_id, state, data, outcome, outcome_date, willing, reason, surveyed_on,
			entered_by, entered_name, supersedes)
			SELECT member_id, household_id, round_id, 'draft', data, outcome, outcome_date, willing, reason, surveyed_on, $2, $3, id
			FROM survey_form WHERE id = $1 RETURNING id`
		if err := tx.QueryRow(ctx, q, formID, nullID(a.UserID), a.Username).Scan(&id); err != nil {
			return fmt.Errorf("revise form %d: %w", formID, err)
		}
		if err := s.record(ctx, tx, a, id, Pending, Draft, "替代第 "+strconv.FormatInt(formID, 10)+" 号调查表", AuditFormRevise); err != nil {
			return err
		}
		out, err = scanForm(tx.QueryRow(ctx, `SELECT `+formCols+` FROM survey_form f WHERE f.id = $1`, id))
		return err
	}))
	return out, err
}

// lockForm reads and locks a form (after its member, the order every
// writer follows) and returns it with its household's region.
func lockForm(ctx context.Context, tx pgx.Tx, formID int64) (FormRecord, string, error) {
	var region string
	err := tx.QueryRow(ctx, `SELECT h.region_code FROM survey_form f JOIN survey_member m ON m.id = f.member_id
		JOIN survey_household h ON h.id = f.household_id WHERE f.id = $1 FOR UPDATE OF m`, formID).Scan(&region)
	if err != nil {
		return FormRecord{}, "", err
	}
	f, err := scanForm(tx.QueryRow(ctx, `SELECT `+formCols+` FROM survey_form f WHERE f.id = $1 FOR UPDATE`, formID))
	return f, region, err
}

func notFound(err error) error {
	if err == nil || errors.Is(err, pgx.ErrNoRows) {
		return apperr.NotFoundf("调查表不存在")
	}
	return fmt.Errorf("form: %w", err)
}

// AddFound adds a person found at the door who was on no list to a
// household: a member of their own (found = true) whose form makes them a
// new registry person on approval.
func (s *Forms) AddFound(ctx context.Context, a actor.Actor, householdID int64, name, idNumber, relation string) (EntryMember, error) {
	if err := a.Check(actor.SurveyEnter); err != nil {
		return EntryMember{}, err
	}
	errs := Form{Name: name, IDNumber: idNumber, Relation: relation, Outcome: OutcomePresent}.Validate(false, s.Today())
	switch {
	case name == "":
		errs["name"] = "姓名为必填项"
	case idNumber == "":
		errs["id_number"] = "公民身份号码为必填项（新增人员入库须有号码）"
	}
	if len(errs) > 0 {
		return EntryMember{}, &ValidationError{Fields: errs}
	}
	var m EntryMember
	err := pgx.BeginFunc(ctx, s.db, counting(ctx, qHousehold, householdID, func(tx pgx.Tx) error {
		h, err := s.household(ctx, tx, householdID)
		if err != nil || !a.Sees(h.RegionCode) {
			return apperr.NotFoundf("调查户不存在")
		}
		if err := inView(ctx, tx, a, h.RegionCode, h.ID, "调查户不存在"); err != nil {
			return err
		}
		var other string
		err = tx.QueryRow(ctx, `SELECT h.code FROM survey_member m JOIN survey_household h ON h.id = m.household_id
			WHERE m.round_id = $1 AND m.id_number = $2`, h.RoundID, idNumber).Scan(&other)
		if err == nil {
			return &ValidationError{Fields: FieldErrors{"id_number": "该号码已在本批次调查名单中（任务编码 " + other + "）"}}
		}
		const q = `INSERT INTO survey_member (household_id, round_id, id_number, name, relation, target, added_run, found)
			SELECT $1, $2, $3, $4, $5, true, r.run_id, true FROM survey_round r WHERE r.id = $2 RETURNING id`
		var id int64
		if err := tx.QueryRow(ctx, q, householdID, h.RoundID, idNumber, name, relation).Scan(&id); err != nil {
			return fmt.Errorf("add member: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE survey_household SET targets = targets + 1, persons = persons + 1 WHERE id = $1`, householdID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE survey_round SET persons = persons + 1, targets = targets + 1, updated_at = now() WHERE id = $1`, h.RoundID); err != nil {
			return err
		}
		e := audit.For(a, AuditMemberAdd, "survey_member:"+strconv.FormatInt(id, 10))
		e.Result, e.Detail = "ok", "入户新发现人员，调查户 "+h.Code
		if err := audit.Record(ctx, tx, e); err != nil {
			return err
		}
		m = EntryMember{ID: id, HouseholdID: householdID, RoundID: h.RoundID, IDNumber: idNumber, Name: name, Relation: relation,
			Target: true, Found: true, State: Pending}
		return nil
	}))
	return m, err
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// nullDate is a valid YYYY-MM-DD as a date, anything else NULL (a draft
// keeps the text in data; only valid dates reach the columns).
func nullDate(s string) *time.Time {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return nil
	}
	return &d
}

// idcardSex reads the sex from a valid ID.
func idcardSex(id string) (male, ok bool) {
	if !idcard.Parse(id).Valid() {
		return false, false
	}
	return idcard.Sex(id)
}

// idcardBirth is a valid ID's birth date as YYYY-MM-DD, "" otherwise.
func idcardBirth(id string) string {
	if !idcard.Parse(id).Valid() {
		return ""
	}
	if b, ok := idcard.Birth(id); ok {
		return b.Format("2006-01-02")
	}
	return ""
}
