package health

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topology"
)

// Addresses of the test topology: one shard, a primary and replicas.
const (
	primaryAddr = "10.0.0.1:5432"
	replicaA    = "10.0.0.2:5432"
	replicaB    = "10.0.0.3:5432"
	replicaC    = "10.0.0.4:5432"
)

// fakeProber answers from tables the test sets; every method is safe for
// concurrent use, as the monitor probes concurrently.
type fakeProber struct {
	mu      sync.Mutex
	fail    map[string]error       // addr -> the error its probes return
	obs     map[string]Observation // addr -> what a good probe returns
	gotPos  map[string]string      // replica addr -> primaryPos it was given
	calls   map[string]int
	forgot  []string
	onProbe func(ctx context.Context, addr string) // optional hook, runs unlocked
}

func newFake() *fakeProber {
	return &fakeProber{fail: map[string]error{}, obs: map[string]Observation{}, gotPos: map[string]string{}, calls: map[string]int{}}
}

func (f *fakeProber) set(addr string, obs Observation, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.obs[addr] = obs
	if err != nil {
		f.fail[addr] = err
	} else {
		delete(f.fail, addr)
	}
}

func (f *fakeProber) answer(ctx context.Context, addr string) (Observation, error) {
	f.mu.Lock()
	hook := f.onProbe
	f.calls[addr]++
	f.mu.Unlock()
	if hook != nil {
		hook(ctx, addr)
	}
	if err := ctx.Err(); err != nil {
		return Observation{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail[addr]; err != nil {
		return Observation{}, err
	}
	return f.obs[addr], nil
}

func (f *fakeProber) ProbePrimary(ctx context.Context, db *topology.DB, addr string) (Observation, error) {
	return f.answer(ctx, addr)
}

func (f *fakeProber) ProbeReplica(ctx context.Context, db *topology.DB, addr, primaryPos string) (Observation, error) {
	f.mu.Lock()
	f.gotPos[addr] = primaryPos
	f.mu.Unlock()
	return f.answer(ctx, addr)
}

func (f *fakeProber) Forget(addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgot = append(f.forgot, addr)
}

func (f *fakeProber) callsTo(addr string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[addr]
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// topo is the knobs of the test topology.
type topo struct {
	policy, maxLag, fallback string
	replicas                 string // YAML flow list of replicas
	health                   string // YAML flow mapping
}

func (o topo) yaml() string {
	if o.policy == "" {
		o.policy = "round_robin"
	}
	if o.maxLag == "" {
		o.maxLag = "0s"
	}
	if o.fallback == "" {
		o.fallback = "primary"
	}
	if o.replicas == "" {
		o.replicas = fmt.Sprintf("[ { address: %q, weight: 3 }, { address: %q, weight: 1 } ]", replicaA, replicaB)
	}
	if o.health == "" {
		o.health = "{ failures: 3, recover: 2, timeout: 1s }"
	}
	return fmt.Sprintf(`health: %s
listen: { postgres: 127.0.0.1:6432 }
users: [ { name: app, password: x } ]
databases:
  - name: d
    protocol: postgres
    backend: { user: u }
    read_policy: %s
    max_replica_lag: %s
    replica_fallback: %s
    shards:
      - { keyrange: "-", primary: %q, replicas: %s }
`, o.health, o.policy, o.maxLag, o.fallback, primaryAddr, o.replicas)
}

func parse(t testing.TB, o topo) *topology.Snapshot {
	t.Helper()
	snap, err := topology.Parse("test.yaml", []byte(o.yaml()))
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// fixture is a monitor over the test topology with a fake prober whose
// servers all answer well (lag 0) until told otherwise.
type fixture struct {
	m     *Monitor
	f     *fakeProber
	clock *fakeClock
	snap  *topology.Snapshot
	db    *topology.DB
	sh    *topology.Shard
}

func newFixture(t testing.TB, o topo) *fixture {
	t.Helper()
	fx := &fixture{f: newFake(), clock: &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}}
	fx.f.set(primaryAddr, Observation{LagKnown: true, Position: "0/100"}, nil)
	for _, r := range []string{replicaA, replicaB, replicaC} {
		fx.f.set(r, Observation{LagKnown: true, Position: "0/100", ReadOnly: true}, nil)
	}
	fx.m = NewMonitor(map[string]Prober{"postgres": fx.f}, Options{Now: fx.clock.Now})
	fx.use(t, parse(t, o))
	return fx
}

// use switches the fixture to snap and runs one round on it.
func (fx *fixture) use(t testing.TB, snap *topology.Snapshot) {
	t.Helper()
	fx.snap = snap
	fx.db = snap.Databases()[0]
	fx.sh = fx.db.Shards[0]
	fx.round()
}

func (fx *fixture) round() { fx.m.ProbeNow(context.Background(), fx.snap) }

func (fx *fixture) pick(t testing.TB, req PickRequest) string {
	t.Helper()
	addr, err := fx.m.Pick(fx.db, fx.sh, req)
	if err != nil {
		t.Fatalf("Pick(%+v): %v", req, err)
	}
	return addr
}

// status finds one server's status.
func (fx *fixture) status(t testing.TB, addr string) ServerStatus {
	t.Helper()
	for _, s := range fx.m.Status() {
		if s.Address == addr {
			return s
		}
	}
	t.Fatalf("%s not in Status()", addr)
	return ServerStatus{}
}

var errProbe = errors.New("probe failed")

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

func addrsOf(st []ServerStatus) string {
	var a []string
	for _, s := range st {
		a = append(a, s.Address)
	}
	return strings.Join(a, ",")
}
