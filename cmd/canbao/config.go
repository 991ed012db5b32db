package main

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/canbao/canbao/internal/db"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Config is read once from the environment; README.md documents each variable.
type Config struct {
	DatabaseURL   string
	Addr          string
	LogLevel      slog.Level
	LogJSON       bool
	SecureCookies bool
	TrustProxy    bool
	ProxyNets     []netip.Prefix // the proxies CANBAO_TRUST_PROXY names; none: any peer
	ProxyHeader   string         // the header the proxy writes the client into (CANBAO_PROXY_HEADER)
	MaxUploadMB   int64
	TempDir       string
	Jobs          int
	SnapshotAt    string // CANBAO_SNAPSHOT_AT: HH:MM of the nightly indicator snapshot, or off
	DataDir       string
	PGPort        int
}

func loadConfig() Config {
	c := Config{
		DatabaseURL:   os.Getenv("DATABASE_URL"),
		Addr:          env("CANBAO_ADDR", "localhost:8080"),
		LogJSON:       env("CANBAO_LOG_FORMAT", "text") == "json",
		SecureCookies: envBool("CANBAO_SECURE_COOKIES"),
		MaxUploadMB:   int64(envInt("CANBAO_MAX_UPLOAD_MB", 512)),
		TempDir:       env("CANBAO_TMPDIR", os.TempDir()),
		Jobs:          envInt("CANBAO_JOBS", 2),
		SnapshotAt:    env("CANBAO_SNAPSHOT_AT", ""),
		DataDir:       env("CANBAO_DATA_DIR", ".data"),
		PGPort:        envInt("CANBAO_PG_PORT", 54329),
	}
	_ = c.LogLevel.UnmarshalText([]byte(env("CANBAO_LOG_LEVEL", "info"))) // an unknown level leaves info
	c.TrustProxy, c.ProxyNets = proxyConfig(os.Getenv("CANBAO_TRUST_PROXY"))
	c.ProxyHeader = env("CANBAO_PROXY_HEADER", "X-Forwarded-For")
	return c
}

func (c Config) needDB() error {
	if c.DatabaseURL == "" {
		return errors.New("DATABASE_URL is not set (make run sets it for the local cluster)")
	}
	return nil
}

func newLogger(c Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogJSON {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

func env(key, def string) string {
	if v := strings.TrimSpace(os.Getenv(key)); v != "" {
		return v
	}
	return def
}

func envInt(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return n
	}
	return def
}

// proxyConfig reads CANBAO_TRUST_PROXY: false (default), true (the peer
// is the reverse proxy), or a comma-separated list of the proxies'
// addresses or networks (only those peers are believed). An entry that
// does not parse is ignored; a list with no valid entry trusts nobody.
func proxyConfig(v string) (bool, []netip.Prefix) {
	v = strings.TrimSpace(v)
	if b, err := strconv.ParseBool(v); err == nil || v == "" {
		return b, nil
	}
	var nets []netip.Prefix
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if p, err := netip.ParsePrefix(part); err == nil {
			nets = append(nets, p.Masked())
		} else if a, err := netip.ParseAddr(part); err == nil {
			nets = append(nets, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return len(nets) > 0, nets
}

func envBool(key string) bool {
	b, _ := strconv.ParseBool(os.Getenv(key))
	return b
}

// openDB connects to DATABASE_URL after bringing the schema up to date.
func openDB(ctx context.Context, cfg Config) (*pgxpool.Pool, error) {
	if err := cfg.needDB(); err != nil {
		return nil, err
	}
	if err := db.Migrate(cfg.DatabaseURL); err != nil {
		return nil, err
	}
	return db.Open(ctx, cfg.DatabaseURL)
}
