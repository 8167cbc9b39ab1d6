package myserver

import (
	"context"
	"sync"
	"time"
)

// watchAfter is how long a statement runs before the session starts
// watching its client.
const watchAfter = 100 * time.Millisecond

// running is the backend connections working on the session's current
// statement, which a client that disconnects gets killed (KILL QUERY),
// so a long query does not keep running and holding its pooled
// connection for nobody.
type running struct {
	mu    sync.Mutex
	conns []*backendConn
	one   [1]*backendConn
}

// watch starts watching the client while conns run a statement; unwatch
// ends it.
func (s *session) watch(ctx context.Context, conns []*backendConn) {
	s.running.mu.Lock()
	s.running.conns = conns
	s.running.mu.Unlock()
	s.watcher.Start()
}

// watchOne watches a single connection without allocating.
func (s *session) watchOne(ctx context.Context, c *backendConn) {
	s.running.one[0] = c
	s.watch(ctx, s.running.one[:])
}

func (s *session) unwatch() {
	s.watcher.Stop()
	s.running.mu.Lock()
	s.running.conns = nil
	s.running.one[0] = nil
	s.running.mu.Unlock()
}

// clientGone runs on the watcher's goroutine: the client left mid-statement.
func (s *session) clientGone() {
	s.running.mu.Lock()
	conns := append([]*backendConn(nil), s.running.conns...)
	s.running.mu.Unlock()
	s.killed.Store(true)
	for _, c := range conns {
		if err := c.kill(context.Background()); err != nil {
			s.srv.log.Warn("could not kill the statement of a client that went away", "backend", c.addr, "err", err)
		}
	}
}
