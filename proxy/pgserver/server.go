// Package pgserver is shardgate's PostgreSQL front end: it accepts client
// connections, authenticates them against the topology's users, routes
// every statement with the router and runs the plan on pooled backend
// connections, streaming or merging the results.
package pgserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardgate/shardgate/proxy/console"
	"github.com/shardgate/shardgate/proxy/drain"
	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/proxy/pgwire"
	"github.com/shardgate/shardgate/proxy/twophase"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/postgres"
	"github.com/shardgate/shardgate/router/sqltext"
	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/health"
)

// Options tune a Server; zero values take the defaults.
type Options struct {
	AuthMethod   string // "scram-sha-256" (default), "md5" or "trust"
	MaxClients   int    // 0: no limit
	MaxMergeRows int    // rows a fan-out merge may hold in memory; 0: the merge default
	Logger       *slog.Logger
	// Health picks the server of each statement (read policy, health,
	// replica lag) and hears of failed connections; nil: a monitor
	// without probes (every server counts as up).
	Health *health.Monitor
	// Metrics records connections, statements and errors; nil: a private
	// registry nobody scrapes.
	Metrics *metrics.Metrics
	// Console is what SHOW SHARDGATE statements read (the whole proxy's
	// servers, pools and clients); zero: they see this server's topology
	// only.
	Console console.Sources
	// DrainTimeout is how long Serve lets open transactions and running
	// statements finish after its context ends (0: 30s).
	DrainTimeout time.Duration
	// ResolveEvery is how often Serve looks for transactions a two-phase
	// commit left prepared (0: 30s); ResolveAfter is how old such a
	// transaction must be before it is finished for its dead proxy (0: 2m).
	ResolveEvery, ResolveAfter time.Duration
}

// Server serves the PostgreSQL protocol for the topology's postgres
// databases.
type Server struct {
	store   *topology.Store
	router  *router.Router
	back    *backends
	opts    Options
	log     *slog.Logger
	health  *health.Monitor
	metrics *metrics.Metrics
	conns   *drain.Group
	columns router.ColumnCache // tables' column orders, for INSERTs without a column list
	shapes  shapeBook          // which statement shapes prepare (prepare_simple)

	bufs       *pgwire.BufferPool // client buffers, lent only while a client is busy
	clients    atomic.Int64
	maxClients atomic.Int64
	nextKey    atomic.Uint32
	sessions   sync.Map // uint64 cancel key -> *session
	// twoPhaseChecked: servers whose max_prepared_transactions was checked.
	twoPhaseChecked sync.Map
	// afterPrepare, when set, runs between the two phases of a two-phase
	// commit (tests use it to break connections there).
	afterPrepare atomic.Pointer[func(parts []txPart)]
}

// New returns a server reading the topology from store.
func New(store *topology.Store, opts Options) *Server {
	if opts.AuthMethod == "" {
		opts.AuthMethod = "scram-sha-256"
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		store:   store,
		router:  router.New(sqltext.Postgres, postgres.Analyzer{}, router.DefaultCacheSize),
		back:    newBackends(),
		opts:    opts,
		log:     log,
		health:  opts.Health,
		metrics: opts.Metrics,
		conns:   drain.NewGroup(),
	}
	if s.health == nil {
		s.health = health.NewMonitor(nil, health.Options{})
	}
	if s.metrics == nil {
		s.metrics = metrics.New(prometheus.NewRegistry())
	}
	if s.opts.DrainTimeout <= 0 {
		s.opts.DrainTimeout = 30 * time.Second
	}
	if s.opts.ResolveEvery <= 0 {
		s.opts.ResolveEvery = 30 * time.Second
	}
	if s.opts.ResolveAfter <= 0 {
		s.opts.ResolveAfter = 2 * time.Minute
	}
	s.bufs = pgwire.NewBufferPool()
	s.maxClients.Store(int64(opts.MaxClients))
	return s
}

// SetMaxClients changes the client limit (0: none) for new logins.
func (s *Server) SetMaxClients(n int) { s.maxClients.Store(int64(n)) }

// Serve accepts clients on each of lns (a TCP port, a Unix socket) until
// ctx ends. Then it stops accepting,
// closes idle sessions, lets running statements and open transactions
// finish for up to DrainTimeout, closes what remains and the backend
// pools.
func (s *Server) Serve(ctx context.Context, lns ...net.Listener) error {
	defer twophase.Background(s.opts.ResolveEvery, s.log, func(ctx context.Context) error {
		_, err := s.ResolvePrepared(ctx, s.opts.ResolveAfter)
		return err
	})()
	forced, err := s.conns.Serve(ctx, lns, s.opts.DrainTimeout, s.serveConn)
	if forced > 0 {
		s.log.Warn("postgres sessions still busy at the end of the drain were closed", "sessions", forced)
	}
	s.back.closeAll()
	return err
}

// serveConn runs one client connection. A panic (a decoder fed hostile
// bytes) closes this connection only.
func (s *Server) serveConn(ctx context.Context, nc net.Conn, dc *drain.Conn) {
	sess := newSession(s, nc, dc)
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("client connection panicked; closed", "remote", nc.RemoteAddr().String(), "panic", r, "stack", string(debug.Stack()))
		}
		sess.close()
	}()
	if err := sess.run(ctx); err != nil && !errors.Is(err, net.ErrClosed) {
		s.log.Debug("client connection ended", "remote", nc.RemoteAddr().String(), "err", err)
	}
}

// protocol labels this server's metrics.
const protocol = "postgres"

// Clients is how many client sessions are logged in.
func (s *Server) Clients() int64 { return s.clients.Load() }

// PoolStats reports every backend pool, for metrics and /topology.
func (s *Server) PoolStats() []metrics.PoolStat { return s.back.stats() }

// Reloaded tells the server a new topology is in force: pools of servers
// it no longer lists are closed once their connections are given back.
func (s *Server) Reloaded(snap *topology.Snapshot) { s.back.prune(snap) }
