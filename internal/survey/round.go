package survey

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/list"
)

// Audit actions of the survey's rounds, teams and paper.
const (
	AuditPublish = "survey.publish"
	AuditTopUp   = "survey.topup"
	AuditTeam    = "survey.team"
	AuditAssign  = "survey.assign"
	AuditPrint   = "survey.print"
	AuditArchive = "survey.archive"
	AuditExport  = "survey.export"
)

// Store reads and writes the survey's tables.
type Store struct {
	db *pgxpool.Pool
}

// New returns a Store over db.
func New(db *pgxpool.Pool) *Store { return &Store{db: db} }

// Round is a survey round as listed.
type Round struct {
	ID                          int64
	RegionCode, RegionName      string
	Title                       string
	RunID                       int64
	Deadline                    *time.Time
	Households, Persons, Target int
	CreatedName                 string
	CreatedAt, UpdatedAt        time.Time
}

const roundCols = `r.id, r.region_code, coalesce(g.name, ''), r.title, r.run_id, r.deadline, r.households, r.persons, r.targets,
	r.created_name, r.created_at, r.updated_at`

// roundVisible: a round of the viewer's region, of one inside it, or of one
// above it (a township clerk works on the county's round).
var roundVisible = `(` + actor.InScope("r.region_code", "$1") + ` OR ` + actor.InScope("$1", "r.region_code") + `)`

// surveyRead is who may read rounds: everyone who reads comparisons.
const surveyRead = actor.CompareRead

// Rounds lists the rounds visible to the actor, newest first.
func (s *Store) Rounds(ctx context.Context, a actor.Actor, q list.Query) (list.Page[Round], error) {
	if err := a.Check(surveyRead); err != nil {
		return list.Page[Round]{}, err
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM survey_round r WHERE `+roundVisible, a.Region).Scan(&total); err != nil {
		return list.Page[Round]{}, fmt.Errorf("rounds: %w", err)
	}
	rows, err := s.db.Query(ctx, `SELECT `+roundCols+` FROM survey_round r LEFT JOIN region g ON g.code = r.region_code
		WHERE `+roundVisible+` ORDER BY r.id DESC LIMIT $2 OFFSET $3`, a.Region, q.Limit(), q.Offset())
	if err != nil {
		return list.Page[Round]{}, fmt.Errorf("rounds: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Round])
	return list.Of(out, total, q), err
}

// GetRound returns a round visible to the actor.
func (s *Store) GetRound(ctx context.Context, a actor.Actor, id int64) (Round, error) {
	if err := a.Check(surveyRead); err != nil {
		return Round{}, err
	}
	return s.round(ctx, s.db, a.Region, id)
}

func (s *Store) round(ctx context.Context, db audit.Querier, scope string, id int64) (Round, error) {
	rows, err := db.Query(ctx, `SELECT `+roundCols+` FROM survey_round r LEFT JOIN region g ON g.code = r.region_code
		WHERE r.id = $2 AND `+roundVisible, scope, id)
	if err != nil {
		return Round{}, fmt.Errorf("round %d: %w", id, err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Round])
	if errors.Is(err, pgx.ErrNoRows) {
		return Round{}, apperr.NotFoundf("调查批次 #%d 不存在", id)
	}
	return r, err
}

// PublishRequest asks for a new round (Round 0) or a top-up of Round.
type PublishRequest struct {
	Round    int64 // 0: a new round
	Region   string
	RunID    int64
	Title    string
	Deadline *time.Time
}

// PublishResult is what a publish or top-up did.
type PublishResult struct {
	Round                       int64
	Households, Persons, Target int // the round's totals after it
	NewHouseholds, NewMembers   int
	Dropped                     int // members this run made no longer targets
}

// Publish publishes a round of the run's survey targets in req.Region, or
// tops up round req.Round from a later run, in one transaction, and audits
// it there. step, when not nil, is told what it is doing.
func (s *Store) Publish(ctx context.Context, a actor.Actor, req PublishRequest, step func(string)) (PublishResult, error) {
	action, object := AuditPublish, "region:"+req.Region
	if req.Round != 0 {
		action, object = AuditTopUp, "round:"+strconv.FormatInt(req.Round, 10)
	}
	e := audit.For(a, action, object)
	res, err := s.publish(ctx, a, req, step, e)
	if err != nil && apperr.KindOf(err) != apperr.Internal {
		return res, audit.Reject(ctx, s.db, e, err)
	}
	return res, err
}

func (s *Store) publish(ctx context.Context, a actor.Actor, req PublishRequest, step func(string), e audit.Entry) (PublishResult, error) {
	if step == nil {
		step = func(string) {}
	}
	req.Title = strings.TrimSpace(req.Title)
	if err := a.CheckIn(actor.SurveyPublish, req.Region, "区划 "+req.Region); err != nil {
		return PublishResult{}, err
	}
	if req.Round == 0 && req.Title == "" {
		return PublishResult{}, apperr.Invalidf("请填写调查批次名称")
	}
	if len([]rune(req.Title)) > 100 {
		return PublishResult{}, apperr.Invalidf("调查批次名称不能超过 100 个字")
	}
	conn, err := s.publishConn(ctx)
	if err != nil {
		return PublishResult{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return PublishResult{}, fmt.Errorf("publish: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := checkRun(ctx, tx, a, req); err != nil {
		return PublishResult{}, err
	}
	res := PublishResult{Round: req.Round}
	if req.Round == 0 {
		const q = `
			INSERT INTO survey_round (region_code, title, run_id, deadline, created_by, created_name)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`
		if err := tx.QueryRow(ctx, q, req.Region, req.Title, req.RunID, req.Deadline, e.UserID, a.Username).Scan(&res.Round); err != nil {
			return res, fmt.Errorf("publish: %w", err)
		}
	} else if err := lockRound(ctx, tx, a, &req); err != nil {
		return res, err
	}
	if err := merge(ctx, tx, req, res.Round, step, &res); err != nil {
		return res, err
	}
	e.Object = "round:" + strconv.FormatInt(res.Round, 10)
	e.Detail = fmt.Sprintf("比对批次 #%d，区划 %s：%d 户 %d 人，调查对象 %d 人；新增 %d 户 %d 人，不再是调查对象 %d 人",
		req.RunID, req.Region, res.Households, res.Persons, res.Target, res.NewHouseholds, res.NewMembers, res.Dropped)
	if err := audit.Record(ctx, tx, e); err != nil {
		return res, err
	}
	step("提交")
	if err := tx.Commit(ctx); err != nil {
		return res, err
	}
	// Fresh statistics for the pages that list the round at once: until
	// autovacuum gets to them, the planner takes a county's 100,000 new
	// households for none and loops where it should hash. The parents'
	// own statistics (which autovacuum never gathers for a partitioned
	// table) are what it estimates a join of the two by. The two tables
	// are analysed at once, on two connections. Only a help, so a failure
	// is not the publish's.
	step("更新统计信息")
	analysed := make(chan struct{})
	go func() {
		defer close(analysed)
		_, _ = s.db.Exec(ctx, `ANALYZE survey_household`)
	}()
	_, _ = conn.Exec(ctx, `ANALYZE survey_member`)
	<-analysed
	return res, nil
}

// publishConn opens a connection of its own for a publish: a county's
// temporary tables (some 40 MB of members) must fit the session's
// temp_buffers, which can be set only before a session first uses a
// temporary table, so never on a pooled connection that may have.
func (s *Store) publishConn(ctx context.Context) (*pgx.Conn, error) {
	cfg := s.db.Config().ConnConfig
	cfg.RuntimeParams["temp_buffers"] = "256MB"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("publish: connect: %w", err)
	}
	return conn, nil
}

// checkRun makes sure the run is finished, visible to the actor and covers
// the region.
func checkRun(ctx context.Context, tx pgx.Tx, a actor.Actor, req PublishRequest) error {
	var runRegion, status string
	err := tx.QueryRow(ctx, `SELECT region_code, status FROM comparison_run WHERE id = $1`, req.RunID).Scan(&runRegion, &status)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !a.Sees(runRegion) && !actor.Within(runRegion, a.Region)) {
		return apperr.NotFoundf("比对批次 #%d 不存在", req.RunID)
	}
	if err != nil {
		return fmt.Errorf("publish: run %d: %w", req.RunID, err)
	}
	if status != "done" {
		return apperr.Invalidf("比对批次 #%d 未成功完成，不能据此发布调查", req.RunID)
	}
	if !actor.Within(runRegion, req.Region) {
		return apperr.Invalidf("比对批次 #%d 不包含区划 %s", req.RunID, req.Region)
	}
	return nil
}

// lockRound locks the round being topped up (two top-ups of one round
// queue) and takes its region; the run must be later than the round's.
func lockRound(ctx context.Context, tx pgx.Tx, a actor.Actor, req *PublishRequest) error {
	var region string
	var run int64
	err := tx.QueryRow(ctx, `SELECT region_code, run_id FROM survey_round WHERE id = $1 FOR UPDATE`, req.Round).Scan(&region, &run)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !a.Sees(region)) {
		return apperr.NotFoundf("调查批次 #%d 不存在", req.Round)
	}
	if err != nil {
		return fmt.Errorf("top up %d: %w", req.Round, err)
	}
	if region != req.Region {
		return apperr.Invalidf("调查批次 #%d 属于区划 %s", req.Round, region)
	}
	if req.RunID <= run {
		return apperr.Invalidf("请选择比本批次所用比对（#%d）更新的比对批次", run)
	}
	const q = `UPDATE survey_round SET run_id = $2, updated_at = now(),
		deadline = coalesce($3, deadline), title = coalesce(nullif($4, ''), title) WHERE id = $1`
	_, err = tx.Exec(ctx, q, req.Round, req.RunID, req.Deadline, req.Title)
	return err
}
