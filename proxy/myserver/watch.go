package myserver

import (
	"github.com/shardgate/shardgate/proxy/netcheck"

	"context"
	"sync"
	"time"
)

// watchAfter is how long a statement runs before the session starts
// watching its client: short statements never pay for the watch.
const watchAfter = 100 * time.Millisecond

// watcher notices a client that disconnects while its statement runs
// (a driver cancelling a context closes the connection) and kills the
// statement on the servers, so a long query does not keep running and
// holding its pooled connection for nobody.
type watcher struct {
	timer *time.Timer
	mu    sync.Mutex
	armed bool
	conns []*backendConn
	done  chan struct{} // closed when a running watch ends
	one   [1]*backendConn
}

// watch starts watching the client while conns run a statement; unwatch
// ends it. Cheap when the statement ends within watchAfter.
func (s *session) watch(ctx context.Context, conns []*backendConn) {
	w := &s.watcher
	w.mu.Lock()
	w.armed, w.conns = true, conns
	w.mu.Unlock()
	if w.timer == nil {
		w.timer = time.AfterFunc(watchAfter, s.watchClient)
		return
	}
	w.timer.Reset(watchAfter)
}

// watchOne watches a single connection without allocating.
func (s *session) watchOne(ctx context.Context, c *backendConn) {
	s.watcher.one[0] = c
	s.watch(ctx, s.watcher.one[:])
}

func (s *session) unwatch() {
	w := &s.watcher
	w.timer.Stop()
	w.mu.Lock()
	w.armed = false
	w.conns = nil
	done := w.done
	w.done = nil
	w.mu.Unlock()
	w.one[0] = nil
	if done != nil {
		// Wake the blocked peek, wait for it, and let reads block again.
		s.raw.SetReadDeadline(time.Now())
		<-done
		s.raw.SetReadDeadline(time.Time{})
	}
}

// watchClient runs on the timer's goroutine: it waits until the client
// socket is readable, and when that is a disconnect, kills the statement.
func (s *session) watchClient() {
	w := &s.watcher
	w.mu.Lock()
	if !w.armed || w.done != nil {
		w.mu.Unlock()
		return
	}
	conns := append([]*backendConn(nil), w.conns...)
	done := make(chan struct{})
	w.done = done
	w.mu.Unlock()
	defer close(done)
	if !netcheck.Gone(s.raw) {
		return
	}
	s.killed.Store(true)
	for _, c := range conns {
		if err := c.kill(context.Background()); err != nil {
			s.srv.log.Warn("could not kill the statement of a client that went away", "backend", c.addr, "err", err)
		}
	}
}
