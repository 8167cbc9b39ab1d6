package pool

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeConn struct {
	id     int
	closed atomic.Bool
}

func (c *fakeConn) Close() error { c.closed.Store(true); return nil }

type dialer struct {
	n    atomic.Int64
	fail atomic.Bool
}

func (d *dialer) dial(context.Context) (*fakeConn, error) {
	if d.fail.Load() {
		return nil, errors.New("refused")
	}
	return &fakeConn{id: int(d.n.Add(1))}, nil
}

func TestReuseMostRecent(t *testing.T) {
	d := &dialer{}
	p := New(d.dial, 3, time.Minute)
	ctx := context.Background()
	a, _ := p.Acquire(ctx, 0)
	b, _ := p.Acquire(ctx, 0)
	p.Release(a)
	p.Release(b)
	c, _ := p.Acquire(ctx, 0)
	if c != b {
		t.Errorf("got conn %d, want the most recently released %d", c.id, b.id)
	}
	if d.n.Load() != 2 {
		t.Errorf("dialled %d, want 2", d.n.Load())
	}
	if s := p.Stats(); s.Open != 2 || s.Idle != 1 || s.InUse != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestBoundAndWaiters(t *testing.T) {
	d := &dialer{}
	p := New(d.dial, 2, time.Minute)
	ctx := context.Background()
	a, _ := p.Acquire(ctx, 0)
	b, _ := p.Acquire(ctx, 0)

	got := make(chan *fakeConn)
	go func() {
		c, err := p.Acquire(ctx, 0)
		if err != nil {
			t.Error(err)
		}
		got <- c
	}()
	waitFor(t, "a queued waiter", func() bool { return p.Stats().Waiters == 1 })
	p.Release(a)
	if c := <-got; c != a {
		t.Errorf("waiter got %v, want the released conn", c)
	}
	if d.n.Load() != 2 {
		t.Errorf("dialled %d past the bound", d.n.Load())
	}

	// A waiter that times out gets a clear error and leaves no trace.
	tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := p.Acquire(tctx, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if s := p.Stats(); s.Waiters != 0 || s.Open != 2 {
		t.Errorf("after timeout: %+v", s)
	}
	// So does one that waits longer than it would (the pool's wait limit).
	if _, err := p.Acquire(ctx, 20*time.Millisecond); !errors.Is(err, ErrWaitTimeout) {
		t.Errorf("err = %v, want ErrWaitTimeout", err)
	}
	if s := p.Stats(); s.Waiters != 0 || s.Open != 2 {
		t.Errorf("after the wait limit: %+v", s)
	}
	// Discarding frees a slot: the next Acquire dials.
	p.Discard(b)
	if !b.closed.Load() {
		t.Error("discarded conn not closed")
	}
	c, err := p.Acquire(ctx, 0)
	if err != nil || c.id != 3 {
		t.Errorf("after discard: %v %v", c, err)
	}
}

func TestDialErrorFreesSlot(t *testing.T) {
	d := &dialer{}
	d.fail.Store(true)
	p := New(d.dial, 1, time.Minute)
	if _, err := p.Acquire(context.Background(), 0); err == nil {
		t.Fatal("want dial error")
	}
	d.fail.Store(false)
	if _, err := p.Acquire(context.Background(), 0); err != nil {
		t.Fatalf("slot leaked after a failed dial: %v", err)
	}
	if s := p.Stats(); s.DialErrors != 1 || s.Dials != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestIdleTimeout(t *testing.T) {
	d := &dialer{}
	p := New(d.dial, 4, time.Minute)
	now := time.Unix(1000, 0)
	p.now = func() time.Time { return now }
	ctx := context.Background()
	a, _ := p.Acquire(ctx, 0)
	p.Release(a)
	now = now.Add(2 * time.Minute)
	p.Reap()
	if s := p.Stats(); s.Open != 0 || s.Idle != 0 {
		t.Errorf("expired conn kept: %+v", s)
	}
	waitFor(t, "the expired conn to close", a.closed.Load)
}

func TestCloseWakesWaitersAndClosesOnRelease(t *testing.T) {
	d := &dialer{}
	p := New(d.dial, 1, time.Minute)
	ctx := context.Background()
	a, _ := p.Acquire(ctx, 0)
	errc := make(chan error)
	go func() { _, err := p.Acquire(ctx, 0); errc <- err }()
	waitFor(t, "a queued waiter", func() bool { return p.Stats().Waiters == 1 })
	p.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("waiter err = %v, want ErrClosed", err)
	}
	p.Release(a)
	if !a.closed.Load() {
		t.Error("conn released after Close must be closed")
	}
	if _, err := p.Acquire(ctx, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Acquire after Close: %v", err)
	}
}

// Many goroutines, a small pool: never more than max open, nothing lost.
func TestConcurrentNeverExceedsMax(t *testing.T) {
	d := &dialer{}
	p := New(d.dial, 3, time.Minute)
	var inUse, peak atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 200 {
				c, err := p.Acquire(context.Background(), 0)
				if err != nil {
					t.Error(err)
					return
				}
				n := inUse.Add(1)
				for {
					old := peak.Load()
					if n <= old || peak.CompareAndSwap(old, n) {
						break
					}
				}
				inUse.Add(-1)
				if c.id%7 == 0 {
					p.Discard(c)
				} else {
					p.Release(c)
				}
			}
		})
	}
	wg.Wait()
	if peak.Load() > 3 {
		t.Errorf("peak in use %d > max 3", peak.Load())
	}
	if s := p.Stats(); s.InUse != 0 || s.Open > 3 || s.Waiters != 0 {
		t.Errorf("final stats %+v", s)
	}
}

// waitFor polls cond until it holds, failing after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// An idle connection used long enough ago is checked before it is lent:
// a dead one is closed with every connection idle at least as long, and
// the next live one (or a new one) is lent instead. Recently used ones
// are lent unchecked.
func TestCheckIdle(t *testing.T) {
	tests := []struct {
		name      string
		dead      []int         // ids the check finds dead
		idleFor   time.Duration // since the last release
		want      int           // id lent
		checked   int
		deadIdle  uint64
		idleAfter int
	}{
		{"recent: unchecked", []int{1, 2, 3}, 100 * time.Millisecond, 3, 0, 0, 2},
		{"quiet and alive", nil, time.Second, 3, 1, 0, 2},
		{"quiet, dead, with older siblings", []int{3}, time.Second, 4, 1, 3, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &dialer{}
			checked := 0
			dead := func(c *fakeConn) bool {
				checked++
				for _, id := range tc.dead {
					if c.id == id {
						return true
					}
				}
				return false
			}
			p := New(d.dial, 4, time.Minute).CheckIdle(500*time.Millisecond, dead)
			now := time.Unix(1000, 0)
			p.now = func() time.Time { return now }
			ctx := context.Background()
			var conns []*fakeConn
			for range 3 {
				c, _ := p.Acquire(ctx, 0)
				conns = append(conns, c)
			}
			for _, c := range conns { // released in order: 3 is the most recent
				p.Release(c)
				now = now.Add(time.Millisecond)
			}
			now = now.Add(tc.idleFor)
			c, err := p.Acquire(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if c.id != tc.want || checked != tc.checked {
				t.Errorf("lent conn %d after %d checks, want %d after %d", c.id, checked, tc.want, tc.checked)
			}
			st := p.Stats()
			if st.DeadIdle != tc.deadIdle || st.Idle != tc.idleAfter || st.Open != tc.idleAfter+1 {
				t.Errorf("stats %+v, want %d dead idle dropped, %d idle, %d open", st, tc.deadIdle, tc.idleAfter, tc.idleAfter+1)
			}
			for _, old := range conns {
				if tc.deadIdle > 0 {
					waitFor(t, "the dead conns to close", old.closed.Load)
				}
			}
		})
	}
}

// agedConn knows when it was made.
type agedConn struct {
	fakeConn
	born time.Time
}

func (c *agedConn) Born() time.Time { return c.born }

// A connection older than MaxLifetime is closed when released, and its
// slot goes to the next caller, who gets a new one; a younger one is
// reused.
func TestMaxLifetime(t *testing.T) {
	now := time.Unix(1000, 0)
	var dials int
	p := New(func(context.Context) (*agedConn, error) {
		dials++
		return &agedConn{born: now}, nil
	}, 1, time.Hour).MaxLifetime(time.Hour)
	p.now = func() time.Time { return now }
	ctx := context.Background()
	a, _ := p.Acquire(ctx, 0)
	now = now.Add(59 * time.Minute)
	p.Release(a)
	if b, _ := p.Acquire(ctx, 0); b != a || dials != 1 {
		t.Fatalf("a 59-minute-old connection was not reused (dials %d)", dials)
	}
	now = now.Add(2 * time.Minute)
	p.Release(a)
	waitFor(t, "the old connection to close", a.closed.Load)
	b, err := p.Acquire(ctx, 0)
	if err != nil || b == a || dials != 2 {
		t.Fatalf("after retiring the old connection: %v, same %v, dials %d", err, b == a, dials)
	}
	if s := p.Stats(); s.Retired != 1 || s.Open != 1 {
		t.Errorf("stats %+v, want 1 retired, 1 open", s)
	}
}
