// Package pgserver is shardgate's PostgreSQL front end: it accepts client
// connections, authenticates them against the topology's users, routes
// every statement with the router and runs the plan on pooled backend
// connections, streaming or merging the results.
package pgserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/shardgate/shardgate/proxy/pgwire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/postgres"
	"github.com/shardgate/shardgate/router/sqltext"
	"github.com/shardgate/shardgate/topology"
)

// Options tune a Server; zero values take the defaults.
type Options struct {
	AuthMethod   string // "scram-sha-256" (default), "md5" or "trust"
	MaxClients   int    // 0: no limit
	MaxMergeRows int    // rows a fan-out merge may hold in memory; 0: the merge default
	Logger       *slog.Logger
}

// Server serves the PostgreSQL protocol for the topology's postgres
// databases.
type Server struct {
	store  *topology.Store
	router *router.Router
	back   *backends
	opts   Options
	log    *slog.Logger

	bufs       *pgwire.BufferPool // client buffers, lent only while a client is busy
	clients    atomic.Int64
	maxClients atomic.Int64
	nextKey    atomic.Uint32
	sessions   sync.Map // uint64 cancel key -> *session
	wg         sync.WaitGroup
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
		store:  store,
		router: router.New(sqltext.Postgres, postgres.Analyzer{}, router.DefaultCacheSize),
		back:   newBackends(),
		opts:   opts,
		log:    log,
	}
	s.bufs = pgwire.NewBufferPool()
	s.maxClients.Store(int64(opts.MaxClients))
	return s
}

// SetMaxClients changes the client limit (0: none) for new logins.
func (s *Server) SetMaxClients(n int) { s.maxClients.Store(int64(n)) }

// Serve accepts clients on ln until ctx ends, then closes ln, waits for
// the sessions to finish and closes the backend pools.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				s.wg.Wait()
				s.back.closeAll()
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(ctx, nc)
		}()
	}
}

// serveConn runs one client connection. A panic (a decoder fed hostile
// bytes) closes this connection only.
func (s *Server) serveConn(ctx context.Context, nc net.Conn) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("client connection panicked; closed", "remote", nc.RemoteAddr().String(), "panic", r, "stack", string(debug.Stack()))
		}
		nc.Close()
	}()
	sess := newSession(s, nc)
	defer sess.close()
	if err := sess.run(ctx); err != nil {
		s.log.Debug("client connection ended", "remote", nc.RemoteAddr().String(), "err", err)
	}
}
