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
	"sync"
	"sync/atomic"

	"github.com/shardgate/shardgate/proxy/mysqlwire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/mysql"
	"github.com/shardgate/shardgate/router/sqltext"
	"github.com/shardgate/shardgate/topology"
)

// Options tune a Server; zero values take the defaults.
type Options struct {
	// AuthMethod is "caching_sha2_password" (default) or
	// "mysql_native_password".
	AuthMethod   string
	MaxClients   int // 0: no limit
	MaxMergeRows int // rows a fan-out merge may hold in memory; 0: the merge default
	Logger       *slog.Logger
}

// Server serves the MySQL protocol for the topology's mysql databases.
type Server struct {
	store    *topology.Store
	router   *router.Router
	back     *backends
	acceptor *mysqlwire.Acceptor
	opts     Options
	log      *slog.Logger

	clients    atomic.Int64
	maxClients atomic.Int64
	rr         atomic.Uint64
	wg         sync.WaitGroup
}

// New returns a server reading the topology from store. The TLS
// certificate, when the topology has one, is offered to clients.
func New(store *topology.Store, opts Options) (*Server, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		store:  store,
		router: router.New(sqltext.MySQL, mysql.NewAnalyzer(), router.DefaultCacheSize),
		back:   newBackends(),
		opts:   opts,
		log:    log,
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

// Serve accepts clients on ln until ctx ends, then closes ln, waits for
// the sessions to finish and closes the backend pools.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.wg.Wait()
			s.back.closeAll()
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(ctx, nc)
		}()
	}
}

// serveConn runs one client connection. A panic ends only this
// connection, never the process.
func (s *Server) serveConn(ctx context.Context, nc net.Conn) {
	defer nc.Close()
	n := s.clients.Add(1)
	defer s.clients.Add(-1)
	if max := s.maxClients.Load(); max > 0 && n > max {
		refuseTooMany(nc)
		return
	}
	sess := &session{srv: s}
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

// refuseTooMany answers a connection over the limit with error 1040 in
// place of the handshake, as a MySQL server does.
func refuseTooMany(nc net.Conn) {
	c := mysqlwire.NewConn(nc)
	e := &mysqlwire.Error{Code: 1040, State: "08004", Message: "Too many connections"}
	c.WritePacket(mysqlwire.AppendError(nil, e))
	c.Flush()
}

// Clients is how many client connections are open.
func (s *Server) Clients() int64 { return s.clients.Load() }

// server picks the address a target runs on: the primary, or a replica
// by weighted round robin (weight 0 replicas get no reads).
func (s *Server) server(db *topology.DB, t router.Target) string {
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
	n := int(s.rr.Add(1) % uint64(total))
	for _, r := range sh.Replicas {
		if n < r.Weight {
			return r.Address
		}
		n -= r.Weight
	}
	return sh.Primary
}
