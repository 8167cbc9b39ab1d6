package pgserver

import (
	"sync"
	"time"

	"github.com/shardgate/shardgate/proxy/netcheck"
)

// watchAfter is how long a statement runs before the session starts
// watching its client for a disconnect.
const watchAfter = 100 * time.Millisecond

// runningSet is the backend connections working for a session right now,
// for CancelRequest (which arrives on another connection) and for a
// client that disconnects mid-statement: the watcher notices it and the
// statement is cancelled on the servers instead of running for nobody.
type runningSet struct {
	mu      sync.Mutex
	conns   []*backendConn
	watcher *netcheck.Watcher // nil: no watching (tests)
}

func (r *runningSet) add(c *backendConn) {
	r.mu.Lock()
	r.conns = append(r.conns, c)
	first := len(r.conns) == 1
	r.mu.Unlock()
	if first && r.watcher != nil {
		r.watcher.Start()
	}
}

func (r *runningSet) remove(c *backendConn) {
	r.mu.Lock()
	for i, x := range r.conns {
		if x == c {
			r.conns = append(r.conns[:i], r.conns[i+1:]...)
			break
		}
	}
	empty := len(r.conns) == 0
	r.mu.Unlock()
	if empty && r.watcher != nil {
		r.watcher.Stop()
	}
}

func (r *runningSet) snapshot() []*backendConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*backendConn(nil), r.conns...)
}
