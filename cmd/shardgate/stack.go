package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/shardgate/shardgate/proxy/admin"
	"github.com/shardgate/shardgate/proxy/console"
	"github.com/shardgate/shardgate/proxy/drain"
	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/proxy/myserver"
	"github.com/shardgate/shardgate/proxy/pgserver"
	"github.com/shardgate/shardgate/proxy/probe"
	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/health"
)

// stackOptions tune what `serve` and `dev` run.
type stackOptions struct {
	pgAuth, myAuth string        // client authentication methods
	drain          time.Duration // how long open transactions may finish at shutdown
	watch          time.Duration // how often the topology file is checked for changes (0: SIGHUP only)
	pprof          bool          // serve /debug/pprof/ on the admin address
}

// stack is a running shardgate: the PostgreSQL and MySQL proxies the
// topology asks for, health checks, metrics, the admin endpoint and live
// topology reloads.
type stack struct {
	store   *topology.Store
	log     *slog.Logger
	metrics *metrics.Metrics
	reg     *prometheus.Registry
	monitor *health.Monitor
	probers []io.Closer // the monitor's: their connections end with the stack
	pg      *pgserver.Server
	my      *myserver.Server

	// pgSock and mySock are the Unix sockets (listen.*_socket).
	listeners struct{ pg, my, pgSock, mySock, admin net.Listener }
	draining  atomic.Bool
}

// newStack opens every listener of the topology (so a taken port fails
// at once, before anything runs) and builds the servers.
func newStack(store *topology.Store, o stackOptions, log *slog.Logger) (*stack, error) {
	snap := store.Current()
	if !snap.Listen.ServesPostgres() && !snap.Listen.ServesMySQL() {
		return nil, errors.New("the topology sets no listen address (listen.postgres, listen.mysql or their _socket forms): nothing to serve")
	}
	s := &stack{store: store, log: log, reg: prometheus.NewRegistry()}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.metrics = metrics.New(s.reg)
	pgProbe, myProbe := probe.NewPostgres(), probe.NewMySQL()
	s.probers = []io.Closer{pgProbe, myProbe}
	s.monitor = health.NewMonitor(map[string]health.Prober{
		string(topology.Postgres): pgProbe,
		string(topology.MySQL):    myProbe,
	}, health.Options{Logger: log})
	s.metrics.AddServerSource(s.serverStats)
	var err error
	listen := func(addr, what string) net.Listener {
		if addr == "" || err != nil {
			return nil
		}
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err != nil {
			err = fmt.Errorf("%s: %w", what, err)
		}
		return ln
	}
	s.listeners.pg = listen(snap.Listen.Postgres, "listen.postgres")
	s.listeners.my = listen(snap.Listen.MySQL, "listen.mysql")
	s.listeners.admin = listen(snap.Admin, "admin")
	socket := func(path, what string) net.Listener {
		if path == "" || err != nil {
			return nil
		}
		var ln net.Listener
		if ln, err = listenSocket(path); err != nil {
			err = fmt.Errorf("%s: %w", what, err)
		}
		return ln
	}
	s.listeners.pgSock = socket(snap.Listen.PostgresSocket, "listen.postgres_socket")
	s.listeners.mySock = socket(snap.Listen.MySQLSocket, "listen.mysql_socket")
	if err != nil {
		s.closeListeners()
		return nil, err
	}
	if s.listeners.pg != nil || s.listeners.pgSock != nil {
		s.pg = pgserver.New(store, pgserver.Options{AuthMethod: o.pgAuth, Logger: log, Health: s.monitor, Metrics: s.metrics, DrainTimeout: o.drain, Console: s.console()})
		s.metrics.AddPoolSource(s.pg.PoolStats)
	}
	if s.listeners.my != nil || s.listeners.mySock != nil {
		if s.my, err = myserver.New(store, myserver.Options{AuthMethod: o.myAuth, Logger: log, Health: s.monitor, Metrics: s.metrics, DrainTimeout: o.drain, Console: s.console()}); err != nil {
			s.closeListeners()
			return nil, err
		}
		s.metrics.AddPoolSource(s.my.PoolStats)
	}
	return s, nil
}

func (s *stack) closeListeners() {
	for _, ln := range []net.Listener{s.listeners.pg, s.listeners.my, s.listeners.pgSock, s.listeners.mySock, s.listeners.admin} {
		if ln != nil {
			ln.Close()
		}
	}
}

// describe says what the stack serves, one line per endpoint.
func (s *stack) describe(w io.Writer) {
	if ln := s.listeners.pg; ln != nil {
		fmt.Fprintf(w, "shardgate: serving PostgreSQL on %s\n", ln.Addr())
	}
	if ln := s.listeners.pgSock; ln != nil {
		dir, port := socketDirPort(ln.Addr().String())
		fmt.Fprintf(w, "shardgate: serving PostgreSQL on %s (psql -h %s -p %s)\n", ln.Addr(), dir, port)
	}
	if ln := s.listeners.my; ln != nil {
		fmt.Fprintf(w, "shardgate: serving MySQL on %s\n", ln.Addr())
	}
	if ln := s.listeners.mySock; ln != nil {
		fmt.Fprintf(w, "shardgate: serving MySQL on %s (mariadb --socket %s)\n", ln.Addr(), ln.Addr())
	}
	if ln := s.listeners.admin; ln != nil {
		fmt.Fprintf(w, "shardgate: admin on http://%s (/metrics /healthz /readyz /topology)\n", ln.Addr())
	}
}

// run serves until ctx ends, then drains: listeners close, idle sessions
// end, open transactions may finish for the drain timeout. The admin
// endpoint stays up (not ready) until the proxies are done.
func (s *stack) run(ctx context.Context, o stackOptions) error {
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	var wg sync.WaitGroup
	wg.Go(func() { s.monitor.Run(bg, s.store) })
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	wg.Go(func() { topology.Watch(bg, s.store, o.watch, 500*time.Millisecond, hup, s.reloaded) })
	if ln := s.listeners.admin; ln != nil {
		h := admin.Handler(admin.Options{Gatherer: s.reg, Ready: s.ready, Topology: s.view, Logger: s.log})
		if o.pprof {
			mux := http.NewServeMux()
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
			mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
			mux.Handle("/", h)
			h = mux
		}
		wg.Go(func() {
			if err := admin.Serve(bg, ln, h); err != nil {
				s.log.Error("admin endpoint stopped", "err", err)
			}
		})
	}
	errs := make(chan error, 2)
	var proxies sync.WaitGroup
	if s.pg != nil {
		proxies.Go(func() { errs <- s.pg.Serve(ctx, serving(s.listeners.pg, s.listeners.pgSock)...) })
	}
	if s.my != nil {
		proxies.Go(func() { errs <- s.my.Serve(ctx, serving(s.listeners.my, s.listeners.mySock)...) })
	}
	go func() {
		<-ctx.Done()
		s.draining.Store(true)
		s.log.Info("shutting down: draining client sessions", "timeout", o.drain)
	}()
	proxies.Wait()
	close(errs)
	stopBG()
	wg.Wait()
	for _, p := range s.probers {
		p.Close() // the monitor has stopped: no probe uses them any more
	}
	var err error
	for e := range errs {
		err = errors.Join(err, e)
	}
	return err
}

// reloaded is called after every reload attempt (SIGHUP or a change of
// the file on disk).
func (s *stack) reloaded(snap *topology.Snapshot, err error) {
	s.metrics.Reload(err == nil)
	if err != nil {
		s.log.Error("topology reload refused; the previous topology keeps serving", "file", s.store.Path(), "err", err)
		return
	}
	s.log.Info("topology reloaded", "file", s.store.Path(), "sha256", snap.Source.SHA256[:12])
	if s.listenChanged(snap) {
		s.log.Warn("listen and admin addresses are read at start only: restart shardgate to serve the new ones")
	}
	if s.pg != nil {
		s.pg.Reloaded(snap)
	}
	if s.my != nil {
		s.my.Reloaded(snap)
	}
}

// listenChanged reports whether snap asks for listeners other than the
// ones serving.
func (s *stack) listenChanged(snap *topology.Snapshot) bool {
	differs := func(ln net.Listener, addr string) bool {
		if ln == nil || addr == "" {
			return (ln == nil) != (addr == "")
		}
		return ln.Addr().String() != addr && !sameAddr(ln.Addr(), addr)
	}
	return differs(s.listeners.pg, snap.Listen.Postgres) || differs(s.listeners.my, snap.Listen.MySQL) ||
		differs(s.listeners.admin, snap.Admin) ||
		differs(s.listeners.pgSock, snap.Listen.PostgresSocket) || differs(s.listeners.mySock, snap.Listen.MySQLSocket)
}

// sameAddr compares a listener's address with a configured one that may
// name port 0 or a host name.
func sameAddr(a net.Addr, configured string) bool {
	_, port, err := net.SplitHostPort(configured)
	if err != nil {
		return false
	}
	_, lport, _ := net.SplitHostPort(a.String())
	return port == "0" || port == lport
}

// ready is /readyz: every shard has a reachable primary and the process
// is not shutting down.
func (s *stack) ready() error {
	if s.draining.Load() {
		return errors.New("shutting down")
	}
	return s.monitor.Ready(s.store.Current())
}

// view is /topology: the snapshot with each server's health and pools.
func (s *stack) view() any { return s.topologyView() }

// console is what SHOW SHARDGATE reads on either protocol: /topology's
// view, the clients of both proxies and the statement counters.
func (s *stack) console() console.Sources {
	return console.Sources{View: s.topologyView, Clients: s.clients, Stats: s.metrics.QueryTotals}
}

// clients lists the connected clients of both proxies.
func (s *stack) clients() []console.Client {
	var out []console.Client
	add := func(protocol string) func(drain.ConnInfo) {
		return func(c drain.ConnInfo) {
			out = append(out, console.Client{Protocol: protocol, User: c.User, Database: c.Database,
				Remote: c.Remote, Since: c.Since, Active: !c.Idle})
		}
	}
	if s.pg != nil {
		s.pg.EachClient(add(string(topology.Postgres)))
	}
	if s.my != nil {
		s.my.EachClient(add(string(topology.MySQL)))
	}
	return out
}

func (s *stack) topologyView() admin.View {
	var pools []func() []metrics.PoolStat
	if s.pg != nil {
		pools = append(pools, s.pg.PoolStats)
	}
	if s.my != nil {
		pools = append(pools, s.my.PoolStats)
	}
	v := admin.BuildView(s.store.Current(), s.serverViews, pools...)
	// Listeners are opened at start only: show what is really served.
	v.Listen, v.Admin = admin.ListenView{}, ""
	if ln := s.listeners.pg; ln != nil {
		v.Listen.Postgres = ln.Addr().String()
	}
	if ln := s.listeners.my; ln != nil {
		v.Listen.MySQL = ln.Addr().String()
	}
	if ln := s.listeners.pgSock; ln != nil {
		v.Listen.PostgresSocket = ln.Addr().String()
	}
	if ln := s.listeners.mySock; ln != nil {
		v.Listen.MySQLSocket = ln.Addr().String()
	}
	if ln := s.listeners.admin; ln != nil {
		v.Admin = ln.Addr().String()
	}
	return v
}

func (s *stack) serverViews() []admin.ServerView {
	st := s.monitor.Status()
	out := make([]admin.ServerView, len(st))
	for i, x := range st {
		out[i] = admin.ServerView{Database: x.Database, Shard: x.Shard, Address: x.Address, Up: x.Up,
			LagSeconds: x.Lag.Seconds(), LagKnown: x.LagKnown, Position: x.Position, LastError: x.LastError,
			LastProbe: x.LastProbe, InFlight: x.InFlight}
	}
	return out
}

func (s *stack) serverStats() []metrics.ServerStat {
	st := s.monitor.Status()
	out := make([]metrics.ServerStat, len(st))
	for i, x := range st {
		role := "replica"
		if x.Primary {
			role = "primary"
		}
		out[i] = metrics.ServerStat{Database: x.Database, Shard: x.Shard, Backend: x.Address, Role: role,
			Up: x.Up, LagSeconds: x.Lag.Seconds(), LagKnown: x.LagKnown}
	}
	return out
}
