package pgserver

import "sync"

// runningSet is the backend connections working for a session right now,
// for CancelRequest (which arrives on another connection).
type runningSet struct {
	mu    sync.Mutex
	conns []*backendConn
}

func (r *runningSet) add(c *backendConn) {
	r.mu.Lock()
	r.conns = append(r.conns, c)
	r.mu.Unlock()
}

func (r *runningSet) remove(c *backendConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, x := range r.conns {
		if x == c {
			r.conns = append(r.conns[:i], r.conns[i+1:]...)
			return
		}
	}
}

func (r *runningSet) snapshot() []*backendConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*backendConn(nil), r.conns...)
}
