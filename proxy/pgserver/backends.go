package pgserver

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/proxy/netcheck"
	"github.com/shardgate/shardgate/proxy/pgwire"
	"github.com/shardgate/shardgate/proxy/pool"
	"github.com/shardgate/shardgate/topology"
)

// backends holds one connection pool per (server address, backend
// credentials). Which server a target runs on is the health monitor's
// choice (see connectTo). Pools outlive topology reloads: a server that
// stays in the file keeps its pool.
type backends struct {
	dialTimeout time.Duration
	set         *pool.Set[*backendConn]
	textOrders  textOrders
	// schemaEpoch counts DDL through the proxy and stale plans servers
	// reported (see staleplans.go).
	schemaEpoch atomic.Uint64
}

func newBackends() *backends {
	return &backends{dialTimeout: 5 * time.Second, set: pool.NewSet[*backendConn]()}
}

// poolFor returns the pool of one server of a database, creating it on
// first use with the database's pool settings.
func (b *backends) poolFor(db *topology.DB, addr string) *pool.Pool[*backendConn] {
	return b.set.Get(pool.Key{Addr: addr, User: db.Backend.User, Database: db.Backend.Database}, db.Name, func() *pool.Pool[*backendConn] {
		cred, timeout := db.Backend, b.dialTimeout
		dial := func(ctx context.Context) (*backendConn, error) {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			var d net.Dialer
			nc, err := d.DialContext(ctx, topology.Network(addr), addr)
			if err != nil {
				return nil, err
			}
			if nc, err = startTLS(ctx, nc, addr, cred); err != nil {
				return nil, err
			}
			c, err := loginBackend(ctx, nc, addr, cred)
			if err == nil {
				c.textOrder = b.textOrders.of(c, cred.Database)
				c.schema = &b.schemaEpoch
				c.born = time.Now()
			}
			return c, err
		}
		dead := func(c *backendConn) bool { return netcheck.Dead(c.nc) }
		return pool.New(dial, db.MaxPerBackend, db.IdleTimeout).CheckIdle(netcheck.QuietFor, dead).MaxLifetime(db.PoolMaxLifetime)
	})
}

// startTLS upgrades a new server connection to TLS when the database's
// backend settings ask for it.
func startTLS(ctx context.Context, nc net.Conn, addr string, cred topology.Backend) (net.Conn, error) {
	conf, err := cred.TLSConfig(addr)
	if err == nil {
		var tc net.Conn
		if tc, err = pgwire.StartTLS(ctx, nc, conf); err == nil {
			return tc, nil
		}
	}
	nc.Close()
	return nil, fmt.Errorf("TLS to %s: %w", addr, err)
}

// closeIdle drops the idle connections to a server that just failed.
func (b *backends) closeIdle(addr string) { b.set.CloseIdle(addr) }

// prune closes the pools of servers the topology no longer lists.
func (b *backends) prune(snap *topology.Snapshot) { b.set.Retain(pool.Listed(snap, topology.Postgres)) }

// stats lists every pool for metrics and /topology.
func (b *backends) stats() []metrics.PoolStat { return metrics.PoolStats(b.set) }

// closeAll closes every pool (shutdown).
func (b *backends) closeAll() { b.set.CloseAll() }
