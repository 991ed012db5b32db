package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/canbao/canbao/internal/db"
	"github.com/canbao/canbao/internal/server"
)

func runServe(ctx context.Context, cfg Config, log *slog.Logger) error {
	pool, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	hour, minute, snapshotOn, err := server.ParseSnapshotAt(cfg.SnapshotAt)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := server.New(server.Config{
		SecureCookies:  cfg.SecureCookies,
		TrustProxy:     cfg.TrustProxy,
		ProxyNets:      cfg.ProxyNets,
		ProxyHeader:    cfg.ProxyHeader,
		MaxUpload:      cfg.MaxUploadMB << 20,
		TempDir:        cfg.TempDir,
		Jobs:           cfg.Jobs,
		SnapshotOn:     snapshotOn,
		SnapshotHour:   hour,
		SnapshotMinute: minute,
	}, pool, log)
	url := "http://" + ln.Addr().String()
	if host, port, _ := net.SplitHostPort(cfg.Addr); host == "localhost" {
		url = "http://localhost:" + port
	}
	log.Info("serving", "url", url)
	fmt.Printf("\n  全民参保登记系统已启动: %s  (Ctrl-C 退出)\n\n", url)
	return srv.Run(ctx, ln)
}

func runMigrate(cfg Config) error {
	if err := cfg.needDB(); err != nil {
		return err
	}
	return db.Migrate(cfg.DatabaseURL)
}
