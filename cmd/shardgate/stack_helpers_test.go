package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/shardgate/shardgate/proxy/admin"
	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/localcluster"
)

// The integration tests of this package run the whole `serve` stack
// (both proxies, health checks, metrics, admin HTTP, reloads, drain) in
// process, over real PostgreSQL and MariaDB clusters, and drive it with
// real clients.

const (
	pgSchema = `CREATE TABLE users (id bigint PRIMARY KEY, name text)`
	mySchema = `CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(64))`
)

// startCluster starts a cluster of kind with the users table on every
// shard (and its replicas).
func startCluster(t *testing.T, kind localcluster.Kind, shards, replicas int) *localcluster.Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real database servers")
	}
	if replicas == 0 {
		replicas = localcluster.NoReplicas
	}
	c := localcluster.StartForTest(t, kind, localcluster.Options{Shards: shards, ReplicasPerShard: replicas, Database: "shop"})
	schema := pgSchema
	if kind == localcluster.KindMySQL {
		schema = mySchema
	}
	for _, sh := range c.Shards {
		if err := c.Exec(t.Context(), sh.Primary, schema); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WaitReplicated(t.Context()); err != nil {
		t.Fatal(err)
	}
	return c
}

// shopDB describes c as the logical database shop with users sharded by
// id, listing only the first listed replicas of each shard (-1: all).
func shopDB(c *localcluster.Cluster, listed int) topology.Database {
	d := c.TopologyDatabase("shop")
	d.Tables = map[string]topology.TableRule{"users": {Key: "id", Type: "int"}}
	for i := range d.Shards {
		if listed >= 0 && len(d.Shards[i].Replicas) > listed {
			d.Shards[i].Replicas = d.Shards[i].Replicas[:listed]
		}
	}
	return d
}

// stackConfig is a topology serving dbs on free loopback ports, with an
// admin endpoint and fast health checks.
func stackConfig(t *testing.T, dbs ...topology.Database) topology.Config {
	t.Helper()
	interval, timeout := topology.Duration(200*time.Millisecond), topology.Duration(500*time.Millisecond)
	failures, recover := 2, 2
	cfg := topology.Config{
		Admin:     freeAddr(t),
		Users:     []topology.User{{Name: "app", Password: "app-secret"}},
		Databases: dbs,
		Health:    topology.Health{Interval: &interval, Timeout: &timeout, Failures: &failures, Recover: &recover},
	}
	for _, d := range dbs {
		switch d.Protocol {
		case string(topology.Postgres):
			cfg.Listen.Postgres = freeAddr(t)
		case string(topology.MySQL):
			cfg.Listen.MySQL = freeAddr(t)
		}
	}
	return cfg
}

// writeConfig replaces the file at path as a deployment would (write a
// temporary file, rename it over) and returns the content's SHA-256.
func writeConfig(t *testing.T, path string, cfg topology.Config) string {
	t.Helper()
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, path, data)
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// stackFixture is `shardgate serve` running in process.
type stackFixture struct {
	cfgPath, sha256           string // the file and the content first served
	cfg                       topology.Config
	pgAddr, myAddr, adminAddr string
	out, errOut               *syncBuffer
	// stop cancels serve's context and returns its exit code (-1 if it
	// did not return in time). Safe to call twice.
	stop func() int
}

// serveStack writes cfg to a file and runs `shardgate serve` on it with
// the extra flags, until the test ends. It returns once the admin
// endpoint answers and every server has been probed and found up. The
// listen and admin addresses are picked free but another process may
// take one before serve binds it: serve then starts again on new ones,
// so callers that write the configuration again start from f.cfg.
func serveStack(t *testing.T, cfg topology.Config, flags ...string) *stackFixture {
	t.Helper()
	for attempt := 1; ; attempt++ {
		f, failure := startStack(t, cfg, flags)
		if f != nil {
			f.waitAllUp(t)
			return f
		}
		if attempt < 3 && strings.Contains(failure, "address already in use") {
			for _, a := range []*string{&cfg.Listen.Postgres, &cfg.Listen.MySQL, &cfg.Admin} {
				if *a != "" {
					*a = freeAddr(t)
				}
			}
			continue
		}
		t.Fatalf("serve exited at start:\n%s", failure)
	}
}

// startStack runs serve once: the fixture once its admin endpoint
// answers, or what serve said if it exited before.
func startStack(t *testing.T, cfg topology.Config, flags []string) (*stackFixture, string) {
	t.Helper()
	f := &stackFixture{cfgPath: filepath.Join(t.TempDir(), "topology.yaml"), cfg: cfg,
		pgAddr: cfg.Listen.Postgres, myAddr: cfg.Listen.MySQL, adminAddr: cfg.Admin,
		out: &syncBuffer{}, errOut: &syncBuffer{}}
	f.sha256 = writeConfig(t, f.cfgPath, cfg)
	args := append([]string{"serve", "-config", f.cfgPath, "-watch", "250ms", "-drain", "10s",
		"-mysql-auth", "mysql_native_password"}, flags...)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // should the wait below fail the test
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, f.out, f.errOut) }()
	exited, exitCode := false, 0
	waitFor(t, 30*time.Second, "serve's admin endpoint", func() bool {
		select {
		case exitCode = <-done:
			exited = true
			return true
		default:
		}
		code, _ := f.get(t, "/healthz")
		return code == http.StatusOK
	})
	if exited {
		cancel()
		return nil, fmt.Sprintf("exit %d\n%s%s", exitCode, f.out, f.errOut)
	}
	var once sync.Once
	code := -1
	f.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(45 * time.Second):
				t.Error("serve did not return 45s after its context ended")
			}
		})
		return code
	}
	t.Cleanup(func() {
		if c := f.stop(); c != 0 {
			t.Errorf("serve exited %d", c)
		}
		if t.Failed() {
			t.Logf("serve stdout:\n%s\nserve stderr (tail):\n%s", f.out, tail(f.errOut.String(), 60))
		}
	})
	return f, ""
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// waitAllUp waits until every server of the topology in force has been
// probed and is up.
func (f *stackFixture) waitAllUp(t *testing.T) {
	t.Helper()
	waitFor(t, 30*time.Second, "every server probed and up", func() bool {
		for _, n := range f.nodes(t) {
			if n.Health == nil || !n.Health.Up || n.Health.LastProbe.IsZero() {
				return false
			}
		}
		return true
	})
}

// get fetches an admin path; a transport error gives status 0.
func (f *stackFixture) get(t *testing.T, path string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + f.adminAddr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err.Error()
	}
	return resp.StatusCode, string(body)
}

// view is /topology.
func (f *stackFixture) view(t *testing.T) admin.View {
	t.Helper()
	code, body := f.get(t, "/topology")
	if code != http.StatusOK {
		t.Fatalf("/topology: %d %s", code, body)
	}
	var v admin.View
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("/topology: %v\n%s", err, body)
	}
	return v
}

// nodes lists every server of /topology.
func (f *stackFixture) nodes(t *testing.T) []admin.NodeView {
	t.Helper()
	var out []admin.NodeView
	for _, d := range f.view(t).Databases {
		for _, s := range d.Shards {
			out = append(out, s.Primary)
			for _, r := range s.Replicas {
				out = append(out, r.NodeView)
			}
		}
	}
	return out
}

// health is what /topology says of one server (nil: not listed or not
// probed yet).
func (f *stackFixture) health(t *testing.T, addr string) *admin.HealthView {
	t.Helper()
	for _, n := range f.nodes(t) {
		if n.Address == addr {
			return n.Health
		}
	}
	return nil
}

// metrics scrapes /metrics and parses it as Prometheus does.
func (f *stackFixture) metrics(t *testing.T) metricFamilies {
	t.Helper()
	code, body := f.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return mfs
}

type metricFamilies map[string]*dto.MetricFamily

// value sums the series of family name whose labels include labels
// (pairs: name, value); ok is false when none matches.
func (m metricFamilies) value(name string, labels ...string) (sum float64, ok bool) {
	mf := m[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, s := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range s.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		ok = true
		switch {
		case s.Counter != nil:
			sum += s.GetCounter().GetValue()
		case s.Gauge != nil:
			sum += s.GetGauge().GetValue()
		case s.Histogram != nil:
			sum += float64(s.GetHistogram().GetSampleCount())
		case s.Untyped != nil:
			sum += s.GetUntyped().GetValue()
		}
	}
	return sum, ok
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ports counts which server answered, by port.
type ports struct {
	mu sync.Mutex
	n  map[int]int
}

func (p *ports) add(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == nil {
		p.n = map[int]int{}
	}
	p.n[port]++
}

func (p *ports) get(port int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n[port]
}

func (p *ports) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprint(p.n)
}

// load runs step in workers goroutines until stop (or max elapses),
// counting successes and failures. Steps use their own contexts: stop
// lets the running ones finish, so stopping is never a failure.
type load struct {
	ok, failed atomic.Int64
	halt       atomic.Bool
	wg         sync.WaitGroup
	mu         sync.Mutex
	errs       []string
	began      time.Time
	once       sync.Once
}

func startLoad(workers int, limit time.Duration, step func(w, i int) error) *load {
	l := &load{began: time.Now()}
	for w := range workers {
		l.wg.Go(func() {
			for i := 0; !l.halt.Load() && time.Since(l.began) < limit; i++ {
				if err := step(w, i); err != nil {
					l.failed.Add(1)
					l.mu.Lock()
					if len(l.errs) < 10 {
						l.errs = append(l.errs, fmt.Sprintf("%s worker %d: %v", time.Since(l.began).Round(time.Millisecond), w, err))
					}
					l.mu.Unlock()
					continue
				}
				l.ok.Add(1)
			}
		})
	}
	return l
}

// stop ends the load, waits for it and fails the test if any step
// failed. Later calls do nothing.
func (l *load) stop(t *testing.T, what string) {
	t.Helper()
	l.once.Do(func() { l.report(t, what) })
}

func (l *load) report(t *testing.T, what string) {
	t.Helper()
	l.halt.Store(true)
	l.wg.Wait()
	t.Logf("%s: %d ok, %d failed in %v", what, l.ok.Load(), l.failed.Load(), time.Since(l.began).Round(time.Millisecond))
	if n := l.failed.Load(); n > 0 {
		t.Errorf("%s: %d of %d statements failed; first: %s", what, n, n+l.ok.Load(), strings.Join(l.errs, "\n"))
	}
	if l.ok.Load() == 0 {
		t.Errorf("%s: no statement succeeded", what)
	}
}
