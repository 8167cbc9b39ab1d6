package health

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topology"
)

// Each policy shares reads by weight (replicaA weight 3, replicaB 1).
// Round robin and least_connections on an idle shard are exact; random and
// client_hash are checked within 3 points of the expected 75%.
func TestPolicyDistribution(t *testing.T) {
	const n = 10000
	tests := []struct {
		policy string
		exact  bool
	}{
		{"round_robin", true},
		{"least_connections", true},
		{"random", false},
		{"client_hash", false},
	}
	for _, tc := range tests {
		t.Run(tc.policy, func(t *testing.T) {
			fx := newFixture(t, topo{policy: tc.policy})
			counts := map[string]int{}
			for i := range n {
				addr := fx.pick(t, PickRequest{ClientKey: ClientKey(fmt.Sprint("client-", i))})
				fx.m.Begin(addr)
				fx.m.Done(addr)
				counts[addr]++
			}
			share := float64(counts[replicaA]) / n
			if counts[replicaA]+counts[replicaB] != n {
				t.Fatalf("picks outside the replicas: %v", counts)
			}
			if tc.exact && counts[replicaA] != 3*n/4 {
				t.Errorf("%v, want exactly 3:1", counts)
			}
			if math.Abs(share-0.75) > 0.03 {
				t.Errorf("%v: replicaA share %.3f, want 0.75", counts, share)
			}
		})
	}
}

// least_connections sends reads to the replica with the fewest statements
// in flight per unit of weight.
func TestLeastConnectionsUnderLoad(t *testing.T) {
	fx := newFixture(t, topo{policy: "least_connections"})
	for range 400 { // none given back: in flight grows 3:1
		fx.m.Begin(fx.pick(t, PickRequest{}))
	}
	a, b := fx.status(t, replicaA).InFlight, fx.status(t, replicaB).InFlight
	if a+b != 400 || a < 299 || a > 301 {
		t.Fatalf("in flight %d:%d, want 300:100", a, b)
	}
	for range 40 { // replicaA drains: it takes the next reads
		fx.m.Done(replicaA)
	}
	for i := range 10 {
		if got := fx.pick(t, PickRequest{}); got != replicaA {
			t.Fatalf("pick %d went to %s, less loaded is %s", i, got, replicaA)
		}
	}
}

// Smooth weighted round robin interleaves instead of sending runs.
func TestSmoothSequence(t *testing.T) {
	tests := []struct {
		weights []int
		want    string
	}{
		{[]int{5, 1, 1}, "aabacaa"},
		{[]int{3, 1}, "aaba"},
		{[]int{2, 2, 2}, "abc"},
		{[]int{1}, "a"},
		{[]int{3000, 1000}, "aaba"},
	}
	for _, tc := range tests {
		reps := make([]candidate, len(tc.weights))
		for i, w := range tc.weights {
			reps[i].weight = w
		}
		var got strings.Builder
		for _, i := range smoothSequence(reps) {
			got.WriteByte(byte('a' + i))
		}
		if got.String() != tc.want {
			t.Errorf("weights %v: %s, want %s", tc.weights, got.String(), tc.want)
		}
	}
	// Huge weights keep their ratio within the sequence bound.
	reps := []candidate{{weight: 3 << 40}, {weight: 1 << 40}, {weight: 1}}
	normalise(reps)
	seq := smoothSequence(reps)
	if len(seq) > maxSeq+len(reps) || len(seq) == 0 {
		t.Fatalf("sequence of %d", len(seq))
	}
}

// client_hash keeps a client on its replica, and when a replica is banned
// only its own clients move; they come back when it recovers.
func TestClientHashStability(t *testing.T) {
	replicas := fmt.Sprintf("[ { address: %q }, { address: %q, weight: 2 }, { address: %q } ]", replicaA, replicaB, replicaC)
	fx := newFixture(t, topo{policy: "client_hash", replicas: replicas, health: "{ recover: 1 }"})
	const n = 3000
	before := make([]string, n)
	for i := range n {
		before[i] = fx.pick(t, PickRequest{ClientKey: ClientKey(fmt.Sprint("10.1.", i/250, ".", i%250))})
		if again := fx.pick(t, PickRequest{ClientKey: ClientKey(fmt.Sprint("10.1.", i/250, ".", i%250))}); again != before[i] {
			t.Fatalf("client %d moved from %s to %s with nothing changed", i, before[i], again)
		}
	}
	fx.m.ReportFailure(replicaB, syscall.ECONNREFUSED)
	moved := 0
	for i := range n {
		got := fx.pick(t, PickRequest{ClientKey: ClientKey(fmt.Sprint("10.1.", i/250, ".", i%250))})
		switch {
		case got == replicaB:
			t.Fatalf("client %d sent to banned %s", i, replicaB)
		case before[i] != replicaB && got != before[i]:
			t.Fatalf("client %d of a healthy replica moved from %s to %s", i, before[i], got)
		case got != before[i]:
			moved++
		}
	}
	if share := float64(moved) / n; math.Abs(share-0.5) > 0.04 {
		t.Errorf("%.3f of clients moved, want about 0.5 (replicaB's weight share)", share)
	}
	fx.round()
	for i := range n {
		if got := fx.pick(t, PickRequest{ClientKey: ClientKey(fmt.Sprint("10.1.", i/250, ".", i%250))}); got != before[i] {
			t.Fatalf("after recovery client %d is on %s, was %s", i, got, before[i])
		}
	}
}

// Lag rules: a replica over max_replica_lag, with an unknown lag, or never
// measured gets no reads when a limit is set.
func TestLagExclusion(t *testing.T) {
	tests := []struct {
		name   string
		maxLag string
		obs    Observation
		probe  error // replicaA's first and only probe fails: never measured
		usable bool
	}{
		{"within limit", "1s", Observation{Lag: 500 * time.Millisecond, LagKnown: true}, nil, true},
		{"at limit", "1s", Observation{Lag: time.Second, LagKnown: true}, nil, true},
		{"over limit", "1s", Observation{Lag: 1500 * time.Millisecond, LagKnown: true}, nil, false},
		{"unknown", "1s", Observation{}, nil, false},
		{"unknown, no limit", "0s", Observation{}, nil, true},
		{"never measured", "1s", Observation{}, errProbe, false},
		{"never measured, no limit", "0s", Observation{}, errProbe, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, topo{maxLag: tc.maxLag, fallback: "error", replicas: fmt.Sprintf("[ { address: %q } ]", replicaA), health: "{ failures: 2 }"})
			fx.m = NewMonitor(map[string]Prober{"postgres": fx.f}, Options{})
			fx.f.set(replicaA, tc.obs, tc.probe)
			fx.round()
			addr, err := fx.m.Pick(fx.db, fx.sh, PickRequest{})
			st := fx.status(t, replicaA)
			if tc.usable != (err == nil && addr == replicaA) || st.Usable != tc.usable || !st.Up {
				t.Fatalf("pick %q, %v; status %+v; want usable %v", addr, err, st, tc.usable)
			}
			if !tc.usable && !errors.Is(err, ErrNoReplica) {
				t.Fatalf("err = %v, want ErrNoReplica", err)
			}
		})
	}
}

// When no replica is usable: fallback primary reads from the primary
// unless it is banned, fallback error refuses; writes always get the
// primary.
func TestFallback(t *testing.T) {
	tests := []struct {
		name        string
		fallback    string
		policy      string
		primaryDown bool
		req         PickRequest
		want        string
		wantErr     error
	}{
		{"primary", "primary", "", false, PickRequest{}, primaryAddr, nil},
		{"primary down", "primary", "", true, PickRequest{}, "", ErrNoServer},
		{"error", "error", "", false, PickRequest{}, "", ErrNoReplica},
		{"error, primary down", "error", "", true, PickRequest{}, "", ErrNoReplica},
		{"write, primary down", "error", "", true, PickRequest{Primary: true}, primaryAddr, nil},
		{"primary_only, primary down", "primary", "primary_only", true, PickRequest{}, primaryAddr, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, topo{fallback: tc.fallback, policy: tc.policy, health: "{ failures: 1 }"})
			fx.f.set(replicaA, Observation{}, errProbe)
			fx.m.ReportFailure(replicaB, syscall.ECONNREFUSED)
			if tc.primaryDown {
				fx.f.set(primaryAddr, Observation{}, errProbe)
			}
			fx.round()
			got, err := fx.m.Pick(fx.db, fx.sh, tc.req)
			if got != tc.want || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Pick = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "database d, shard -") {
				t.Errorf("error does not name the shard: %v", err)
			}
		})
	}
}

// Avoid steers a retry away from the server that just failed, unless
// nothing else can serve.
func TestAvoid(t *testing.T) {
	one := fmt.Sprintf("[ { address: %q } ]", replicaA)
	tests := []struct {
		name     string
		replicas string
		fallback string
		policy   string
		req      PickRequest
		want     []string // any of
	}{
		{"other replica", "", "", "round_robin", PickRequest{Avoid: replicaA}, []string{replicaB}},
		{"other replica, client_hash", "", "", "client_hash", PickRequest{Avoid: replicaA}, []string{replicaB}},
		{"other replica, random", "", "", "random", PickRequest{Avoid: replicaB}, []string{replicaA}},
		{"other replica, least_connections", "", "", "least_connections", PickRequest{Avoid: replicaA}, []string{replicaB}},
		{"primary as fallback", one, "primary", "round_robin", PickRequest{Avoid: replicaA}, []string{primaryAddr}},
		{"only candidate", one, "error", "round_robin", PickRequest{Avoid: replicaA}, []string{replicaA}},
		{"avoided primary", "[]", "primary", "round_robin", PickRequest{Avoid: primaryAddr}, []string{primaryAddr}},
		{"write ignores avoid", "", "", "round_robin", PickRequest{Primary: true, Avoid: primaryAddr}, []string{primaryAddr}},
		{"unrelated address", "", "", "round_robin", PickRequest{Avoid: "10.7.7.7:1"}, []string{replicaA, replicaB}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, topo{replicas: tc.replicas, fallback: tc.fallback, policy: tc.policy})
			for i := range 200 {
				tc.req.ClientKey = uint64(i)
				if got := fx.pick(t, tc.req); !contains(tc.want, got) {
					t.Fatalf("pick %d = %s, want one of %v", i, got, tc.want)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Drained replicas (weight 0) get no reads.
func TestDrained(t *testing.T) {
	replicas := fmt.Sprintf("[ { address: %q, weight: 0 }, { address: %q } ]", replicaA, replicaB)
	for _, policy := range []string{"round_robin", "random", "least_connections", "client_hash"} {
		fx := newFixture(t, topo{policy: policy, replicas: replicas})
		for i := range 100 {
			if got := fx.pick(t, PickRequest{ClientKey: uint64(i)}); got != replicaB {
				t.Fatalf("%s: picked %s", policy, got)
			}
		}
		if fx.status(t, replicaA).Usable {
			t.Errorf("%s: drained replica reported usable", policy)
		}
	}
}

// Before any snapshot is adopted every server counts as up.
func TestPickBeforeAnyRound(t *testing.T) {
	snap := parse(t, topo{})
	m := NewMonitor(nil, Options{})
	db := snap.Databases()[0]
	seen := map[string]int{}
	for range 8 {
		addr, err := m.Pick(db, db.Shards[0], PickRequest{})
		if err != nil {
			t.Fatal(err)
		}
		seen[addr]++
	}
	if seen[replicaA] != 6 || seen[replicaB] != 2 {
		t.Fatalf("picks %v", seen)
	}
	if err := m.Ready(snap); err != nil {
		t.Fatal(err)
	}
}

func TestRecentWrites(t *testing.T) {
	snap := parse(t, topo{})
	db := *snap.Databases()[0]
	sh := db.Shards[0]
	other := &topology.Shard{Primary: "10.0.9.1:5432"}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		window time.Duration
		read   *topology.Shard
		after  time.Duration
		want   bool
	}{
		{"off", 0, sh, 0, false},
		{"inside", time.Second, sh, 999 * time.Millisecond, true},
		{"expired", time.Second, sh, time.Second, false},
		{"other shard", time.Second, other, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db.ReadYourWrites = tc.window
			var w RecentWrites
			if w.Primary(sh, t0) {
				t.Fatal("fresh session reads from the primary")
			}
			w.Wrote(&db, sh, t0)
			if got := w.Primary(tc.read, t0.Add(tc.after)); got != tc.want {
				t.Fatalf("Primary = %v, want %v", got, tc.want)
			}
		})
	}
	// Many shards: expired windows are swept, live ones kept.
	db.ReadYourWrites = time.Second
	var w RecentWrites
	for i := range 3 * keepAtMost {
		w.Wrote(&db, &topology.Shard{Primary: fmt.Sprint("10.2.0.", i, ":1")}, t0.Add(time.Duration(i)*time.Second))
	}
	if len(w.until) > keepAtMost+1 {
		t.Errorf("%d windows kept", len(w.until))
	}
}
