package topology

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// A server address is host:port, or the absolute path of a Unix socket
// when the proxy runs on the server's host, as PgBouncer often does (no
// TCP port to open on the server, peer authentication possible). For
// PostgreSQL the path is the socket file itself,
// <unix_socket_directories>/.s.PGSQL.<port>; for MariaDB and MySQL it is
// the server's `socket` setting.

// maxSocketPath is the longest path a Unix socket address holds on Linux
// (sun_path is 108 bytes with the terminating NUL).
const maxSocketPath = 107

// IsSocket reports whether addr names a Unix socket.
func IsSocket(addr string) bool { return strings.HasPrefix(addr, "/") }

// Network is the net.Dial network of addr: "unix" or "tcp".
func Network(addr string) string {
	if IsSocket(addr) {
		return "unix"
	}
	return "tcp"
}

// checkServerAddress validates a server address: host:port or a socket path.
func checkServerAddress(p *problems, path, addr string) bool {
	if !IsSocket(addr) {
		return checkAddress(p, path, addr, true)
	}
	return checkSocketPath(p, path, addr)
}

func checkSocketPath(p *problems, path, addr string) bool {
	switch {
	case len(addr) > maxSocketPath:
		p.at(path, "%q is %d bytes long, more than a Unix socket path holds (%d)", addr, len(addr), maxSocketPath)
	case filepath.Clean(addr) != addr || strings.HasSuffix(addr, "/"):
		p.at(path, "%q is not a clean path to a socket file (want e.g. %s)", addr, filepath.Clean(addr))
	default:
		return true
	}
	return false
}

// checkListenSocket validates a socket the proxy listens on. PostgreSQL
// clients find a socket by directory and port (psql -h DIR -p PORT), so
// the PostgreSQL one must be named .s.PGSQL.<port>.
func checkListenSocket(p *problems, path, addr string, postgres bool) {
	if addr == "" {
		return
	}
	if !IsSocket(addr) {
		p.at(path, "%q is not an absolute path to a socket file", addr)
		return
	}
	if !checkSocketPath(p, path, addr) || !postgres {
		return
	}
	port, ok := strings.CutPrefix(filepath.Base(addr), ".s.PGSQL.")
	if n, err := strconv.Atoi(port); !ok || err != nil || n < 1 || n > 65535 {
		p.at(path, "%q: PostgreSQL clients look for %s, name the file so (psql -h %s -p PORT then finds it)",
			addr, filepath.Join(filepath.Dir(addr), ".s.PGSQL.PORT"), filepath.Dir(addr))
	}
}

// describeSocketTLS is the error for TLS toward a Unix socket.
func describeSocketTLS(addr, mode string) string {
	return fmt.Sprintf("%s is a Unix socket: the servers do not speak TLS over one, so backend.tls %q cannot apply (use tls: disable, or a host:port address)", addr, mode)
}
