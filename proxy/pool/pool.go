// Package pool keeps backend connections to one server for reuse: a
// bounded number open, idle ones reused most-recent first and closed after
// an idle timeout, callers queued fairly when all are busy.
package pool

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrClosed is returned by Acquire once the pool is closed (its server was
// removed from the topology, or the proxy is shutting down).
var ErrClosed = errors.New("pool closed")

// ErrWaitTimeout is returned by Acquire when every connection stayed busy
// for as long as the caller would wait: the server is fine, its pool is
// full (clients holding transactions open, or too small a pool).
var ErrWaitTimeout = errors.New("no backend connection became free")

// Conn is a backend connection.
type Conn interface {
	Close() error
}

// DialFunc opens and logs in one new connection.
type DialFunc[C Conn] func(ctx context.Context) (C, error)

// Stats is a snapshot of the pool, for metrics and /topology.
type Stats struct {
	Open, Idle, InUse, Waiters int
	Max                        int
	Dials, DialErrors          uint64
	Waits                      uint64 // acquisitions that had to queue
	DeadIdle                   uint64 // idle connections found closed by their server (CheckIdle)
	Retired                    uint64 // connections closed for their age (MaxLifetime)
}

// Pool is a bounded pool of connections to one server. Safe for
// concurrent use.
type Pool[C Conn] struct {
	dial        DialFunc[C]
	max         int
	idleTimeout time.Duration
	now         func() time.Time
	// dead, when set, checks a connection idle longer than checkAfter
	// before it is handed out (see CheckIdle).
	dead       func(C) bool
	checkAfter time.Duration
	// maxLifetime > 0: connections older than this are closed when
	// released (see MaxLifetime).
	maxLifetime time.Duration

	mu      sync.Mutex
	idle    []idleConn[C] // stack: the most recently used is last
	open    int           // idle + in use + being dialled
	waiters list.List     // of chan result[C], first come first served
	closed  bool
	stats   Stats
}

type idleConn[C Conn] struct {
	c     C
	since time.Time
}

// result is handed to a waiter: a released connection, or permission to
// dial one (a slot freed by a discarded connection).
type result[C Conn] struct {
	c    C
	dial bool
	err  error // the pool closed while waiting
}

// New returns a pool of at most size connections (at least 1).
func New[C Conn](dial DialFunc[C], size int, idleTimeout time.Duration) *Pool[C] {
	return &Pool[C]{dial: dial, max: max(size, 1), idleTimeout: idleTimeout, now: time.Now}
}

// CheckIdle makes Acquire check a connection that sat idle longer than
// after with dead (a non-blocking look at its socket) before handing it
// out. A dead one, and every connection idle as long or longer, is
// closed: its server restarted or ended its sessions, and a connection
// released after the proxy saw that failure (a statement finishing just
// before the server went down) must not fail a statement, or ban a server
// that has recovered, when it is next used. Connections used more
// recently than after skip the check, which keeps a syscall off the hot
// path. Call it before the pool is shared.
func (p *Pool[C]) CheckIdle(after time.Duration, dead func(C) bool) *Pool[C] {
	p.dead, p.checkAfter = dead, after
	return p
}

// MaxLifetime makes Release close a connection made more than d ago
// instead of keeping it, as PgBouncer's server_lifetime: a server session
// grows as it lives (catalog caches, plans), and connections made before
// a failover or an address change follow it only once they end. Only
// connections that say when they were made (a Born method) age. Call it
// before the pool is shared.
func (p *Pool[C]) MaxLifetime(d time.Duration) *Pool[C] {
	p.maxLifetime = d
	return p
}

// aged is a connection that knows when it was made.
type aged interface{ Born() time.Time }

// Acquire returns an idle connection, dials a new one if the pool has
// room, or waits for one until ctx ends or, when wait > 0, for wait at
// most (ErrWaitTimeout).
func (p *Pool[C]) Acquire(ctx context.Context, wait time.Duration) (C, error) {
	var zero C
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return zero, ErrClosed
	}
	p.reapLocked()
	if n := len(p.idle); n > 0 {
		ic := p.idle[n-1]
		p.idle = p.idle[:n-1]
		if p.dead == nil || p.now().Sub(ic.since) <= p.checkAfter {
			p.mu.Unlock()
			return ic.c, nil
		}
		p.mu.Unlock()
		if !p.dead(ic.c) {
			return ic.c, nil
		}
		// Dead, and so most likely every connection idle longer: drop
		// them and dial a fresh one in this connection's slot.
		go ic.c.Close()
		p.mu.Lock()
		p.stats.DeadIdle++
		p.dropIdleSinceLocked(ic.since)
		p.mu.Unlock()
		return p.dialNew(ctx)
	}
	if p.open < p.max {
		p.open++
		p.mu.Unlock()
		return p.dialNew(ctx)
	}
	ch := make(chan result[C], 1)
	el := p.waiters.PushBack(ch)
	p.stats.Waits++
	p.mu.Unlock()

	var expired <-chan time.Time
	if wait > 0 { // a timer only for a caller that queues
		t := time.NewTimer(wait)
		defer t.Stop()
		expired = t.C
	}
	var gaveUp error
	select {
	case r := <-ch:
		switch {
		case r.err != nil:
			return zero, r.err
		case r.dial:
			return p.dialNew(ctx)
		}
		return r.c, nil
	case <-expired:
		gaveUp = fmt.Errorf("%w in %v (%d of %d in use)", ErrWaitTimeout, wait, p.max, p.max)
	case <-ctx.Done():
		gaveUp = fmt.Errorf("waiting for a backend connection (%d of %d in use): %w", p.max, p.max, ctx.Err())
	}
	p.mu.Lock()
	if p.removeWaiter(el) {
		p.mu.Unlock()
		return zero, gaveUp
	}
	p.mu.Unlock()
	// A result was handed over as we gave up: pass it on.
	switch r := <-ch; {
	case r.err != nil:
	case r.dial:
		p.freeSlot()
	default:
		p.Release(r.c)
	}
	return zero, gaveUp
}

func (p *Pool[C]) removeWaiter(el *list.Element) bool {
	for e := p.waiters.Front(); e != nil; e = e.Next() {
		if e == el {
			p.waiters.Remove(el)
			return true
		}
	}
	return false
}

// dialNew dials into a slot already counted in open.
func (p *Pool[C]) dialNew(ctx context.Context) (C, error) {
	c, err := p.dial(ctx)
	p.mu.Lock()
	p.stats.Dials++
	if err != nil {
		p.stats.DialErrors++
	}
	p.mu.Unlock()
	if err != nil {
		p.freeSlot()
		var zero C
		return zero, err
	}
	return c, nil
}

// Release returns a healthy connection, clean of session state, for reuse
// (or closes it when it is older than MaxLifetime).
func (p *Pool[C]) Release(c C) {
	now := p.now()
	if a, ok := any(c).(aged); ok && p.maxLifetime > 0 && now.Sub(a.Born()) >= p.maxLifetime {
		go c.Close() // never block the caller on a slow close
		p.mu.Lock()
		p.stats.Retired++
		p.mu.Unlock()
		p.freeSlot()
		return
	}
	p.mu.Lock()
	if p.closed {
		p.open--
		p.mu.Unlock()
		c.Close()
		return
	}
	if e := p.waiters.Front(); e != nil {
		p.waiters.Remove(e)
		p.mu.Unlock()
		e.Value.(chan result[C]) <- result[C]{c: c}
		return
	}
	p.idle = append(p.idle, idleConn[C]{c: c, since: now})
	p.mu.Unlock()
}

// Discard closes a broken or dirty connection and frees its slot.
func (p *Pool[C]) Discard(c C) {
	c.Close()
	p.freeSlot()
}

// freeSlot gives a slot back: to the first waiter (who will dial), or to
// the pool.
func (p *Pool[C]) freeSlot() {
	p.mu.Lock()
	if e := p.waiters.Front(); e != nil && !p.closed {
		p.waiters.Remove(e)
		p.mu.Unlock()
		e.Value.(chan result[C]) <- result[C]{dial: true}
		return
	}
	p.open--
	p.mu.Unlock()
}

// reapLocked closes connections idle longer than the timeout. The stack
// keeps the oldest first, so they are a prefix.
func (p *Pool[C]) reapLocked() {
	if p.idleTimeout <= 0 {
		return
	}
	cutoff := p.now().Add(-p.idleTimeout)
	n := 0
	for n < len(p.idle) && p.idle[n].since.Before(cutoff) {
		n++
	}
	if n == 0 {
		return
	}
	for _, ic := range p.idle[:n] {
		go ic.c.Close() // never block the caller on a slow close
	}
	p.idle = append(p.idle[:0], p.idle[n:]...)
	p.open -= n
}

// dropIdleSinceLocked closes the idle connections released at or before
// t: the oldest first, so they are a prefix.
func (p *Pool[C]) dropIdleSinceLocked(t time.Time) {
	n := 0
	for n < len(p.idle) && !p.idle[n].since.After(t) {
		n++
	}
	for _, ic := range p.idle[:n] {
		go ic.c.Close()
	}
	p.idle = append(p.idle[:0], p.idle[n:]...)
	p.open -= n
	p.stats.DeadIdle += uint64(n)
}

// Reap closes expired idle connections now (the proxy calls it
// periodically so an unused pool shrinks too).
func (p *Pool[C]) Reap() {
	p.mu.Lock()
	p.reapLocked()
	p.mu.Unlock()
}

// Stats reports the pool's state.
func (p *Pool[C]) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Open, s.Idle, s.Max, s.Waiters = p.open, len(p.idle), p.max, p.waiters.Len()
	s.InUse = s.Open - s.Idle
	return s
}

// CloseIdle closes the idle connections: their server failed, so they
// are most likely dead, and each would fail one statement.
func (p *Pool[C]) CloseIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.open -= len(idle)
	p.mu.Unlock()
	for _, ic := range idle {
		go ic.c.Close() // never block the caller on a slow close
	}
}

// Close closes idle connections and refuses new acquisitions; connections
// in use are closed when released, so in-flight work finishes.
func (p *Pool[C]) Close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.open -= len(idle)
	var waiters []chan result[C]
	for e := p.waiters.Front(); e != nil; e = e.Next() {
		waiters = append(waiters, e.Value.(chan result[C]))
	}
	p.waiters.Init()
	p.mu.Unlock()
	for _, ic := range idle {
		ic.c.Close()
	}
	for _, ch := range waiters {
		ch <- result[C]{err: ErrClosed}
	}
}
