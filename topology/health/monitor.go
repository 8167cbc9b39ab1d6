// Package health decides which backend servers may take traffic: it probes
// every server of the topology in rounds, bans a server after consecutive
// failures (or at once when the proxy saw a real connection fail), lets it
// back after consecutive successes, records each replica's lag, and picks
// the server one statement runs on by the database's read policy.
//
// The package does no I/O itself: probes go through an injected Prober
// (proxy/probe has the real ones), so every rule here is tested with a fake
// prober and a fake clock.
package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/shardgate/shardgate/topology"
)

// Observation is what one probe of one server saw.
type Observation struct {
	// Lag is how far a replica's applied data is behind its primary.
	// LagKnown is false when it cannot be told (replication stopped, NULL
	// Seconds_Behind_Master...): such a replica counts as over any
	// max_replica_lag.
	Lag      time.Duration
	LagKnown bool
	// Position is the server's replication position, for display: a
	// PostgreSQL LSN ("0/3000060") or a MariaDB GTID position.
	Position string
	// ReadOnly: the server is a replica (in recovery, read_only).
	ReadOnly bool
}

// Prober probes one server. ctx carries the probe timeout. For replicas,
// primaryPos is the Position the same round read from the shard's primary
// ("" when that probe failed).
type Prober interface {
	ProbePrimary(ctx context.Context, db *topology.DB, addr string) (Observation, error)
	ProbeReplica(ctx context.Context, db *topology.DB, addr string, primaryPos string) (Observation, error)
}

// Forgetter is implemented by probers that keep state per server (an open
// connection): the monitor calls Forget when a reload removes the server.
type Forgetter interface {
	Forget(addr string)
}

// Options configure a Monitor; the zero value is usable.
type Options struct {
	Logger *slog.Logger     // nil: discard
	Now    func() time.Time // nil: time.Now; stamps probes (LastProbe)
}

// Monitor holds the health of every server of the topology in force and
// picks servers for statements. Safe for concurrent use.
type Monitor struct {
	probers map[string]Prober // by protocol
	log     *slog.Logger
	now     func() time.Time

	round sync.Mutex // one probe round at a time (Run and ProbeNow)
	// mu guards snap, plan, the mutable fields of every server, cursors
	// and extra. It is held only to read or apply state, never across I/O.
	mu      sync.Mutex
	snap    *topology.Snapshot
	plan    []group
	cursors map[string]*atomic.Uint64      // by primary address: survives reloads
	extra   map[*topology.Shard]*shardView // views of shards not in snap (see slowView)
	state   atomic.Pointer[state]          // what Pick, Begin and Done read
	kick    chan struct{}                  // Pick met a shard of a newer snapshot
}

// state is one immutable publication of the servers and the per-shard
// views built from them. Pick reads it without locks.
type state struct {
	servers map[string]*server
	shards  map[*topology.Shard]*shardView
}

// group is one shard's servers as probed: the primary first (its position
// is the replicas' reference), then the replicas concurrently.
type group struct {
	primary  *server // nil when the address is listed first as a replica elsewhere
	replicas []*server
}

// NewMonitor returns a monitor using probers by protocol ("postgres",
// "mysql"). Until it has seen a snapshot, every server counts as up.
func NewMonitor(probers map[string]Prober, opt Options) *Monitor {
	m := &Monitor{
		probers: probers,
		log:     opt.Logger,
		now:     opt.Now,
		cursors: map[string]*atomic.Uint64{},
		extra:   map[*topology.Shard]*shardView{},
		kick:    make(chan struct{}, 1),
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.state.Store(&state{servers: map[string]*server{}, shards: map[*topology.Shard]*shardView{}})
	return m
}

// Run probes every server of the store's current snapshot every
// Health.Interval (counted from the start of a round, so a slow round
// delays the next one instead of piling up) until ctx ends. A reload is
// picked up at the next round, or at once when Pick meets one of its
// shards: servers removed from the file are forgotten, new ones are
// usable at once (see adopt).
func (m *Monitor) Run(ctx context.Context, store *topology.Store) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-m.kick:
			if store.Current() == m.adopted() {
				continue // an old snapshot's shard: nothing new to adopt
			}
			timer.Stop()
		}
		snap := store.Current()
		begin := time.Now()
		m.ProbeNow(ctx, snap)
		timer.Reset(max(0, snap.Health.Interval-time.Since(begin)))
	}
}

// ProbeNow adopts snap if it is new and runs one probe round
// synchronously: shards concurrently, in each the primary and then its
// replicas concurrently, every probe bounded by Health.Timeout.
func (m *Monitor) ProbeNow(ctx context.Context, snap *topology.Snapshot) {
	m.round.Lock()
	defer m.round.Unlock()
	plan := m.adopt(snap)
	var wg sync.WaitGroup
	for _, g := range plan {
		wg.Go(func() { m.probeGroup(ctx, snap.Health, g) })
	}
	wg.Wait()
	m.mu.Lock()
	m.publish()
	m.mu.Unlock()
}

func (m *Monitor) probeGroup(ctx context.Context, h topology.HealthSettings, g group) {
	pos := ""
	if g.primary != nil {
		if obs, err := m.probe(ctx, h, g.primary, ""); err == nil {
			pos = obs.Position
		}
	}
	var wg sync.WaitGroup
	for _, r := range g.replicas {
		wg.Go(func() { _, _ = m.probe(ctx, h, r, pos) })
	}
	wg.Wait()
}

// errRemoved: the server left the topology before its probe started.
var errRemoved = errors.New("health: server removed from the topology")

// listed reports whether s is still one of the servers the topology
// lists (a reload replaces or drops the entries it no longer has).
func (m *Monitor) listed(s *server) bool {
	return m.state.Load().servers[s.addr] == s
}

// probe runs one probe and records its outcome.
func (m *Monitor) probe(ctx context.Context, h topology.HealthSettings, s *server, primaryPos string) (Observation, error) {
	m.mu.Lock()
	epoch, db, primary := s.epoch, s.db, s.primary
	m.mu.Unlock()
	p := m.probers[string(db.Protocol)]
	if p == nil {
		err := fmt.Errorf("health: no prober for protocol %q", db.Protocol)
		m.record(h, s, epoch, Observation{}, err)
		return Observation{}, err
	}
	if !m.listed(s) {
		return Observation{}, errRemoved // a reload removed it after this round began
	}
	pctx, cancel := context.WithTimeout(ctx, h.Timeout)
	var obs Observation
	var err error
	if primary {
		obs, err = p.ProbePrimary(pctx, db, s.addr)
	} else {
		obs, err = p.ProbeReplica(pctx, db, s.addr, primaryPos)
	}
	cancel()
	if f, ok := p.(Forgetter); ok && !m.listed(s) {
		// Removed while the probe ran: the reload's Forget may have come
		// before the probe opened its connection, which would then stay.
		f.Forget(s.addr)
	}
	if ctx.Err() != nil {
		return obs, ctx.Err() // shutting down: says nothing about the server
	}
	m.record(h, s, epoch, obs, err)
	return obs, err
}

// record applies one probe outcome: failures count towards a ban,
// successes towards the end of one.
func (m *Monitor) record(h topology.HealthSettings, s *server, epoch uint64, obs Observation, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s.lastProbe = m.now()
	if err != nil {
		s.lastErr = err.Error()
		s.oks = 0
		s.fails++
		if s.up && s.fails >= h.Failures {
			s.up = false
			m.log.Warn("backend banned", s.logAttrs("failed_probes", s.fails, "err", err)...)
		}
		return
	}
	// A primary in recovery or a replica taking writes means the file and
	// the servers disagree (a failover happened): say so once, not per round.
	if mismatch := obs.ReadOnly == s.primary; mismatch && (!s.probed || s.obs.ReadOnly != obs.ReadOnly) {
		m.log.Warn("backend role differs from the topology", s.logAttrs("read_only", obs.ReadOnly)...)
	}
	s.lastErr, s.fails, s.probed, s.obs = "", 0, true, obs
	if s.epoch != epoch {
		return // the proxy saw it fail while we probed: this success is older news
	}
	s.oks++
	if !s.up && s.oks >= h.Recover {
		s.up = true
		m.log.Info("backend recovered", s.logAttrs("good_probes", s.oks)...)
	}
}

// ReportFailure is the proxy's passive signal that a connection to addr
// failed. A connection-level failure (refused, reset, timed out, closed
// under us) bans the server at once: real traffic saw it fail, so the
// retry and the following reads avoid it until `recover` probes succeed.
// Any other error (a login refused, too many connections) counts like
// one failed probe. A cancelled context is the client's doing and is
// ignored, as is an address the monitor does not know. SQL errors of
// statements must not be reported: they say nothing about the server.
func (m *Monitor) ReportFailure(addr string, err error) {
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	s := m.state.Load().servers[addr]
	if s == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	failures := topology.DefaultHealthFailures
	if m.snap != nil {
		failures = m.snap.Health.Failures
	}
	s.lastErr = err.Error()
	s.oks = 0
	wasUp := s.up
	if connectionFailure(err) {
		s.epoch++
		s.fails = max(s.fails+1, failures)
	} else {
		s.fails++
	}
	if wasUp && s.fails >= failures {
		s.up = false
		m.log.Warn("backend banned by a failed connection", s.logAttrs("err", err)...)
		m.publish()
	}
}

// connectionFailure tells a dead or unreachable server from one that
// answered with an error.
func connectionFailure(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.EHOSTUNREACH)
}

// adopted is the snapshot the monitor works on (nil before the first).
func (m *Monitor) adopted() *topology.Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snap
}
