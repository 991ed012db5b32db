package db

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

func TestPoolSize(t *testing.T) {
	for _, c := range []struct {
		url, env string
		want     int32
		bad      bool
	}{
		{"postgres://u@localhost/db", "", int32(DefaultConns), false},
		{"postgres://u@localhost/db", "40", 40, false},
		{"postgres://u@localhost/db?pool_max_conns=3", "40", 3, false},
		{"postgres://u@localhost/db", "0", 0, true},
		{"postgres://u@localhost/db", "many", 0, true},
	} {
		t.Setenv("CANBAO_DB_CONNS", c.env)
		cfg, err := pgxpool.ParseConfig(c.url)
		if err != nil {
			t.Fatal(err)
		}
		err = poolSize(cfg, c.url)
		if c.bad {
			if err == nil || !strings.Contains(err.Error(), "CANBAO_DB_CONNS") {
				t.Errorf("%s with CANBAO_DB_CONNS=%q: %v, want an error naming the variable", c.url, c.env, err)
			}
			continue
		}
		if err != nil || cfg.MaxConns != c.want {
			t.Errorf("%s with CANBAO_DB_CONNS=%q: %d connections (%v), want %d", c.url, c.env, cfg.MaxConns, err, c.want)
		}
	}
}
