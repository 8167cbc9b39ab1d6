// Package drain shuts client connections down gracefully: a connection
// idle between statements outside a transaction is closed at once, one
// busy with a statement or a transaction when it next goes idle, and
// every one that remains when the drain timeout ends.
package drain

import (
	"context"
	"net"
	"sync"
	"time"
)

// Group is the client connections of one listener. Safe for concurrent
// use.
type Group struct {
	mu       sync.Mutex
	conns    map[*Conn]struct{}
	draining bool
	empty    chan struct{} // closed when draining and the last conn is done
}

// Conn is one client connection of a Group.
type Conn struct {
	g              *Group
	nc             net.Conn
	idle           bool
	since          time.Time
	user, database string // once logged in (see Describe)
}

// ConnInfo is what Each tells of a connection.
type ConnInfo struct {
	Remote, User, Database string
	Since                  time.Time
	Idle                   bool
}

// NewGroup returns an empty group.
func NewGroup() *Group {
	return &Group{conns: map[*Conn]struct{}{}}
}

// Add registers a new connection; false when the group is draining (the
// caller closes it).
func (g *Group) Add(nc net.Conn) (*Conn, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.draining {
		return nil, false
	}
	c := &Conn{g: g, nc: nc, since: time.Now()}
	g.conns[c] = struct{}{}
	return c, true
}

// Describe records who the connection logged in as and the database it
// uses (again after a USE), for Each.
func (c *Conn) Describe(user, database string) {
	c.g.mu.Lock()
	c.user, c.database = user, database
	c.g.mu.Unlock()
}

// Each calls f for every connection of the group (outside the group's
// lock, on a copy).
func (g *Group) Each(f func(ConnInfo)) {
	g.mu.Lock()
	infos := make([]ConnInfo, 0, len(g.conns))
	conns := make([]net.Conn, 0, len(g.conns))
	for c := range g.conns {
		infos = append(infos, ConnInfo{User: c.user, Database: c.database, Since: c.since, Idle: c.idle})
		conns = append(conns, c.nc)
	}
	g.mu.Unlock()
	for i := range infos {
		infos[i].Remote = "unix socket" // whose peers have no address
		if a := conns[i].RemoteAddr(); a != nil && a.Network() != "unix" {
			infos[i].Remote = a.String()
		}
		f(infos[i])
	}
}

// Idle says the session is about to wait for its next command with no
// transaction open. It returns true when the group is draining: the
// session should end now.
func (c *Conn) Idle() bool {
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	c.idle = true
	return c.g.draining
}

// Busy says a command arrived (or a transaction is open): a drain waits
// for the session to go idle again.
func (c *Conn) Busy() {
	c.g.mu.Lock()
	c.idle = false
	c.g.mu.Unlock()
}

// Done removes the connection from the group.
func (c *Conn) Done() {
	g := c.g
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.conns, c)
	if g.draining && len(g.conns) == 0 && g.empty != nil {
		close(g.empty)
		g.empty = nil
	}
}

// Drain stops new connections, closes the idle ones and waits for the
// others to finish; when ctx ends first it closes those too. It returns
// how many connections it had to close while they were busy.
func (g *Group) Drain(ctx context.Context) int {
	g.mu.Lock()
	g.draining = true
	empty := make(chan struct{})
	if len(g.conns) == 0 {
		close(empty)
	} else {
		g.empty = empty
	}
	for c := range g.conns {
		if c.idle {
			c.nc.Close()
		}
	}
	g.mu.Unlock()
	select {
	case <-empty:
		return 0
	case <-ctx.Done():
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for c := range g.conns {
		c.nc.Close()
		n++
	}
	return n
}
