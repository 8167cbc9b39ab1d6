package pgserver

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/proxy/pool"
	"github.com/shardgate/shardgate/topology"
)

// backends holds one connection pool per (server address, backend
// credentials). Which server a target runs on is the health monitor's
// choice (see connectTo). Pools outlive topology reloads: a server that
// stays in the file keeps its pool.
type backends struct {
	dialTimeout time.Duration
	mu          sync.Mutex
	pools       map[poolKey]*pool.Pool[*backendConn]
	names       map[poolKey]string // the logical database that made the pool (metrics)
}

type poolKey struct {
	addr, user, database string
}

func newBackends() *backends {
	return &backends{dialTimeout: 5 * time.Second, pools: map[poolKey]*pool.Pool[*backendConn]{}, names: map[poolKey]string{}}
}

// poolFor returns the pool of one server of a database, creating it on
// first use with the database's pool settings.
func (b *backends) poolFor(db *topology.DB, addr string) *pool.Pool[*backendConn] {
	k := poolKey{addr, db.Backend.User, db.Backend.Database}
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.pools[k]; ok {
		return p
	}
	cred := db.Backend
	timeout := b.dialTimeout
	dial := func(ctx context.Context) (*backendConn, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		var d net.Dialer
		nc, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return loginBackend(ctx, nc, addr, cred)
	}
	p := pool.New(dial, db.MaxPerBackend, db.IdleTimeout)
	b.pools[k] = p
	b.names[k] = db.Name
	return p
}

// closeIdle drops the idle connections to a server that just failed:
// they are most likely dead too, and each would fail one statement.
func (b *backends) closeIdle(addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, p := range b.pools {
		if k.addr == addr {
			p.CloseIdle()
		}
	}
}

// prune closes the pools of servers the topology no longer lists (after
// a reload); connections in use finish their work first.
func (b *backends) prune(snap *topology.Snapshot) {
	keep := map[poolKey]bool{}
	for _, db := range snap.Databases() {
		if db.Protocol != topology.Postgres {
			continue
		}
		for _, sh := range db.Shards {
			keep[poolKey{sh.Primary, db.Backend.User, db.Backend.Database}] = true
			for _, r := range sh.Replicas {
				keep[poolKey{r.Address, db.Backend.User, db.Backend.Database}] = true
			}
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, p := range b.pools {
		if !keep[k] {
			p.Close()
			delete(b.pools, k)
			delete(b.names, k)
		}
	}
}

// stats lists every pool for metrics and /topology.
func (b *backends) stats() []metrics.PoolStat {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]metrics.PoolStat, 0, len(b.pools))
	for k, p := range b.pools {
		st := p.Stats()
		out = append(out, metrics.PoolStat{Database: b.names[k], Backend: k.addr, Open: st.Open, InUse: st.InUse,
			Waiters: st.Waiters, Max: st.Max, Dials: st.Dials, DialErrors: st.DialErrors, Waits: st.Waits})
	}
	return out
}

// closeAll closes every pool (shutdown).
func (b *backends) closeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, p := range b.pools {
		p.Close()
		delete(b.pools, k)
		delete(b.names, k)
	}
}
