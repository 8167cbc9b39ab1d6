// Package admin is the proxy's HTTP admin endpoint: Prometheus metrics,
// liveness and readiness probes, and a JSON view of the topology in force
// with the health and pool use of every server.
//
// Nothing here authenticates: listen on loopback or a private network.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Timeouts of the admin server. Scrapes and probes are small; a client
// that holds a connection longer is cut off.
const (
	readHeaderTimeout = 5 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 60 * time.Second
	// ShutdownTimeout bounds how long Serve waits for in-flight requests
	// once its context ends.
	ShutdownTimeout = 5 * time.Second
)

// Options is what the admin endpoint serves. Every field may be nil.
type Options struct {
	// Gatherer is scraped at /metrics; nil: /metrics is 404.
	Gatherer prometheus.Gatherer
	// Ready reports whether the proxy should get traffic; its error text
	// is returned with 503. nil: always ready.
	Ready func() error
	// Topology is JSON-marshalled as the /topology body (see BuildView);
	// nil: /topology is 404.
	Topology func() any
	// Logger receives metric gathering and encoding errors; nil: discarded.
	Logger *slog.Logger
}

// Handler serves GET (and HEAD) on /metrics, /healthz, /readyz and
// /topology; other paths are 404 and other methods 405.
func Handler(o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{o: o}
	if o.Gatherer != nil {
		h.metrics = promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{
			ErrorLog: printLogger{o.Logger},
			// One broken collector must not blind monitoring: serve what
			// could be gathered and log the rest.
			ErrorHandling:       promhttp.ContinueOnError,
			MaxRequestsInFlight: 4,
		})
	}
	return h
}

type handler struct {
	o       Options
	metrics http.Handler
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var serve func(http.ResponseWriter, *http.Request)
	switch r.URL.Path {
	case "/metrics":
		if h.metrics != nil {
			serve = h.metrics.ServeHTTP
		}
	case "/healthz":
		serve = h.healthz
	case "/readyz":
		serve = h.readyz
	case "/topology":
		if h.o.Topology != nil {
			serve = h.topology
		}
	}
	if serve == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	serve(w, r)
}

// healthz answers as long as the process can serve HTTP at all.
func (h *handler) healthz(w http.ResponseWriter, _ *http.Request) {
	text(w, http.StatusOK, "ok")
}

func (h *handler) readyz(w http.ResponseWriter, _ *http.Request) {
	if h.o.Ready != nil {
		if err := h.o.Ready(); err != nil {
			text(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
	}
	text(w, http.StatusOK, "ok")
}

func (h *handler) topology(w http.ResponseWriter, r *http.Request) {
	body, err := json.MarshalIndent(h.o.Topology(), "", "  ")
	if err != nil {
		h.o.Logger.ErrorContext(r.Context(), "admin: encode /topology", "err", err)
		http.Error(w, "cannot encode topology", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(append(body, '\n'))
}

func text(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

// printLogger adapts slog to promhttp's Println logger.
type printLogger struct{ l *slog.Logger }

func (p printLogger) Println(v ...any) {
	p.l.Error("admin: serve /metrics", "err", fmt.Sprint(v...))
}

// Serve serves h on ln until ctx ends, then shuts the server down: new
// connections are refused at once and in-flight requests get up to
// ShutdownTimeout to finish before their connections are closed. It
// returns nil after a shutdown caused by ctx, or the error that stopped
// the server. ln is closed on return.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	return serve(ctx, ln, h, ShutdownTimeout)
}

func serve(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()

	select {
	case err := <-done:
		return fmt.Errorf("admin: serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close() // in-flight requests overran: cut them off
	}
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("admin: shut down %s: %w", ln.Addr(), err)
	}
	return nil
}
