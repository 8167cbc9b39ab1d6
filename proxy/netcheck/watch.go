package netcheck

import (
	"net"
	"sync"
	"time"
)

// Watcher notices a client that disconnects while its statement runs (a
// driver cancelling a context closes its connection) so the proxy can
// stop the statement on the servers. Short statements never pay for it:
// the socket is watched only once a statement has run for After.
type Watcher struct {
	raw    net.Conn // the client's TCP socket (under TLS, if any)
	after  time.Duration
	onGone func() // called on the watch goroutine

	timer *time.Timer
	mu    sync.Mutex
	armed bool
	done  chan struct{} // closed when a running watch ends
}

// NewWatcher watches raw; onGone runs when the client is found gone
// during a statement.
func NewWatcher(raw net.Conn, after time.Duration, onGone func()) *Watcher {
	return &Watcher{raw: raw, after: after, onGone: onGone}
}

// Start says a statement began.
func (w *Watcher) Start() {
	w.mu.Lock()
	w.armed = true
	w.mu.Unlock()
	if w.timer == nil {
		w.timer = time.AfterFunc(w.after, w.watch)
		return
	}
	w.timer.Reset(w.after)
}

// Stop says the statement ended; it returns once no watch is running, so
// the session may read from the client again.
func (w *Watcher) Stop() {
	if w.timer == nil {
		return
	}
	w.timer.Stop()
	w.mu.Lock()
	w.armed = false
	done := w.done
	w.done = nil
	w.mu.Unlock()
	if done != nil {
		// Wake the blocked peek, wait for it, and let reads block again.
		w.raw.SetReadDeadline(time.Now())
		<-done
		w.raw.SetReadDeadline(time.Time{})
	}
}

func (w *Watcher) watch() {
	w.mu.Lock()
	if !w.armed || w.done != nil {
		w.mu.Unlock()
		return
	}
	done := make(chan struct{})
	w.done = done
	w.mu.Unlock()
	defer close(done)
	if Gone(w.raw) {
		w.onGone()
	}
}
