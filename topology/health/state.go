package health

import (
	"sync/atomic"
	"time"

	"github.com/shardgate/shardgate/topology"
)

// server is the health of one address. A server listed by several
// databases (one PostgreSQL server holding two logical databases) is one
// server: it is probed once per round, with the credentials of the first
// database that lists it, and banned or lagging for all of them.
type server struct {
	addr     string
	inflight atomic.Int64 // statements using it now (Begin/Done)

	// Guarded by Monitor.mu.
	db        *topology.DB    // first listing: probe credentials and protocol
	shard     *topology.Shard // first listing: for logs
	primary   bool            // role in the first listing
	up        bool            // not banned
	probed    bool            // obs holds a successful probe
	fails     int             // consecutive failures
	oks       int             // consecutive successes
	epoch     uint64          // bumped by a passive ban; older probe successes do not count
	obs       Observation     // last successful probe
	lastErr   string
	lastProbe time.Time
}

// newServer is optimistic: a server nobody has probed yet is up, so that
// a reload or a restart never refuses reads it could have served. One
// that is really down is banned by the first connection that fails.
func newServer(addr string) *server { return &server{addr: addr, up: true} }

func (s *server) logAttrs(kv ...any) []any {
	return append([]any{"addr", s.addr, "database", s.db.Name, "shard", s.shard.Name, "primary", s.primary}, kv...)
}

// replicaUsable: up, not drained, and within the database's lag limit. A
// replica whose lag is unknown, or was never measured, is over any limit:
// a stale read is a wrong answer.
func replicaUsable(db *topology.DB, weight int, s *server) bool {
	if !s.up || weight <= 0 {
		return false
	}
	if db.MaxReplicaLag == 0 {
		return true
	}
	return s.probed && s.obs.LagKnown && s.obs.Lag <= db.MaxReplicaLag
}

// adopt makes snap the snapshot in force if it is new: servers still
// listed keep their state, removed ones are forgotten (and their probers
// told), new ones start up. It returns the probe plan.
func (m *Monitor) adopt(snap *topology.Snapshot) []group {
	m.mu.Lock()
	if snap == m.snap {
		defer m.mu.Unlock()
		return m.plan
	}
	old := m.state.Load().servers
	servers := map[string]*server{}
	place := func(db *topology.DB, sh *topology.Shard, addr string, primary bool) (*server, bool) {
		if s, ok := servers[addr]; ok {
			return s, false
		}
		s := old[addr]
		if s == nil {
			s = newServer(addr)
		} else if s.primary != primary {
			s.probed, s.obs = false, Observation{} // a lag from the other role means nothing
		}
		s.db, s.shard, s.primary = db, sh, primary
		servers[addr] = s
		return s, true
	}
	groups := map[string]*group{}
	var plan []group
	var order []string
	for _, db := range snap.Databases() {
		for _, sh := range db.Shards {
			p, _ := place(db, sh, sh.Primary, true)
			g := groups[sh.Primary]
			if g == nil {
				g = &group{}
				if p.primary {
					g.primary = p
				}
				groups[sh.Primary] = g
				order = append(order, sh.Primary)
			}
			for _, r := range sh.Replicas {
				if s, fresh := place(db, sh, r.Address, false); fresh {
					g.replicas = append(g.replicas, s)
				}
			}
		}
	}
	for _, addr := range order {
		plan = append(plan, *groups[addr])
	}
	var removed []*server
	for addr, s := range old {
		if servers[addr] == nil {
			removed = append(removed, s)
		}
	}
	for addr := range m.cursors {
		if _, ok := groups[addr]; !ok {
			delete(m.cursors, addr)
		}
	}
	m.snap, m.plan = snap, plan
	m.publishServers(servers)
	m.mu.Unlock()

	for _, s := range removed {
		if f, ok := m.probers[string(s.db.Protocol)].(Forgetter); ok {
			f.Forget(s.addr)
		}
	}
	return plan
}

// publish rebuilds every shard's view from the current server states.
// m.mu must be held.
func (m *Monitor) publish() { m.publishServers(m.state.Load().servers) }

func (m *Monitor) publishServers(servers map[string]*server) {
	st := &state{servers: servers, shards: map[*topology.Shard]*shardView{}}
	if m.snap != nil {
		for _, db := range m.snap.Databases() {
			for _, sh := range db.Shards {
				st.shards[sh] = m.buildView(db, sh, servers)
			}
		}
	}
	m.state.Store(st)
	clear(m.extra)
}

// slowView serves a shard the monitor has not adopted: one of a snapshot
// just loaded (the monitor is told to adopt it now) or of an older one
// still used by a running query. Its servers' states are used where known.
func (m *Monitor) slowView(db *topology.DB, sh *topology.Shard) *shardView {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.state.Load()
	if v := st.shards[sh]; v != nil {
		return v // published while we waited for the lock
	}
	if v := m.extra[sh]; v != nil {
		return v
	}
	v := m.buildView(db, sh, st.servers)
	m.extra[sh] = v
	select {
	case m.kick <- struct{}{}: // Run adopts the store's snapshot if it is newer
	default:
	}
	return v
}

// cursor is the shard's round-robin position, keyed by its primary so it
// carries over reloads. m.mu must be held.
func (m *Monitor) cursor(primary string) *atomic.Uint64 {
	c := m.cursors[primary]
	if c == nil {
		c = new(atomic.Uint64)
		m.cursors[primary] = c
	}
	return c
}
