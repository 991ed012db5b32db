// Package pgcluster runs a private PostgreSQL cluster in a folder, for
// `make run` (kept under ./.data) and `make test` (a throwaway one).
//
// initdb and postgres refuse to run as root, so when we are root every
// server command runs as the postgres user through runuser, and the folder
// is handed to that user.
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Cluster is a PostgreSQL data folder with its own socket and port.
type Cluster struct {
	Dir  string // holds pg/ (the data folder), the socket and the log
	Port int
	// Throwaway turns fsync off: test clusters trade durability for speed.
	Throwaway bool
	bin       string
	runAs     *user.User
}

// New prepares a cluster in dir on port (0 picks a free port).
func New(dir string, port int) (*Cluster, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: abs, Port: port, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("running as root needs the postgres system user (install postgresql)")
		}
		c.runAs = u
	}
	return c, nil
}

// URL is the connection string for database name.
func (c *Cluster) URL(name string) string {
	return fmt.Sprintf("postgres://canbao@127.0.0.1:%d/%s?sslmode=disable", c.Port, name)
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "pg") }
func (c *Cluster) logFile() string { return filepath.Join(c.Dir, "postgres.log") }

// Start initialises the cluster if needed, starts it if it is not running
// and makes sure database name exists.
func (c *Cluster) Start(ctx context.Context, name string) error {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return err
	}
	if err := c.own(c.Dir); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); err != nil {
		if err := c.initdb(ctx); err != nil {
			return err
		}
	}
	if !c.running(ctx) {
		if err := c.start(ctx); err != nil {
			return err
		}
	}
	return c.createDB(ctx, name)
}

func (c *Cluster) initdb(ctx context.Context) error {
	args := []string{"-D", c.dataDir(), "-U", "canbao", "-E", "UTF8", "--locale=C", "--auth=trust"}
	if c.Throwaway {
		args = append(args, "--no-sync")
	}
	if out, err := c.run(ctx, "initdb", args...); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

func (c *Cluster) start(ctx context.Context) error {
	if c.Port == 0 {
		p, err := freePort()
		if err != nil {
			return err
		}
		c.Port = p
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", c.Port, c.Dir)
	if c.Throwaway {
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
	}
	out, err := c.run(ctx, "pg_ctl", "-D", c.dataDir(), "-l", c.logFile(), "-o", opts, "-w", "-t", "60", "start")
	if err != nil {
		log, _ := os.ReadFile(c.logFile())
		return fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, tail(log, 2000))
	}
	return os.WriteFile(filepath.Join(c.Dir, "port"), []byte(strconv.Itoa(c.Port)), 0o644)
}

// running reports whether the server is up, and adopts the port it was
// started on so a second `make run` reuses it.
func (c *Cluster) running(ctx context.Context) bool {
	if _, err := c.run(ctx, "pg_ctl", "-D", c.dataDir(), "status"); err != nil {
		return false
	}
	if b, err := os.ReadFile(filepath.Join(c.Dir, "port")); err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			c.Port = p
		}
	}
	return true
}

func (c *Cluster) createDB(ctx context.Context, name string) error {
	psql := filepath.Join(c.bin, "psql")
	if _, err := os.Stat(psql); err != nil {
		psql = "psql"
	}
	q := fmt.Sprintf("SELECT 1 FROM pg_database WHERE datname = '%s'", name)
	out, err := exec.CommandContext(ctx, psql, "-h", c.Dir, "-p", strconv.Itoa(c.Port), "-U", "canbao", "-d", "postgres", "-tAc", q).CombinedOutput()
	if err != nil {
		return fmt.Errorf("psql: %w\n%s", err, out)
	}
	if strings.TrimSpace(string(out)) == "1" {
		return nil
	}
	out, err = exec.CommandContext(ctx, psql, "-h", c.Dir, "-p", strconv.Itoa(c.Port), "-U", "canbao", "-d", "postgres", "-c", `CREATE DATABASE "`+name+`"`).CombinedOutput()
	if err != nil {
		return fmt.Errorf("create database %s: %w\n%s", name, err, out)
	}
	return nil
}

// Stop shuts the server down (fast mode: sessions are rolled back).
func (c *Cluster) Stop(ctx context.Context) error {
	if !c.running(ctx) {
		return nil
	}
	if out, err := c.run(ctx, "pg_ctl", "-D", c.dataDir(), "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

// Remove stops the server and deletes the folder.
func (c *Cluster) Remove(ctx context.Context) error {
	err := c.Stop(ctx)
	if rerr := os.RemoveAll(c.Dir); err == nil {
		err = rerr
	}
	return err
}

func (c *Cluster) run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, tool)
	var cmd *exec.Cmd
	if c.runAs != nil {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = c.Dir
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.Bytes(), err
}

// own hands dir to the postgres user when we are root, and makes sure that
// user can reach it through its parents.
func (c *Cluster) own(dir string) error {
	if c.runAs == nil {
		return nil
	}
	uid, _ := strconv.Atoi(c.runAs.Uid)
	gid, _ := strconv.Atoi(c.runAs.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return err
	}
	for p := filepath.Dir(dir); p != "/" && p != "."; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, st.Mode().Perm()|0o011); err != nil {
				return err
			}
		}
	}
	return nil
}

// findBin locates the PostgreSQL server binaries: PG_BIN, then pg_config,
// then the newest /usr/lib/postgresql/*/bin, then PATH.
func findBin() (string, error) {
	if b := os.Getenv("PG_BIN"); b != "" {
		return b, nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		b := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(b, "initdb")); err == nil {
			return b, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL server binaries (initdb) not found: install postgresql or set PG_BIN")
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
