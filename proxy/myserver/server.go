// Package myserver is shardgate's MySQL front end: it accepts client
// connections (handshake and authentication through proxy/mysqlwire),
// routes every statement with the router and runs the plan on pooled
// backend connections, relaying single-shard results packet by packet
// and merging fan-out results.
package myserver

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardgate/shardgate/proxy/console"
	"github.com/shardgate/shardgate/proxy/drain"
	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/proxy/mysqlwire"
	"github.com/shardgate/shardgate/proxy/twophase"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/mysql"
	"github.com/shardgate/shardgate/router/sqltext"
	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/health"
)

// Options tune a Server; zero values take the defaults.
type Options struct {
	// AuthMethod is "mysql_native_password" (default) or
	// "caching_sha2_password".
	AuthMethod   string
	MaxClients   int // 0: no limit
	MaxMergeRows int // rows a fan-out merge may hold in memory; 0: the merge default
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
	// ResolveEvery is how often Serve looks for XA transactions a
	// two-phase commit left prepared (0: 30s); ResolveAfter is how long
	// one must have been seen prepared before it is finished for its dead
	// proxy (0: 2m).
	ResolveEvery, ResolveAfter time.Duration
}

// Server serves the MySQL protocol for the topology's mysql databases.
type Server struct {
	store    *topology.Store
	router   *router.Router
	back     *backends
	acceptor *mysqlwire.Acceptor
	opts     Options
	log      *slog.Logger
	health   *health.Monitor
	metrics  *metrics.Metrics
	conns    *drain.Group
	columns  router.ColumnCache // tables' column orders, for INSERTs without a column list
	defs     stmtDefsCache      // servers' answers to COM_STMT_PREPARE, per text

	clients    atomic.Int64
	maxClients atomic.Int64
	prepared   preparedSeen // XA transactions seen prepared, for the resolver
	// afterPrepare, when set, runs between the two phases of a two-phase
	// commit (tests use it to break connections there).
	afterPrepare atomic.Pointer[func(parts []txPart)]
}

// New returns a server reading the topology from store. The TLS
// certificate, when the topology has one, is offered to clients.
func New(store *topology.Store, opts Options) (*Server, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		store:   store,
		router:  router.New(sqltext.MySQL, mysql.NewAnalyzer(), router.DefaultCacheSize),
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
	var tlsConf *tls.Config
	if cert := store.Current().TLS; cert != nil {
		tlsConf = &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
	}
	acc, err := mysqlwire.NewAcceptor(mysqlwire.AcceptConfig{
		Password:      s.password,
		KnownDatabase: s.knownDatabase,
		AuthMethod:    opts.AuthMethod,
		TLS:           tlsConf,
	})
	if err != nil {
		return nil, err
	}
	s.acceptor = acc
	s.maxClients.Store(int64(opts.MaxClients))
	return s, nil
}

func (s *Server) password(user string) (string, bool) {
	u, ok := s.store.Current().User(user)
	if !ok {
		return "", false
	}
	return u.Password, true
}

func (s *Server) knownDatabase(name string) bool {
	_, ok := s.store.Current().Database(topology.MySQL, name)
	return ok
}

// SetMaxClients changes the client limit (0: none) for new connections.
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
		s.log.Warn("mysql sessions still busy at the end of the drain were closed", "sessions", forced)
	}
	s.back.closeAll()
	return err
}

// serveConn runs one client connection. A panic ends only this
// connection, never the process.
func (s *Server) serveConn(ctx context.Context, nc net.Conn, dc *drain.Conn) {
	n := s.clients.Add(1)
	defer s.clients.Add(-1)
	if max := s.maxClients.Load(); max > 0 && n > max {
		s.metrics.ClientRefused(protocol, metrics.RefusedTooMany)
		refuseTooMany(nc)
		return
	}
	s.metrics.ClientOpened(protocol)
	defer s.metrics.ClientClosed(protocol)
	sess := &session{srv: s, drain: dc, clientKey: health.ClientKey(nc.RemoteAddr().String())}
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("mysql session panicked", "panic", r, "stack", string(debug.Stack()))
		}
		sess.close()
	}()
	if err := sess.run(ctx, nc); err != nil && !errors.Is(err, net.ErrClosed) {
		s.log.Debug("mysql session ended", "remote", nc.RemoteAddr().String(), "err", err)
	}
}

// protocol labels this server's metrics.
const protocol = "mysql"

// refuseTooMany answers a connection over the limit with error 1040 in
// place of the handshake, as a MySQL server does.
func refuseTooMany(nc net.Conn) {
	c := mysqlwire.NewConn(nc)
	e := &mysqlwire.Error{Code: erTooManyConnections, State: "08004", Message: "Too many connections"}
	c.WritePacket(mysqlwire.AppendError(nil, e))
	c.Flush()
}

// Clients is how many client connections are open.
func (s *Server) Clients() int64 { return s.clients.Load() }

// PoolStats reports every backend pool, for metrics and /topology.
func (s *Server) PoolStats() []metrics.PoolStat { return s.back.stats() }

// Reloaded tells the server a new topology is in force: pools of servers
// it no longer lists are closed once their connections are given back.
func (s *Server) Reloaded(snap *topology.Snapshot) { s.back.prune(snap) }
