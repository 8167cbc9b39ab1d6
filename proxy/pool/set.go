package pool

import (
	"sync"

	"github.com/shardgate/shardgate/topology"
)

// Key names a pool: a server address and the credentials used on it.
type Key struct {
	Addr, User, Database string
}

// Set is a proxy's pools: one per server and credentials, made on first
// use and kept while the topology lists the server, so a reload does not
// drop warm connections. Safe for concurrent use.
type Set[C Conn] struct {
	mu    sync.Mutex
	pools map[Key]member[C]
}

type member[C Conn] struct {
	p     *Pool[C]
	label string // the logical database that made the pool (metrics)
}

// NewSet returns an empty set.
func NewSet[C Conn]() *Set[C] {
	return &Set[C]{pools: map[Key]member[C]{}}
}

// Get returns the pool for k, made by newPool on first use; label names
// it in Each.
func (s *Set[C]) Get(k Key, label string, newPool func() *Pool[C]) *Pool[C] {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.pools[k]; ok {
		return m.p
	}
	p := newPool()
	s.pools[k] = member[C]{p, label}
	return p
}

// CloseIdle drops the idle connections to a server that just failed:
// they are most likely dead too, and each would fail one statement.
func (s *Set[C]) CloseIdle(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, m := range s.pools {
		if k.Addr == addr {
			m.p.CloseIdle()
		}
	}
}

// Retain closes and forgets the pools whose key keep rejects (servers a
// reload removed); connections in use finish their work first.
func (s *Set[C]) Retain(keep func(Key) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, m := range s.pools {
		if !keep(k) {
			m.p.Close()
			delete(s.pools, k)
		}
	}
}

// Each calls f with every pool's key, label and statistics.
func (s *Set[C]) Each(f func(k Key, label string, st Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, m := range s.pools {
		f(k, m.label, m.p.Stats())
	}
}

// CloseAll closes every pool (shutdown).
func (s *Set[C]) CloseAll() {
	s.Retain(func(Key) bool { return false })
}

// Listed returns a keep function for Retain: the servers a snapshot lists
// for the databases of one protocol, with their credentials.
func Listed(snap *topology.Snapshot, p topology.Protocol) func(Key) bool {
	keep := map[Key]bool{}
	for _, db := range snap.Databases() {
		if db.Protocol != p {
			continue
		}
		for _, sh := range db.Shards {
			for _, addr := range sh.Addresses() {
				keep[Key{addr, db.Backend.User, db.Backend.Database}] = true
			}
		}
	}
	return func(k Key) bool { return keep[k] }
}
