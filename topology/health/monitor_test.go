package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topology"
)

// Probe outcomes drive the ban and the recovery: `failures` consecutive
// failures ban, `recover` consecutive successes end the ban, and a
// success in between resets the failure count (and vice versa).
func TestBanAndRecover(t *testing.T) {
	tests := []struct {
		name   string
		health string
		rounds string // per round: x = probe fails, o = probe succeeds
		up     string // Up after each round: 1 or 0
	}{
		{"bans after 3", "{ failures: 3, recover: 2 }", "xxxx", "1100"},
		{"recovers after 2", "{ failures: 3, recover: 2 }", "xxxoo", "11001"},
		{"success resets failures", "{ failures: 3, recover: 2 }", "xxoxxox", "1111111"},
		{"failure resets recovery", "{ failures: 2, recover: 3 }", "xxooxooo", "10000001"},
		{"failures 1 recover 1", "{ failures: 1, recover: 1 }", "xoxo", "0101"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, topo{health: tc.health})
			var got strings.Builder
			for _, r := range tc.rounds {
				var err error
				if r == 'x' {
					err = errProbe
				}
				fx.f.set(replicaA, Observation{LagKnown: true, ReadOnly: true}, err)
				fx.clock.Add(time.Second)
				fx.round()
				st := fx.status(t, replicaA)
				if st.Up {
					got.WriteByte('1')
				} else {
					got.WriteByte('0')
				}
				if st.LastProbe != fx.clock.Now() {
					t.Errorf("LastProbe %v, want the fake clock's %v", st.LastProbe, fx.clock.Now())
				}
				if (r == 'x') != (st.LastError != "") {
					t.Errorf("round %c: LastError %q", r, st.LastError)
				}
			}
			if got.String() != tc.up {
				t.Errorf("up after each round = %s, want %s", got.String(), tc.up)
			}
		})
	}
}

// A connection the proxy saw fail bans at once; other errors count like a
// failed probe; the client's own cancellation and unknown servers are
// ignored.
func TestReportFailure(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name    string
		addr    string
		err     error
		reports int
		up      bool
	}{
		{"dial refused", replicaA, refused, 1, false},
		{"connection lost", replicaA, fmt.Errorf("read: %w", io.ErrUnexpectedEOF), 1, false},
		{"reset", replicaA, syscall.ECONNRESET, 1, false},
		{"server error once", replicaA, errors.New("FATAL: too many connections"), 1, true},
		{"server error thrice", replicaA, errors.New("FATAL: too many connections"), 3, false},
		{"client cancelled", replicaA, fmt.Errorf("dial: %w", context.Canceled), 5, true},
		{"nil error", replicaA, nil, 5, true},
		{"unknown address", "10.9.9.9:1", refused, 1, true},
		{"primary", primaryAddr, refused, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, topo{})
			for range tc.reports {
				fx.m.ReportFailure(tc.addr, tc.err)
			}
			addr := tc.addr
			if addr == "10.9.9.9:1" {
				addr = replicaA
			}
			if st := fx.status(t, addr); st.Up != tc.up {
				t.Fatalf("up = %v, want %v (%+v)", st.Up, tc.up, st)
			}
			if tc.up || addr != replicaA {
				return
			}
			// Banned: reads avoid it at once, and it needs `recover` good rounds.
			for range 50 {
				if got := fx.pick(t, PickRequest{}); got != replicaB {
					t.Fatalf("picked %s while %s is banned", got, replicaA)
				}
			}
			fx.round()
			if fx.status(t, replicaA).Up {
				t.Fatal("up after one good round, recover is 2")
			}
			fx.round()
			if !fx.status(t, replicaA).Up {
				t.Fatal("still banned after two good rounds")
			}
		})
	}
}

// A probe that started before the proxy saw the server fail must not count
// towards its recovery.
func TestProbeInFlightDuringPassiveBan(t *testing.T) {
	fx := newFixture(t, topo{health: "{ failures: 3, recover: 1 }"})
	entered, release := make(chan struct{}), make(chan struct{})
	fx.f.onProbe = func(ctx context.Context, addr string) {
		if addr == replicaA {
			close(entered)
			<-release
		}
	}
	done := make(chan struct{})
	go func() { fx.round(); close(done) }()
	<-entered
	fx.m.ReportFailure(replicaA, syscall.ECONNREFUSED)
	close(release)
	<-done
	if fx.status(t, replicaA).Up {
		t.Fatal("a probe from before the failure ended the ban")
	}
	fx.f.onProbe = nil
	fx.round()
	if !fx.status(t, replicaA).Up {
		t.Fatal("a later good probe did not end the ban (recover: 1)")
	}
}

// Each probe is bounded by health.timeout even if the server never answers.
func TestProbeTimeout(t *testing.T) {
	fx := newFixture(t, topo{health: "{ failures: 1, timeout: 20ms }"})
	fx.f.onProbe = func(ctx context.Context, addr string) {
		if addr == replicaB {
			<-ctx.Done()
		}
	}
	fx.round()
	st := fx.status(t, replicaB)
	if st.Up || !strings.Contains(st.LastError, "deadline") {
		t.Fatalf("hanging replica: %+v", st)
	}
	if !fx.status(t, replicaA).Up {
		t.Fatal("the other replica suffered from the hanging one")
	}
}

// Replicas are given the position the same round read from their
// primary, or "" when that probe failed.
func TestPrimaryPosition(t *testing.T) {
	fx := newFixture(t, topo{})
	fx.f.set(primaryAddr, Observation{LagKnown: true, Position: "0/3000060"}, nil)
	fx.round()
	if got := fx.f.gotPos[replicaA]; got != "0/3000060" {
		t.Errorf("replica got primary position %q", got)
	}
	if st := fx.status(t, primaryAddr); st.Position != "0/3000060" || !st.Primary {
		t.Errorf("primary status %+v", st)
	}
	fx.f.set(primaryAddr, Observation{}, errProbe)
	fx.round()
	if got := fx.f.gotPos[replicaA]; got != "" {
		t.Errorf("replica got %q after the primary's probe failed", got)
	}
}

// A reload keeps the state of servers still listed, forgets removed ones
// (telling the prober) and starts new ones up.
func TestReload(t *testing.T) {
	fx := newFixture(t, topo{})
	fx.m.ReportFailure(replicaB, syscall.ECONNREFUSED)
	fx.m.ReportFailure(replicaA, syscall.ECONNREFUSED)

	oldDB, oldShard := fx.db, fx.sh
	fx.f.set(replicaC, Observation{}, errProbe) // new and failing: still up, one failure is not three
	fx.use(t, parse(t, topo{replicas: fmt.Sprintf("[ { address: %q }, { address: %q } ]", replicaA, replicaC)}))
	st := fx.m.Status()
	if got := addrsOf(st); got != primaryAddr+","+replicaA+","+replicaC {
		t.Fatalf("servers after reload: %s", got)
	}
	if !slices.Contains(fx.f.forgot, replicaB) {
		t.Errorf("prober not told to forget %s: %v", replicaB, fx.f.forgot)
	}
	if fx.status(t, replicaA).Up {
		t.Error("a server kept across the reload lost its ban")
	}
	if !fx.status(t, replicaC).Up {
		t.Error("a new server is not usable at once")
	}
	// A query still running on the old snapshot can still pick.
	if _, err := fx.m.Pick(oldDB, oldShard, PickRequest{}); err != nil {
		t.Errorf("pick on the old snapshot: %v", err)
	}
	// Listed again, the removed server starts afresh.
	fx.use(t, parse(t, topo{}))
	if !fx.status(t, replicaB).Up {
		t.Error("a server removed and listed again kept its old ban")
	}
}

// Run probes in rounds and adopts a reloaded file.
func TestRunFollowsReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "topology.yaml")
	write := func(o topo) {
		if err := os.WriteFile(path, []byte(o.yaml()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(topo{health: "{ interval: 5ms }"})
	store, err := topology.NewStore(path)
	if err != nil {
		t.Fatal(err)
	}
	f := newFake()
	m := NewMonitor(map[string]Prober{"postgres": f}, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx, store); close(done) }()

	eventually(t, "three rounds", func() bool { return f.callsTo(replicaA) >= 3 })
	write(topo{health: "{ interval: 1h }", replicas: fmt.Sprintf("[ { address: %q } ]", replicaC)})
	snap, err := store.Reload()
	if err != nil {
		t.Fatal(err)
	}
	// The next round is an hour away: Pick on the new snapshot makes Run
	// adopt it now.
	db := snap.Databases()[0]
	if addr, err := m.Pick(db, db.Shards[0], PickRequest{}); err != nil || addr != replicaC {
		t.Fatalf("pick on the new snapshot: %s, %v", addr, err)
	}
	eventually(t, "the reload adopted", func() bool { return f.callsTo(replicaC) >= 1 })
	eventually(t, "status of the new topology", func() bool {
		return addrsOf(m.Status()) == primaryAddr+","+replicaC
	})
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestReady(t *testing.T) {
	fx := newFixture(t, topo{health: "{ failures: 2, recover: 1 }"})
	if err := fx.m.Ready(fx.snap); err != nil {
		t.Fatalf("healthy: %v", err)
	}
	fx.f.set(replicaA, Observation{}, errProbe)
	fx.round()
	fx.round()
	if err := fx.m.Ready(fx.snap); err != nil {
		t.Fatalf("a banned replica made it unready: %v", err)
	}
	fx.f.set(primaryAddr, Observation{}, errors.New("connection refused"))
	fx.round()
	fx.round()
	err := fx.m.Ready(fx.snap)
	if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "d shard - primary "+primaryAddr+": connection refused") {
		t.Fatalf("banned primary: %v", err)
	}
	fx.f.set(primaryAddr, Observation{LagKnown: true}, nil)
	fx.round()
	if err := fx.m.Ready(fx.snap); err != nil {
		t.Fatalf("recovered: %v", err)
	}
}

// A database whose protocol has no prober: its servers fail their probes
// (and say why) rather than the monitor crashing.
func TestNoProber(t *testing.T) {
	fx := newFixture(t, topo{health: "{ failures: 1 }"})
	m := NewMonitor(nil, Options{})
	m.ProbeNow(context.Background(), fx.snap)
	if st := m.Status(); len(st) == 0 || st[0].Up || !strings.Contains(st[0].LastError, "no prober") {
		t.Fatalf("status %+v", st)
	}
}
