package pgserver

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardgate/shardgate/proxy/pool"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
)

// backends holds one connection pool per (server address, backend
// credentials) and picks the server a target runs on. Pools outlive
// topology reloads: a server that stays in the file keeps its pool.
type backends struct {
	dialTimeout time.Duration
	mu          sync.Mutex
	pools       map[poolKey]*pool.Pool[*backendConn]
	rr          sync.Map // shard name -> *atomic.Uint64, round robin cursor
}

type poolKey struct {
	addr, user, database string
}

func newBackends() *backends {
	return &backends{dialTimeout: 5 * time.Second, pools: map[poolKey]*pool.Pool[*backendConn]{}}
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
	dial := func(ctx context.Context) (*backendConn, error) {
		ctx, cancel := context.WithTimeout(ctx, b.dialTimeout)
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
	return p
}

// server picks the address a target runs on: the primary, or a replica by
// the database's read policy (weight 0 replicas get no reads).
func (b *backends) server(db *topology.DB, t router.Target) string {
	sh := t.Shard
	if t.Role == router.RolePrimary || db.ReadPolicy == topology.PrimaryOnly {
		return sh.Primary
	}
	total := 0
	for _, r := range sh.Replicas {
		total += r.Weight
	}
	if total == 0 {
		return sh.Primary
	}
	v, _ := b.rr.LoadOrStore(db.Name+"/"+sh.Name, new(atomic.Uint64))
	n := int(v.(*atomic.Uint64).Add(1) % uint64(total))
	for _, r := range sh.Replicas {
		if n < r.Weight {
			return r.Address
		}
		n -= r.Weight
	}
	return sh.Primary
}

// closeAll closes every pool (shutdown).
func (b *backends) closeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, p := range b.pools {
		p.Close()
		delete(b.pools, k)
	}
}
