package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// listenSocket listens on a Unix socket at path (listen.*_socket). A
// socket file left by a proxy that died is replaced; one that another
// process still accepts on is not: two proxies on one socket would split
// its clients between them without a word. The file goes away when the
// listener closes.
func listenSocket(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("%s: another process is listening on it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("removing the stale socket: %w", err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	// Anyone on the host may connect, as to PostgreSQL's and PgBouncer's
	// sockets by default: clients still log in with a password.
	if err := os.Chmod(path, 0o777); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// socketDirPort splits a PostgreSQL socket path (.../.s.PGSQL.<port>)
// into what a client is given: the directory and the port.
func socketDirPort(path string) (dir, port string) {
	return filepath.Dir(path), strings.TrimPrefix(filepath.Base(path), ".s.PGSQL.")
}

// serving is the listeners that are open among lns.
func serving(lns ...net.Listener) []net.Listener {
	var out []net.Listener
	for _, ln := range lns {
		if ln != nil {
			out = append(out, ln)
		}
	}
	return out
}
