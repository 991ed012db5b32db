package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/region"
)

// Lockout and session limits.
const (
	MaxFailedLogins = 5
	LockDuration    = 15 * time.Minute
)

// Store keeps users and sessions in PostgreSQL.
type Store struct {
	db *pgxpool.Pool
	// IdleTimeout and MaxLifetime bound a session's life.
	IdleTimeout, MaxLifetime time.Duration
	now                      func() time.Time
}

// NewStore returns a Store with the default 30-minute idle timeout and
// 12-hour absolute lifetime.
func NewStore(db *pgxpool.Pool) *Store {
	return &Store{db: db, IdleTimeout: 30 * time.Minute, MaxLifetime: 12 * time.Hour, now: time.Now}
}

// ErrBadLogin is returned for a wrong user name or password; the message
// does not say which, so names cannot be probed.
var ErrBadLogin = apperr.Invalidf("用户名或密码错误")

// ErrLocked is returned while an account is locked after failed logins.
var ErrLocked = apperr.Forbiddenf("登录失败次数过多，账户已锁定15分钟，请稍后再试")

// ErrDisabled is returned for a disabled account.
var ErrDisabled = apperr.Forbiddenf("账户已停用，请联系管理员")

const userCols = `u.id, u.username, u.display_name, u.role, u.region_code, coalesce(r.name, ''), u.disabled`

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.RegionCode, &u.RegionName, &u.Disabled)
	return u, err
}

// NewUser is the input for creating an account.
type NewUser struct {
	Username, DisplayName, Password, RegionCode string
	Role                                        actor.Role
}

// Create adds an account inside the actor's region after checking its
// fields and password policy, and audits the attempt either way.
func (s *Store) Create(ctx context.Context, a actor.Actor, n NewUser) (User, error) {
	n.Username = strings.TrimSpace(n.Username)
	n.DisplayName = strings.TrimSpace(n.DisplayName)
	e := audit.For(a, audit.UserCreate, "user:"+n.Username)
	id, err := s.create(ctx, a, n, e)
	if err != nil {
		return User{}, audit.Reject(ctx, s.db, e, err)
	}
	return s.ByID(ctx, id)
}

func (s *Store) create(ctx context.Context, a actor.Actor, n NewUser, e audit.Entry) (int64, error) {
	if err := a.Check(actor.UsersManage); err != nil {
		return 0, err
	}
	if !a.Sees(n.RegionCode) {
		return 0, apperr.Invalidf("只能在本人管辖区划（%s）内创建用户", a.RegionName)
	}
	if err := s.checkNew(ctx, n); err != nil {
		return 0, err
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	const q = `INSERT INTO app_user (username, display_name, role, region_code, password_hash)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`
	var id int64
	err = tx.QueryRow(ctx, q, n.Username, n.DisplayName, n.Role, n.RegionCode, HashPassword(n.Password)).Scan(&id)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return 0, apperr.Conflictf("用户名 %s 已存在", n.Username)
	}
	if err != nil {
		return 0, fmt.Errorf("create user %s: %w", n.Username, err)
	}
	e.Detail = string(n.Role) + " " + n.RegionCode
	if err := audit.Record(ctx, tx, e); err != nil {
		return 0, err
	}
	return id, tx.Commit(ctx)
}

func (s *Store) checkNew(ctx context.Context, n NewUser) error {
	if n.Username == "" || len(n.Username) > 64 {
		return apperr.Invalidf("用户名不能为空且不超过64个字符")
	}
	if n.DisplayName == "" {
		return apperr.Invalidf("姓名不能为空")
	}
	if !n.Role.Valid() {
		return apperr.Invalidf("角色无效")
	}
	var level int
	err := s.db.QueryRow(ctx, `SELECT level FROM region WHERE code = $1`, n.RegionCode).Scan(&level)
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.Invalidf("区划 %s 不存在", n.RegionCode)
	} else if err != nil {
		return err
	}
	if !RegionLevelFits(n.Role, level) {
		return apperr.Invalidf("%s只能绑定到%s级区划", n.Role.Label(), region.LevelNames[roleLevel(n.Role)])
	}
	return CheckPolicy(n.Password)
}

func roleLevel(r actor.Role) int {
	switch r {
	case actor.City:
		return 2
	case actor.County:
		return 3
	case actor.Township:
		return 4
	}
	return 0
}

// EnsureUser creates the account unless a user of that name exists; used
// for demo accounts, so `make run` can be repeated.
func (s *Store) EnsureUser(ctx context.Context, a actor.Actor, n NewUser) (created bool, err error) {
	var exists bool
	if err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM app_user WHERE username = $1)`, n.Username).Scan(&exists); err != nil {
		return false, err
	}
	if exists {
		return false, nil
	}
	_, err = s.Create(ctx, a, n)
	return err == nil, err
}

// ByID returns one account.
func (s *Store) ByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `SELECT `+userCols+` FROM app_user u LEFT JOIN region r ON r.code = u.region_code WHERE u.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, apperr.NotFoundf("用户不存在")
	}
	return u, err
}

// ByName returns one account by user name.
func (s *Store) ByName(ctx context.Context, name string) (User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `SELECT `+userCols+` FROM app_user u LEFT JOIN region r ON r.code = u.region_code WHERE u.username = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, apperr.NotFoundf("用户 %s 不存在", name)
	}
	return u, err
}

// Get returns one account the actor administers; accounts outside the
// actor's region are not found.
func (s *Store) Get(ctx context.Context, a actor.Actor, id int64) (User, error) {
	if err := a.Check(actor.UsersManage); err != nil {
		return User{}, err
	}
	u, err := s.ByID(ctx, id)
	if err != nil || !a.Sees(u.RegionCode) {
		return User{}, apperr.NotFoundf("用户不存在")
	}
	return u, nil
}

// List returns the accounts inside the actor's region whose name matches
// q, a page at a time.
func (s *Store) List(ctx context.Context, a actor.Actor, q string, lq list.Query) (list.Page[User], error) {
	p := list.Of[User](nil, 0, lq)
	if err := a.Check(actor.UsersManage); err != nil {
		return p, err
	}
	where := ` FROM app_user u LEFT JOIN region r ON r.code = u.region_code
		WHERE ` + actor.InScope("u.region_code", "$1") + ` AND ($2 = '' OR u.username ILIKE '%' || $2 || '%' OR u.display_name ILIKE '%' || $2 || '%')`
	scope := a.Region
	if err := s.db.QueryRow(ctx, `SELECT count(*)`+where, scope, q).Scan(&p.Total); err != nil {
		return p, fmt.Errorf("count users: %w", err)
	}
	rows, err := s.db.Query(ctx, `SELECT `+userCols+where+` ORDER BY u.region_code, u.username LIMIT $3 OFFSET $4`, scope, q, lq.Limit(), lq.Offset())
	if err != nil {
		return p, fmt.Errorf("list users: %w", err)
	}
	p.Items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) { return scanUser(r) })
	return p, err
}

// SetDisabled disables or enables an account inside the actor's region;
// disabling ends its sessions. Nobody disables their own account. The
// change and its audit line commit together; a refusal is audited too.
func (s *Store) SetDisabled(ctx context.Context, a actor.Actor, id int64, disabled bool) error {
	action := audit.UserEnable
	if disabled {
		action = audit.UserDisable
	}
	e := audit.For(a, action, "user:"+strconv.FormatInt(id, 10))
	if err := s.setDisabled(ctx, a, id, disabled, &e); err != nil {
		return audit.Reject(ctx, s.db, e, err)
	}
	return nil
}

func (s *Store) setDisabled(ctx context.Context, a actor.Actor, id int64, disabled bool, e *audit.Entry) error {
	u, err := s.Get(ctx, a, id)
	if err != nil {
		return err
	}
	e.Object = "user:" + u.Username
	if u.ID == a.UserID && disabled {
		return apperr.Invalidf("不能停用自己的账户")
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	tag, err := tx.Exec(ctx, `UPDATE app_user SET disabled = $2, failed_logins = 0, locked_until = NULL, updated_at = now() WHERE id = $1`, id, disabled)
	if err != nil {
		return fmt.Errorf("disable user %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFoundf("用户不存在")
	}
	if disabled {
		if _, err := tx.Exec(ctx, `DELETE FROM session WHERE user_id = $1`, id); err != nil {
			return err
		}
	}
	if err := audit.Record(ctx, tx, *e); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// SetPassword replaces the password of an account inside the actor's
// region (policy checked), unlocks the account and ends its sessions; the
// attempt is audited either way.
func (s *Store) SetPassword(ctx context.Context, a actor.Actor, id int64, pw string) error {
	e := audit.For(a, audit.UserPassword, "user:"+strconv.FormatInt(id, 10))
	if err := s.setPassword(ctx, a, id, pw, &e); err != nil {
		return audit.Reject(ctx, s.db, e, err)
	}
	return nil
}

func (s *Store) setPassword(ctx context.Context, a actor.Actor, id int64, pw string, e *audit.Entry) error {
	u, err := s.Get(ctx, a, id)
	if err != nil {
		return err
	}
	e.Object = "user:" + u.Username
	if err := CheckPolicy(pw); err != nil {
		return err
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	tag, err := tx.Exec(ctx, `UPDATE app_user SET password_hash = $2, failed_logins = 0, locked_until = NULL, updated_at = now() WHERE id = $1`, id, HashPassword(pw))
	if err != nil {
		return fmt.Errorf("set password %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFoundf("用户不存在")
	}
	if _, err := tx.Exec(ctx, `DELETE FROM session WHERE user_id = $1`, id); err != nil {
		return err
	}
	if err := audit.Record(ctx, tx, *e); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Login checks a user name and password, counting failures and locking the
// account after MaxFailedLogins for LockDuration. On success it returns the
// user and a new session token (a fresh ID at every login).
func (s *Store) Login(ctx context.Context, name, pw, ip, agent string) (User, string, error) {
	var (
		id       int64
		hash     string
		disabled bool
		locked   *time.Time
	)
	err := s.db.QueryRow(ctx, `SELECT id, password_hash, disabled, locked_until FROM app_user WHERE username = $1`, name).
		Scan(&id, &hash, &disabled, &locked)
	if errors.Is(err, pgx.ErrNoRows) {
		VerifyPassword(dummyHash, pw) // same work as a real check, so timing does not reveal names
		return User{}, "", ErrBadLogin
	}
	if err != nil {
		return User{}, "", fmt.Errorf("login %s: %w", name, err)
	}
	now := s.now()
	if locked != nil && now.Before(*locked) {
		return User{}, "", ErrLocked
	}
	if !VerifyPassword(hash, pw) {
		return User{}, "", s.recordFailure(ctx, id, now)
	}
	if disabled {
		return User{}, "", ErrDisabled
	}
	if _, err := s.db.Exec(ctx, `UPDATE app_user SET failed_logins = 0, locked_until = NULL WHERE id = $1`, id); err != nil {
		return User{}, "", err
	}
	token, err := s.newSession(ctx, id, ip, agent, now)
	if err != nil {
		return User{}, "", err
	}
	u, err := s.ByID(ctx, id)
	return u, token, err
}

var dummyHash = HashPassword("dummy-Password-1")

func (s *Store) recordFailure(ctx context.Context, id int64, now time.Time) error {
	const q = `
		UPDATE app_user SET
			failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END,
			locked_until  = CASE WHEN failed_logins + 1 >= $2 THEN $3::timestamptz ELSE locked_until END
		WHERE id = $1
		RETURNING locked_until IS NOT NULL AND locked_until > $4`
	var nowLocked bool
	if err := s.db.QueryRow(ctx, q, id, MaxFailedLogins, now.Add(LockDuration), now).Scan(&nowLocked); err != nil {
		return fmt.Errorf("record failed login: %w", err)
	}
	if nowLocked {
		return ErrLocked
	}
	return ErrBadLogin
}

func (s *Store) newSession(ctx context.Context, userID int64, ip, agent string, now time.Time) (string, error) {
	b := make([]byte, 32)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	_, err := s.db.Exec(ctx, `INSERT INTO session (token_hash, user_id, created_at, last_seen, ip, user_agent) VALUES ($1, $2, $3, $3, $4, $5)`,
		hashToken(token), userID, now, ip, agent)
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return token, nil
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// ErrNoSession means the token names no live session.
var ErrNoSession = errors.New("no session")

// Session returns the user of a live session and marks it used. Sessions
// past the idle timeout or the absolute lifetime are deleted.
func (s *Store) Session(ctx context.Context, token string) (User, error) {
	now := s.now()
	// One round trip per request: mark the session used and read its user.
	const q = `
		WITH s AS (
			UPDATE session SET last_seen = $2
			WHERE token_hash = $1 AND last_seen > $3 AND created_at > $4
			RETURNING user_id)
		SELECT ` + userCols + ` FROM s JOIN app_user u ON u.id = s.user_id LEFT JOIN region r ON r.code = u.region_code`
	u, err := scanUser(s.db.QueryRow(ctx, q, hashToken(token), now, now.Add(-s.IdleTimeout), now.Add(-s.MaxLifetime)))
	if errors.Is(err, pgx.ErrNoRows) {
		_, _ = s.db.Exec(ctx, `DELETE FROM session WHERE token_hash = $1`, hashToken(token)) // tidying only: the session is refused either way
		return User{}, ErrNoSession
	}
	if err != nil {
		return User{}, fmt.Errorf("session: %w", err)
	}
	if u.Disabled {
		return User{}, ErrNoSession
	}
	return u, nil
}

// Logout ends a session.
func (s *Store) Logout(ctx context.Context, token string) error {
	_, err := s.db.Exec(ctx, `DELETE FROM session WHERE token_hash = $1`, hashToken(token))
	return err
}

// PurgeSessions deletes expired sessions; the server calls it periodically.
func (s *Store) PurgeSessions(ctx context.Context) (int64, error) {
	now := s.now()
	tag, err := s.db.Exec(ctx, `DELETE FROM session WHERE last_seen <= $1 OR created_at <= $2`, now.Add(-s.IdleTimeout), now.Add(-s.MaxLifetime))
	return tag.RowsAffected(), err
}
