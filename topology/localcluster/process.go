package localcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is one running server, leader of its own process group.
type process struct {
	cmd     *exec.Cmd
	done    chan struct{} // closed once the leader has exited and been reaped
	waitErr error         // valid after done
}

// startProcess runs bin in the background, stdout and stderr appended to
// logPath, in a new process group, as cred (nil: as ourselves).
func startProcess(bin string, args []string, dir, logPath string, cred *syscall.Credential) (*process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("localcluster: %w", err)
	}
	defer f.Close() // the child has its own copy
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = serverEnv()
	cmd.Stdout = f
	cmd.Stderr = f
	// Pdeathsig: a crashed test binary must not leave servers behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("localcluster: start %s: %w", filepath.Base(bin), err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig to the leader, waits for it to exit until ctx ends, then
// SIGKILLs the whole process group. It reports whether SIGKILL was needed.
func (p *process) stop(ctx context.Context, sig syscall.Signal) (killed bool) {
	if !p.exited() {
		_ = p.cmd.Process.Signal(sig)
		select {
		case <-p.done:
		case <-ctx.Done():
			killed = true
		}
	}
	p.kill()
	return killed
}

// kill SIGKILLs the process group and waits for the leader.
func (p *process) kill() {
	// The group outlives its leader while children remain (postgres
	// backends), and its id cannot be reused until they are gone.
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	<-p.done
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
}

// runTool runs a one-shot command (initdb, pg_basebackup, install-db) in
// its own process group, killed with its children if ctx ends. Its output
// goes to logPath; on failure the error quotes the lines that look like
// errors and the last few.
func runTool(ctx context.Context, dir, logPath string, cred *syscall.Credential, bin string, args ...string) error {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = serverEnv()
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	_ = os.WriteFile(logPath, out.Bytes(), 0o644)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", context.Cause(ctx), err)
		}
		return fmt.Errorf("localcluster: %s: %w (output in %s)\n%s", filepath.Base(bin), err, logPath, errorLines(out.String(), 10))
	}
	return nil
}

// errorLines picks the lines of out that report errors, else its last n lines.
func errorLines(out string, n int) string {
	var picked []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "ERROR") || strings.Contains(l, "FATAL") || strings.Contains(l, "error:") {
			picked = append(picked, l)
		}
	}
	if len(picked) == 0 {
		return lastLines(out, n)
	}
	return lastLines(strings.Join(picked, "\n"), n)
}

// serverEnv is our environment without the client variables that would
// redirect or alter the tools' connections (PGHOST, PGSSLMODE, MYSQL_HOST...).
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "MYSQL") || strings.HasPrefix(k, "MARIADB") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// postgresCredential is who runs the postgres servers: the OS user
// "postgres" when we are root (postgres refuses to run as root), else
// ourselves (nil).
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("localcluster: running as root, postgres must run as the OS user postgres (created by the Debian package postgresql-15): %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("localcluster: OS user postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// logSince is what was appended to path after offset off (at most 64 KiB).
func logSince(path string, off int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size()-off > 64<<10 {
		off = fi.Size() - 64<<10
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// LogTail is the last n lines of the node's server log.
func (n *Node) LogTail(lines int) string {
	return lastLines(logSince(n.LogFile, 0), lines)
}

func lastLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
