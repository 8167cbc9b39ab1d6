package probe

import (
	"errors"
	"sync"
	"time"
)

// errForgotten: the server was removed from the topology while a probe
// was about to start.
var errForgotten = errors.New("probe: server removed from the topology")

// registry holds per-server probe state. Each server's state has its own
// lock, held for a whole probe, so that a slow server never delays the
// probes of another.
type registry[S any] struct {
	mu      sync.Mutex
	entries map[string]*entry[S]
	make    func() S
}

type entry[S any] struct {
	mu   sync.Mutex
	s    S
	gone bool // forgotten: must not open a connection again
}

func newRegistry[S any](mk func() S) registry[S] {
	return registry[S]{entries: map[string]*entry[S]{}, make: mk}
}

// with runs fn on addr's state, creating it on first use.
func (r *registry[S]) with(addr string, fn func(S) error) error {
	r.mu.Lock()
	e := r.entries[addr]
	if e == nil {
		e = &entry[S]{s: r.make()}
		r.entries[addr] = e
	}
	r.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return errForgotten
	}
	return fn(e.s)
}

// forget drops addr's state, closing it once any probe using it is done.
func (r *registry[S]) forget(addr string, closeFn func(S)) {
	r.mu.Lock()
	e := r.entries[addr]
	delete(r.entries, addr)
	r.mu.Unlock()
	if e != nil {
		e.close(closeFn)
	}
}

// closeAll forgets every server.
func (r *registry[S]) closeAll(closeFn func(S)) {
	r.mu.Lock()
	all := r.entries
	r.entries = map[string]*entry[S]{}
	r.mu.Unlock()
	for _, e := range all {
		e.close(closeFn)
	}
}

func (e *entry[S]) close(closeFn func(S)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.gone = true
	closeFn(e.s)
}

// deadlineSoon bounds the goodbye written to a connection being closed.
func deadlineSoon() time.Time { return time.Now().Add(100 * time.Millisecond) }
