package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/auth"
	"github.com/canbao/canbao/internal/db"
)

func runUser(ctx context.Context, cfg Config, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: canbao user add|passwd|disable|enable ...")
	}
	if err := cfg.needDB(); err != nil {
		return err
	}
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	users := auth.NewStore(pool)
	cli := audit.Entry{Username: "cli:" + osUser(), IP: "local"}
	switch args[0] {
	case "add":
		fl := flag.NewFlagSet("user add", flag.ContinueOnError)
		n := auth.NewUser{}
		fl.StringVar(&n.Username, "username", "", "login name")
		fl.StringVar(&n.DisplayName, "name", "", "display name")
		role := fl.String("role", "", "admin|city|county|township|leader")
		fl.StringVar(&n.RegionCode, "region", "", "region code the user is bound to")
		if err := fl.Parse(args[1:]); err != nil {
			return err
		}
		n.Role = auth.Role(*role)
		if n.Password, err = readPassword(); err != nil {
			return err
		}
		if _, err := users.Create(ctx, n); err != nil {
			return err
		}
		cli.Action, cli.Object, cli.Region = audit.UserCreate, "user:"+n.Username, n.RegionCode
	case "passwd", "disable", "enable":
		if len(args) != 2 {
			return fmt.Errorf("usage: canbao user %s USERNAME", args[0])
		}
		u, err := users.ByName(ctx, args[1])
		if err != nil {
			return err
		}
		cli.Object, cli.Region = "user:"+u.Username, u.RegionCode // filed for that account's administrators
		switch args[0] {
		case "passwd":
			pw, err := readPassword()
			if err != nil {
				return err
			}
			err = users.SetPassword(ctx, u.ID, pw)
			cli.Action = audit.UserPassword
			if err != nil {
				return err
			}
		case "disable", "enable":
			cli.Action = map[bool]string{true: audit.UserDisable, false: audit.UserEnable}[args[0] == "disable"]
			if err := users.SetDisabled(ctx, u.ID, args[0] == "disable"); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unknown user command %q", args[0])
	}
	fmt.Println("ok")
	return audit.Record(ctx, pool, cli)
}

// readPassword takes the password from CANBAO_PASSWORD or the first line of
// stdin, so it never appears in the process list or shell history.
func readPassword() (string, error) {
	if pw := os.Getenv("CANBAO_PASSWORD"); pw != "" {
		return pw, nil
	}
	fmt.Fprint(os.Stderr, "password: ")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password given (set CANBAO_PASSWORD or type it on stdin)")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func osUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}
