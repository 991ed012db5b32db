package region

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
)

// Region is one administrative division. Codes keep their natural length:
// "" (全国), 44, 4409, 440981, 440981107, 440981107204.
type Region struct {
	Code       string
	Name       string
	Level      int
	ParentCode string
}

// Level names, indexed by Region.Level.
var LevelNames = []string{"全国", "省", "市", "县", "乡镇", "村"}

// LevelOf returns the level a code's length implies, or -1.
func LevelOf(code string) int {
	switch len(code) {
	case 0:
		return 0
	case 2:
		return 1
	case 4:
		return 2
	case 6:
		return 3
	case 9:
		return 4
	case 12:
		return 5
	}
	return -1
}

// ChildLen is the code length of the regions directly below code (a
// village's, 12, for a village).
func ChildLen(code string) int {
	switch len(code) {
	case 0:
		return 2
	case 2:
		return 4
	case 4:
		return 6
	case 6:
		return 9
	}
	return 12
}

// Short turns a 12-digit statistical code into its natural length by
// dropping trailing all-zero segments: 440981000000 → 440981.
func Short(code12 string) string {
	c := code12
	for _, cut := range []int{9, 6, 4, 2, 0} {
		if len(c) > cut && strings.Trim(c[cut:], "0") == "" {
			c = c[:cut]
		}
	}
	return c
}

// Within reports whether code lies inside scope (a region contains itself):
// actor.Within, named here too for code that compares two regions without
// an actor (a run's region and a page's).
func Within(scope, code string) bool { return actor.Within(scope, code) }

// Store reads and writes regions.
type Store struct{ db *pgxpool.Pool }

// NewStore returns a Store over db.
func NewStore(db *pgxpool.Pool) *Store { return &Store{db: db} }

// Get returns one region; outside the actor's it is reported as not found.
func (s *Store) Get(ctx context.Context, a actor.Actor, code string) (Region, error) {
	if err := a.CheckIn(actor.RegionRead, code, "区划 "+code); err != nil {
		return Region{}, err
	}
	const q = `SELECT code, name, level, coalesce(parent_code, '') FROM region WHERE code = $1`
	var r Region
	err := s.db.QueryRow(ctx, q, code).Scan(&r.Code, &r.Name, &r.Level, &r.ParentCode)
	if errors.Is(err, pgx.ErrNoRows) {
		return Region{}, apperr.NotFoundf("区划 %s 不存在", code)
	}
	if err != nil {
		return Region{}, fmt.Errorf("get region %s: %w", code, err)
	}
	return r, nil
}

// Child is a region with the number of regions directly below it.
type Child struct {
	Region
	Children int
}

// Children lists the regions directly below code, by code.
func (s *Store) Children(ctx context.Context, code string) ([]Child, error) {
	const q = `
		SELECT r.code, r.name, r.level, coalesce(r.parent_code, ''),
		       (SELECT count(*) FROM region c WHERE c.parent_code = r.code)
		FROM region r
		WHERE r.parent_code = $1
		ORDER BY r.code`
	rows, err := s.db.Query(ctx, q, code)
	if err != nil {
		return nil, fmt.Errorf("children of %s: %w", code, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Child, error) {
		var c Child
		err := row.Scan(&c.Code, &c.Name, &c.Level, &c.ParentCode, &c.Children)
		return c, err
	})
}

// Path returns the chain of regions from the root down to code.
func (s *Store) Path(ctx context.Context, code string) ([]Region, error) {
	var prefixes []string
	for _, n := range []int{0, 2, 4, 6, 9, 12} {
		if n <= len(code) {
			prefixes = append(prefixes, code[:n])
		}
	}
	const q = `SELECT code, name, level, coalesce(parent_code, '') FROM region WHERE code = ANY($1) ORDER BY level`
	rows, err := s.db.Query(ctx, q, prefixes)
	if err != nil {
		return nil, fmt.Errorf("path of %s: %w", code, err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Region])
}

// Names returns the names of the given codes (missing codes are absent).
func (s *Store) Names(ctx context.Context, codes []string) (map[string]string, error) {
	rows, err := s.db.Query(ctx, `SELECT code, name FROM region WHERE code = ANY($1)`, codes)
	if err != nil {
		return nil, fmt.Errorf("region names: %w", err)
	}
	defer rows.Close()
	m := make(map[string]string, len(codes))
	for rows.Next() {
		var c, n string
		if err := rows.Scan(&c, &n); err != nil {
			return nil, err
		}
		m[c] = n
	}
	return m, rows.Err()
}

// Count returns how many regions lie inside the actor's (excluding the root row).
func (s *Store) Count(ctx context.Context, a actor.Actor) (int, error) {
	if err := a.Check(actor.RegionRead); err != nil {
		return 0, err
	}
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM region WHERE `+actor.InScope("code", "$1")+` AND code <> ''`, a.Region).Scan(&n)
	return n, err
}

// Search finds regions inside the actor's whose name or code contains q.
func (s *Store) Search(ctx context.Context, a actor.Actor, q string, limit int) ([]Region, error) {
	if err := a.Check(actor.RegionRead); err != nil {
		return nil, err
	}
	sql := `
		SELECT code, name, level, coalesce(parent_code, '') FROM region
		WHERE ` + actor.InScope("code", "$1") + ` AND code <> '' AND (name LIKE '%' || $2 || '%' OR code LIKE $2 || '%')
		ORDER BY level, code LIMIT $3`
	rows, err := s.db.Query(ctx, sql, a.Region, q, limit)
	if err != nil {
		return nil, fmt.Errorf("search regions: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Region])
}

// Top returns the highest region that holds every loaded region: the
// installation's own city when only that city is loaded.
func (s *Store) Top(ctx context.Context) (string, error) {
	code := ""
	for {
		rows, err := s.db.Query(ctx, `SELECT code FROM region WHERE parent_code = $1 LIMIT 2`, code)
		if err != nil {
			return "", err
		}
		kids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return "", err
		}
		if len(kids) != 1 {
			return code, nil
		}
		code = kids[0]
	}
}
