package localcluster

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Start restarts a stopped node in place (same port, same data) and waits
// until it accepts connections; a replica then catches up on its own (see
// Cluster.WaitReplicated). Starting a running node does nothing.
func (n *Node) Start(ctx context.Context) error {
	if n.c.isClosed() {
		return ErrClosed
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc != nil && !n.proc.exited() {
		return nil
	}
	return n.launch(ctx, false)
}

// Stop shuts the node down (postgres: fast shutdown; mariadb: normal
// shutdown), SIGKILLing it when ctx ends first (after 10 s if ctx has no
// deadline). Stopping a stopped node does nothing.
func (n *Node) Stop(ctx context.Context) error {
	ctx, cancel := withDefaultTimeout(ctx, stopGrace)
	defer cancel()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil {
		return nil
	}
	sig := syscall.SIGTERM // mariadbd: normal shutdown
	if n.Kind == KindPostgres {
		sig = syscall.SIGINT // fast shutdown
	}
	if n.proc.stop(ctx, sig) {
		n.c.log.Warn("node did not stop in time, killed", "node", n.String())
	}
	n.proc = nil
	n.c.log.Debug("node stopped", "node", n.String())
	return nil
}

// Kill SIGKILLs the node and its children, as a crash would.
func (n *Node) Kill() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc != nil {
		n.proc.kill()
		n.proc = nil
	}
	return nil
}

// Running reports whether the node's server process is alive.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proc != nil && !n.proc.exited()
}

// PID is the server's process id (postgres: the postmaster), 0 if stopped.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil || n.proc.exited() {
		return 0
	}
	return n.proc.pid()
}

// launch starts the server and waits until it answers. On the first start
// (newPort) it picks a free port, and picks another if the one it got was
// taken meanwhile. n.mu must be held (or n not yet shared).
func (n *Node) launch(ctx context.Context, newPort bool) error {
	ctx, cancel := withDefaultTimeout(ctx, defaultReadyTimeout)
	defer cancel()
	const attempts = 3
	for attempt := 1; ; attempt++ {
		if newPort {
			port, err := n.c.freePort()
			if err != nil {
				return err
			}
			n.Port = port
			n.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		}
		bin, args := n.c.serverCommand(n)
		off := fileSize(n.LogFile)
		begin := time.Now()
		p, err := startProcess(bin, args, n.Dir, n.LogFile, n.c.serverCredential())
		if err != nil {
			return err
		}
		err = poll(ctx, 50*time.Millisecond, func(ctx context.Context) error {
			if p.exited() {
				return permanent{fmt.Errorf("exited: %v", p.waitErr)}
			}
			return n.c.ping(ctx, n)
		})
		if err == nil {
			n.proc = p
			n.c.log.Debug("node up", "node", n.String(), "pid", p.pid(), "took", time.Since(begin).Round(time.Millisecond))
			return nil
		}
		p.kill()
		out := logSince(n.LogFile, off)
		if newPort && attempt < attempts && strings.Contains(out, "ddress already in use") {
			n.c.log.Debug("port taken, retrying", "node", n.String(), "port", n.Port)
			continue
		}
		return fmt.Errorf("localcluster: %s did not come up: %w\n--- %s:\n%s", n, err, n.LogFile, lastLines(out, 30))
	}
}

// freePort finds a loopback TCP port nobody listens on and that this
// cluster has not handed out yet. Another process may still take it before
// the server binds it; launch retries then.
func (c *Cluster) freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("localcluster: no free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		c.mu.Lock()
		taken := c.ports[port]
		c.ports[port] = true
		c.mu.Unlock()
		if !taken {
			return port, nil
		}
	}
	return 0, fmt.Errorf("localcluster: no free port")
}

func (c *Cluster) serverCommand(n *Node) (string, []string) {
	if c.Kind == KindPostgres {
		return c.pgCommand(n)
	}
	return c.mariaCommand(n)
}

// serverCredential: postgres runs as the OS user postgres when we are root;
// mariadbd runs as root with --user=root (cred is nil).
func (c *Cluster) serverCredential() *syscall.Credential { return c.cred }

// ping succeeds once n accepts an administrative connection.
func (c *Cluster) ping(ctx context.Context, n *Node) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if c.Kind == KindPostgres {
		return pgPing(ctx, n)
	}
	return mariaPing(ctx, n)
}
