package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/shardgate/shardgate/proxy/metrics"
)

func TestHandler(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	var notReady atomic.Pointer[error]
	snap := fixedSnapshot(t)
	full := Handler(Options{
		Gatherer: reg,
		Ready: func() error {
			if e := notReady.Load(); e != nil {
				return *e
			}
			return nil
		},
		Topology: func() any { return BuildView(snap, fixedServers, pgPools) },
	})
	var logged bytes.Buffer
	bare := Handler(Options{
		Topology: func() any { return make(chan int) }, // cannot be encoded
		Logger:   slog.New(slog.NewTextHandler(&logged, nil)),
	})
	draining := errors.New("draining")

	tests := []struct {
		name   string
		h      http.Handler
		method string
		path   string
		before func()
		status int
		ctype  string
		body   string // substring
		noBody bool
		header [2]string
	}{
		{name: "healthz", h: full, method: "GET", path: "/healthz", status: 200, ctype: "text/plain", body: "ok\n"},
		{name: "healthz head", h: full, method: "HEAD", path: "/healthz", status: 200, noBody: true},
		{name: "readyz ready", h: full, method: "GET", path: "/readyz", status: 200, body: "ok\n"},
		{name: "readyz not ready", h: full, method: "GET", path: "/readyz", before: func() { notReady.Store(&draining) },
			status: 503, ctype: "text/plain", body: "not ready: draining\n"},
		{name: "readyz ready again", h: full, method: "GET", path: "/readyz", before: func() { notReady.Store(nil) }, status: 200},
		{name: "readyz without func", h: bare, method: "GET", path: "/readyz", status: 200},
		{name: "topology", h: full, method: "GET", path: "/topology", status: 200, ctype: "application/json", body: "\n  \"databases\": ["},
		{name: "topology unset", h: Handler(Options{}), method: "GET", path: "/topology", status: 404},
		{name: "topology encode error", h: bare, method: "GET", path: "/topology", status: 500},
		{name: "metrics", h: full, method: "GET", path: "/metrics", status: 200, ctype: "text/plain", body: "shardgate_queries_total"},
		{name: "metrics unset", h: bare, method: "GET", path: "/metrics", status: 404},
		{name: "post", h: full, method: "POST", path: "/metrics", status: 405, header: [2]string{"Allow", "GET, HEAD"}},
		{name: "delete", h: full, method: "DELETE", path: "/healthz", status: 405},
		{name: "unknown", h: full, method: "GET", path: "/debug/pprof/", status: 404},
		{name: "trailing slash", h: full, method: "GET", path: "/metrics/", status: 404},
		{name: "unknown post", h: full, method: "POST", path: "/nope", status: 404},
		{name: "root", h: full, method: "GET", path: "/", status: 404},
	}
	m.Query("postgres", "shop", metrics.RouteSingle, metrics.OutcomeOK, time.Millisecond)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
			}
			rec := httptest.NewRecorder()
			tt.h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d (body %q)", rec.Code, tt.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tt.ctype) {
				t.Errorf("Content-Type %q, want %q", ct, tt.ctype)
			}
			if !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("body %q does not contain %q", rec.Body, tt.body)
			}
			if tt.header[0] != "" && rec.Header().Get(tt.header[0]) != tt.header[1] {
				t.Errorf("%s: %q, want %q", tt.header[0], rec.Header().Get(tt.header[0]), tt.header[1])
			}
		})
	}
	if !strings.Contains(logged.String(), "encode /topology") {
		t.Errorf("encoding error not logged: %q", logged.String())
	}
}

// Over a real connection (HEAD bodies are dropped by the server, not by
// the recorder), /metrics parses as Prometheus text and lists every name
// once traffic has been recorded, and /topology is the view's JSON.
func TestHandlerOverHTTP(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.ClientOpened("postgres")
	m.ClientRefused("mysql", metrics.RefusedTooMany)
	m.Query("postgres", "shop", metrics.RouteScatter, metrics.OutcomeError, 3*time.Millisecond)
	m.BackendQuery("postgres", "shop", "-80", "primary")
	m.Error("merge")
	m.Reload(true)
	m.Retry("shop")
	m.MultiShardCommit("shop", metrics.CommitCommitted)
	m.PreparedResolved("shop", true)
	m.AddPoolSource(pgPools)
	m.AddServerSource(func() []metrics.ServerStat {
		return []metrics.ServerStat{{Database: "shop", Shard: "-80", Backend: "127.0.0.1:15433", Role: "replica", Up: true, LagKnown: true}}
	})
	snap := fixedSnapshot(t)
	srv := httptest.NewServer(Handler(Options{Gatherer: reg, Topology: func() any { return BuildView(snap, nil) }}))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	for _, n := range m.Names() {
		if _, ok := fams[n]; !ok {
			t.Errorf("/metrics lacks %s", n)
		}
	}

	resp, err = http.Head(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) != 0 {
		t.Errorf("HEAD /healthz: %d %q", resp.StatusCode, body)
	}

	resp, err = http.Get(srv.URL + "/topology")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v View
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	if v.Source.SHA256 != snap.Source.SHA256 || len(v.Databases) != 2 {
		t.Errorf("/topology: %+v", v)
	}
}

func TestServeStopsWithContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, Handler(Options{})) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Fatal("listener still accepts after shutdown")
	}
}

// A request that never finishes does not hold shutdown past its bound.
func TestServeShutdownIsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	stuck := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, stuck, 50*time.Millisecond) }()
	reqErr := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err == nil {
			resp.Body.Close()
		}
		reqErr <- err
	}()
	<-entered
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown waited for a stuck request")
	}
	if err := <-reqErr; err == nil {
		t.Error("the stuck request was not cut off")
	}
}

func TestServeReportsListenerFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if err := Serve(context.Background(), ln, Handler(Options{})); err == nil {
		t.Fatal("Serve on a closed listener returned nil")
	}
}
