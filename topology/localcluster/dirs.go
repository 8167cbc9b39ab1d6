package localcluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Cluster directories are named sg-pg-* / sg-my-* and hold a file ".lock"
// that their owner keeps flock()ed until Close. A directory whose lock can
// be taken belongs to a process that died without Close (a test binary
// killed by its timeout, say): the next cluster started in the same parent
// removes it. Its servers died with their parent (Pdeathsig).
const lockName = ".lock"

// makeClusterDir creates and locks a fresh cluster directory under parent,
// after sweeping stale ones. The returned file holds the lock.
func makeClusterDir(parent, prefix string) (string, *os.File, error) {
	sweepStale(parent)
	dir, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		return "", nil, fmt.Errorf("localcluster: %w", err)
	}
	// Lock under a temporary name, then rename: a sweeper never sees an
	// unlocked ".lock" in a live directory.
	tmp := filepath.Join(dir, lockName+".new")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		if err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
			err = os.Rename(tmp, filepath.Join(dir, lockName))
		}
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, fmt.Errorf("localcluster: lock %s: %w", dir, err)
	}
	return dir, f, nil
}

// sweepStale removes the cluster directories under parent whose owner is gone.
func sweepStale(parent string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !(strings.HasPrefix(name, "sg-pg-") || strings.HasPrefix(name, "sg-my-")) {
			continue
		}
		dir := filepath.Join(parent, name)
		f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR, 0)
		if err != nil {
			continue // not ours, or still being created
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			_ = os.RemoveAll(dir)
		}
		f.Close()
	}
}

// makeReachable gives dir to uid and makes sure uid can traverse every
// ancestor. Ancestors inside os.TempDir() (such as t.TempDir()) get the
// search bit for others; anything else that blocks uid is an error.
func makeReachable(dir string, uid int) error {
	if err := os.Chown(dir, uid, -1); err != nil {
		return fmt.Errorf("localcluster: %w", err)
	}
	tmp := filepath.Clean(os.TempDir())
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("localcluster: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if !strings.HasPrefix(d, tmp+string(filepath.Separator)) {
				return fmt.Errorf("localcluster: %s is not searchable by uid %d that runs postgres; use an Options.Dir under %s", d, uid, tmp)
			}
			if err := os.Chmod(d, fi.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("localcluster: %w", err)
			}
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}
