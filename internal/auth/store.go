package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	// MaxSessions bounds a user's live sessions; a new login ends the
	// least recently used beyond it.
	MaxSessions int
	// Verify checks a password against a hash (VerifyPassword; tests count
	// the hashes a burst of logins costs through it).
	Verify func(hash, pw string) bool
	now    func() time.Time
	// hashing bounds the password checks under way at once: each costs
	// 19 MiB and tens of milliseconds of CPU, so a flood of logins from
	// many addresses queues here instead of exhausting the server.
	hashing chan struct{}
	// sessions keeps sessions read within SessionTTL.
	sessions sessionCache
}

// verify checks pw against hash, waiting its turn among the checks under
// way; a request that gives up while waiting checks nothing.
func (s *Store) verify(ctx context.Context, hash, pw string) (bool, error) {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.hashing }()
	if s.Verify != nil {
		return s.Verify(hash, pw), nil
	}
	return VerifyPassword(hash, pw), nil
}

// MaxHashing is how many password checks run at once.
var MaxHashing = max(2, runtime.GOMAXPROCS(0))

// NewStore returns a Store with the default 30-minute idle timeout,
// 12-hour absolute lifetime and five sessions per user.
func NewStore(db *pgxpool.Pool) *Store {
	return &Store{db: db, IdleTimeout: 30 * time.Minute, MaxLifetime: 12 * time.Hour, MaxSessions: 5, now: time.Now,
		hashing: make(chan struct{}, MaxHashing)}
}

// ErrBadLogin is returned for a wrong user name or password; the message
// does not say which, so names cannot be probed.
var ErrBadLogin = apperr.Invalidf("用户名或密码错误")

const lockedMsg = "登录失败次数过多，账户已锁定15分钟，请稍后再试"

// ErrLocked is returned while an account is locked after failed logins.
var ErrLocked = apperr.Forbiddenf(lockedMsg)

// ErrLockedNow is returned by the failure that locks an account (it is
// also ErrLocked), so the lock itself can be audited.
var ErrLockedNow = &apperr.Error{Kind: apperr.Forbidden, Msg: lockedMsg, Err: ErrLocked}

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
	if a.Sees(n.RegionCode) {
		e.Region = n.RegionCode // filed for that account's administrators
	}
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
	e.Object, e.Region = "user:"+u.Username, u.RegionCode // filed for that account's administrators
	if u.ID == a.UserID && disabled {
		return apperr.Invalidf("不能停用自己的账户")
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `UPDATE app_user SET disabled = $2, failed_logins = 0, locked_until = NULL, updated_at = now() WHERE id = $1`, id, disabled)
	if err != nil {
		return fmt.Errorf("disable user %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFoundf("用户不存在")
	}
	if err := clearAttempts(ctx, tx, id); err != nil {
		return err
	}
	if disabled {
		if _, err := tx.Exec(ctx, `DELETE FROM session WHERE user_id = $1`, id); err != nil {
			return err
		}
	}
	if err := audit.Record(ctx, tx, *e); err != nil {
		return err
	}
	err = tx.Commit(ctx)
	s.sessions.forgetUser(id)
	return err
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
	e.Object, e.Region = "user:"+u.Username, u.RegionCode // filed for that account's administrators
	if err := CheckPolicy(pw); err != nil {
		return err
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `UPDATE app_user SET password_hash = $2, failed_logins = 0, locked_until = NULL, updated_at = now() WHERE id = $1`, id, HashPassword(pw))
	if err != nil {
		return fmt.Errorf("set password %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFoundf("用户不存在")
	}
	if err := clearAttempts(ctx, tx, id); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM session WHERE user_id = $1`, id); err != nil {
		return err
	}
	if err := audit.Record(ctx, tx, *e); err != nil {
		return err
	}
	err = tx.Commit(ctx)
	s.sessions.forgetUser(id)
	return err
}

// Login checks a user name and password and starts a session, and writes
// the attempt's audit line either way: a success with its session, in one
// transaction; a failure (and the lock it may cause) filed under the named
// account's region, so that account's administrators see it (a name with
// no account has no region: those lines go to every administrator). A
// login whose audit line cannot be written fails.
func (s *Store) Login(ctx context.Context, name, pw, ip, agent string) (User, string, error) {
	target, token, err := s.login(ctx, name, pw, ip, agent)
	if err == nil || apperr.KindOf(err) == apperr.Internal {
		return target, token, err
	}
	e := loginEntry(name, target, ip)
	e.Action, e.Result = audit.LoginFailed, failReason(err)
	if aerr := audit.Record(ctx, s.db, e); aerr != nil {
		return target, "", aerr
	}
	if errors.Is(err, ErrLockedNow) {
		e.Action, e.Result, e.Detail = audit.LoginLocked, "ok", "连续登录失败，锁定15分钟"
		if aerr := audit.Record(ctx, s.db, e); aerr != nil {
			return target, "", aerr
		}
	}
	return target, "", err
}

// Throttled records a login refused before any check because its client
// tried too often.
func (s *Store) Throttled(ctx context.Context, name, ip string) error {
	e := loginEntry(name, User{}, ip)
	e.Action, e.Result = audit.LoginFailed, "throttled"
	return audit.Record(ctx, s.db, e)
}

// loginEntry is the audit line of a login as name (cut to a length worth
// keeping) from ip, about the account target when there is one.
func loginEntry(name string, target User, ip string) audit.Entry {
	name = attemptKey(name)
	e := audit.Entry{Username: name, Region: target.RegionCode, IP: ip, Object: "user:" + name}
	if target.ID != 0 {
		id := target.ID
		e.UserID = &id
	}
	return e
}

func failReason(err error) string {
	switch {
	case errors.Is(err, ErrLocked):
		return "locked"
	case errors.Is(err, ErrDisabled):
		return "disabled"
	}
	return "bad password"
}

// login checks a user name and password. Every attempt is counted against
// the name before the password is hashed, so parallel guesses cannot
// outrun the lock: after MaxFailedLogins failures the name is locked for
// LockDuration, and while locked no password is checked. Unknown names
// take the same path and time as known ones (a dummy hash is checked) and
// lock the same way, so neither the answer nor its timing says whether an
// account exists. On success it returns the user and a new session token
// (a fresh ID at every login); on failure the user of that name, if any,
// so the failure can be audited in that user's region.
func (s *Store) login(ctx context.Context, name, pw, ip, agent string) (User, string, error) {
	key := attemptKey(name)
	now := s.now()
	n, locked, err := s.countAttempt(ctx, key, now)
	if err != nil {
		return User{}, "", err
	}
	target, hash, found, err := s.loginTarget(ctx, name)
	if err != nil {
		return User{}, "", err
	}
	if locked || n > MaxFailedLogins {
		return target, "", ErrLocked
	}
	if !found {
		hash = dummyHash // same work as a real check
	}
	ok, err := s.verify(ctx, hash, pw)
	if err != nil {
		return target, "", err
	}
	if !ok || !found {
		if n < MaxFailedLogins {
			return target, "", ErrBadLogin
		}
		if _, err := s.db.Exec(ctx, `UPDATE login_attempt SET locked_until = $2 WHERE name = $1`, key, now.Add(LockDuration)); err != nil {
			return target, "", fmt.Errorf("lock %s: %w", key, err)
		}
		return target, "", ErrLockedNow
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM login_attempt WHERE name = $1`, key); err != nil {
		return target, "", fmt.Errorf("reset login attempts: %w", err)
	}
	if target.Disabled {
		return target, "", ErrDisabled
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return User{}, "", err
	}
	defer tx.Rollback(ctx)
	token, err := s.newSession(ctx, tx, target.ID, ip, agent, now)
	if err != nil {
		return User{}, "", err
	}
	e := loginEntry(name, target, ip)
	e.Action = audit.LoginOK
	if err := audit.Record(ctx, tx, e); err != nil {
		return User{}, "", err
	}
	err = tx.Commit(ctx)
	s.sessions.forgetUser(target.ID) // the login may have ended the user's oldest session
	return target, token, err
}

// countAttempt counts one login attempt against key and returns how many
// there have been since the last success, and whether the name is locked.
// An expired lock, or a pause as long as a lock, starts the count afresh.
func (s *Store) countAttempt(ctx context.Context, key string, now time.Time) (int, bool, error) {
	const q = `
		INSERT INTO login_attempt AS a (name, failures, last_attempt) VALUES ($1, 1, $2)
		ON CONFLICT (name) DO UPDATE SET
			failures     = CASE WHEN a.locked_until <= $2 OR (a.locked_until IS NULL AND a.last_attempt <= $3) THEN 1
			                    ELSE a.failures + 1 END,
			locked_until = CASE WHEN a.locked_until <= $2 THEN NULL ELSE a.locked_until END,
			last_attempt = $2
		RETURNING failures, locked_until IS NOT NULL`
	var n int
	var locked bool
	if err := s.db.QueryRow(ctx, q, key, now, now.Add(-LockDuration)).Scan(&n, &locked); err != nil {
		return 0, false, fmt.Errorf("count login attempt: %w", err)
	}
	return n, locked, nil
}

// loginTarget reads the account a login names, if there is one.
func (s *Store) loginTarget(ctx context.Context, name string) (User, string, bool, error) {
	if utf8.RuneCountInString(name) > maxUsername {
		return User{}, "", false, nil
	}
	var hash string
	var u User
	err := s.db.QueryRow(ctx, `SELECT `+userCols+`, u.password_hash FROM app_user u LEFT JOIN region r ON r.code = u.region_code
		WHERE u.username = $1`, name).Scan(&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.RegionCode, &u.RegionName, &u.Disabled, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, "", false, nil
	}
	if err != nil {
		return User{}, "", false, fmt.Errorf("login %s: %w", name, err)
	}
	return u, hash, true, nil
}

// maxUsername is the longest user name, in characters.
const maxUsername = 64

// attemptKey is the name failures are counted under: as typed, cut to
// maxUsername characters (no account has a longer name).
func attemptKey(name string) string {
	if r := []rune(name); len(r) > maxUsername {
		return string(r[:maxUsername])
	}
	return name
}

var dummyHash = HashPassword("dummy-Password-1")

// clearAttempts forgets the failed logins of a user name (an administrator
// reset the password or re-enabled the account).
func clearAttempts(ctx context.Context, tx pgx.Tx, id int64) error {
	_, err := tx.Exec(ctx, `DELETE FROM login_attempt WHERE name = (SELECT username FROM app_user WHERE id = $1)`, id)
	return err
}

func (s *Store) newSession(ctx context.Context, tx pgx.Tx, userID int64, ip, agent string, now time.Time) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	_, err := tx.Exec(ctx, `INSERT INTO session (token_hash, user_id, created_at, last_seen, ip, user_agent) VALUES ($1, $2, $3, $3, $4, $5)`,
		hashToken(token), userID, now, ip, agent)
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	if s.MaxSessions > 0 {
		const q = `DELETE FROM session WHERE token_hash IN (
			SELECT token_hash FROM session WHERE user_id = $1 ORDER BY last_seen DESC, created_at DESC OFFSET $2)`
		if _, err := tx.Exec(ctx, q, userID, s.MaxSessions); err != nil {
			return "", fmt.Errorf("limit sessions: %w", err)
		}
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
// past the idle timeout or the absolute lifetime are deleted. A session
// read within SessionTTL is answered from memory (sessioncache.go).
func (s *Store) Session(ctx context.Context, token string) (User, error) {
	now := s.now()
	hash := hashToken(token)
	if u, ok := s.sessions.get(hash, now); ok {
		return u, nil
	}
	gen := s.sessions.generation()
	// One round trip per request: read the session's user, and mark the
	// session used when it was last marked over a minute ago. Writing it on
	// every request made a user's concurrent requests queue on the row lock;
	// the idle timeout may now end a session up to a minute early.
	const q = `
		WITH s AS (
			SELECT token_hash, user_id, last_seen FROM session
			WHERE token_hash = $1 AND last_seen > $3 AND created_at > $4),
		touch AS (
			UPDATE session SET last_seen = $2 FROM s
			WHERE session.token_hash = s.token_hash AND s.last_seen < $5)
		SELECT ` + userCols + ` FROM s JOIN app_user u ON u.id = s.user_id LEFT JOIN region r ON r.code = u.region_code`
	u, err := scanUser(s.db.QueryRow(ctx, q, hash, now, now.Add(-s.IdleTimeout), now.Add(-s.MaxLifetime), now.Add(-time.Minute)))
	if errors.Is(err, pgx.ErrNoRows) {
		_, _ = s.db.Exec(ctx, `DELETE FROM session WHERE token_hash = $1`, hash) // tidying only: the session is refused either way
		return User{}, ErrNoSession
	}
	if err != nil {
		return User{}, fmt.Errorf("session: %w", err)
	}
	if u.Disabled {
		return User{}, ErrNoSession
	}
	s.sessions.put(hash, u, now, gen)
	return u, nil
}

// Logout ends a session; when it ends a's own session on their request
// (audited is true), the logout is audited with it, in one transaction.
// Replacing an old session at login is not audited: the login is.
func (s *Store) Logout(ctx context.Context, a actor.Actor, token string, audited bool) error {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DELETE FROM session WHERE token_hash = $1`, hashToken(token)); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	if audited {
		if err := audit.Record(ctx, tx, audit.For(a, audit.Logout, "")); err != nil {
			return err
		}
	}
	err = tx.Commit(ctx)
	s.sessions.forget(hashToken(token))
	return err
}

// PurgeSessions deletes expired sessions, and failed-login counts that no
// longer matter; the server calls it periodically.
func (s *Store) PurgeSessions(ctx context.Context) (int64, error) {
	now := s.now()
	tag, err := s.db.Exec(ctx, `DELETE FROM session WHERE last_seen <= $1 OR created_at <= $2`, now.Add(-s.IdleTimeout), now.Add(-s.MaxLifetime))
	if err != nil {
		return 0, err
	}
	const q = `DELETE FROM login_attempt WHERE last_attempt <= $1 AND (locked_until IS NULL OR locked_until <= $2)`
	_, err = s.db.Exec(ctx, q, now.Add(-LockDuration), now)
	return tag.RowsAffected(), err
}
