package registry_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/registry"
)

// benchPersons sizes BenchmarkApply: 100,000 persons by default,
// CANBAO_BENCH_PERSONS overrides it.
func benchPersons() int {
	if n, err := strconv.Atoi(os.Getenv("CANBAO_BENCH_PERSONS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// synthetic is a county's persons in ID order, held the way a comparison
// holds them: columns of values, found by ID through a map.
type synthetic struct {
	ids     []string
	names   []string
	births  []string
	regions []string
	index   map[string]int
}

func newSynthetic(n int) *synthetic {
	s := &synthetic{index: make(map[string]int, n)}
	for k := range n {
		birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, k/1000*97)
		base := fmt.Sprintf("440981%s%03d", birth.Format("20060102"), k%1000)
		id := base + string(idcard.CheckChar(base))
		if _, dup := s.index[id]; dup {
			continue
		}
		s.index[id] = len(s.ids)
		s.ids = append(s.ids, id)
		s.names = append(s.names, "人员"+strconv.Itoa(k))
		s.births = append(s.births, base[6:10]+"-"+base[10:12]+"-"+base[12:14])
		s.regions = append(s.regions, fmt.Sprintf("440981%03d%03d", 100+k%20, 1+k%30))
	}
	return s
}

func (s *synthetic) Len() int                    { return len(s.ids) }
func (s *synthetic) ID(buf []byte, k int) []byte { return append(buf, s.ids[k]...) }
func (s *synthetic) Find(id []byte) (int, bool)  { k, ok := s.index[string(id)]; return k, ok }
func (s *synthetic) value(k int, f registry.Field) string {
	switch f {
	case registry.Name:
		return s.names[k]
	case registry.Sex:
		return "男"
	case registry.Birth:
		return s.births[k]
	case registry.Household:
		return "H" + s.ids[k][12:17]
	case registry.PopStatus:
		return "正常"
	case registry.IdentityKind:
		return "户籍人口"
	case registry.HukouRegion, registry.RegionCode:
		return s.regions[k]
	}
	return ""
}
func (s *synthetic) Value(buf []byte, k int, f registry.Field) ([]byte, bool) {
	return append(buf, s.value(k, f)...), true
}

// BenchmarkApply measures the bulk path at a county's scale: a first
// comparison adding every person, a rerun that finds nothing new, and one
// where a tenth of the persons changed their name.
func BenchmarkApply(b *testing.B) {
	db, _ := pgtest.New(b)
	ctx := context.Background()
	s := newSynthetic(benchPersons())
	b.Logf("%d persons", s.Len())
	var insert, rerun, change time.Duration
	for i := 0; i < b.N; i++ {
		if _, err := db.Exec(ctx, `TRUNCATE person, person_event`); err != nil {
			b.Fatal(err)
		}
		insert = timeApply(b, db, s, 1)
		rerun = timeApply(b, db, s, 2)
		for k := 0; k < s.Len(); k += 10 {
			s.names[k] += "改"
		}
		change = timeApply(b, db, s, 3)
		for k := 0; k < s.Len(); k += 10 {
			s.names[k] = s.names[k][:len(s.names[k])-len("改")]
		}
	}
	b.ReportMetric(insert.Seconds(), "insert-s")
	b.ReportMetric(rerun.Seconds(), "rerun-s")
	b.ReportMetric(change.Seconds(), "change10pct-s")
	b.ReportMetric(float64(s.Len())/insert.Seconds(), "inserts/s")
}

func timeApply(b *testing.B, db *pgxpool.Pool, s *synthetic, run int64) time.Duration {
	ctx := context.Background()
	t := time.Now()
	tx, err := db.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback(ctx)
	res, err := registry.Apply(ctx, tx, registry.ChangeSet{Source: registry.Source{Kind: registry.Comparison, ID: run},
		Effective: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC), Region: "440981", Persons: s})
	if err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	d := time.Since(t)
	b.Logf("set %d: %+v in %v", run, res, d)
	return d
}
