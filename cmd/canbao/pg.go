package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"

	"github.com/canbao/canbao/internal/pgcluster"
)

func runPG(ctx context.Context, cfg Config, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: canbao pg start|stop|run ...")
	}
	fl := flag.NewFlagSet("pg "+args[0], flag.ContinueOnError)
	dir := fl.String("dir", cfg.DataDir, "folder that holds the cluster")
	port := fl.Int("port", cfg.PGPort, "TCP port on 127.0.0.1")
	temp := fl.Bool("temp", false, "throwaway cluster in a temporary folder (run)")
	if err := fl.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "start":
		c, err := pgcluster.New(*dir, *port)
		if err != nil {
			return err
		}
		if err := c.Start(ctx, "canbao"); err != nil {
			return err
		}
		fmt.Println(c.URL("canbao"))
		return nil
	case "stop":
		c, err := pgcluster.New(*dir, *port)
		if err != nil {
			return err
		}
		return c.Stop(ctx)
	case "run":
		if !*temp {
			return errors.New("pg run needs --temp")
		}
		return runTemp(ctx, fl.Args())
	}
	return fmt.Errorf("unknown pg command %q", args[0])
}

// runTemp runs a command against a throwaway cluster and removes the
// cluster afterwards whatever the command's outcome.
func runTemp(ctx context.Context, cmdline []string) error {
	if len(cmdline) == 0 {
		return errors.New("pg run --temp -- CMD...")
	}
	dir, err := os.MkdirTemp("", "canbao-pg-")
	if err != nil {
		return err
	}
	c, err := pgcluster.New(dir, 0)
	if err != nil {
		return err
	}
	c.Throwaway = true
	defer func() { _ = c.Remove(context.Background()) }()
	if err := c.Start(ctx, "canbao"); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, cmdline[0], cmdline[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "CANBAO_TEST_DATABASE_URL="+c.URL("canbao"), "CANBAO_TEST_PG_DIR="+dir)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", cmdline[0], err)
	}
	return nil
}
