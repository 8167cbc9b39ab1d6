package metrics

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// captureReg records what New registers, so a test can Describe it all
// without traffic.
type captureReg struct{ cs []prometheus.Collector }

func (r *captureReg) Register(c prometheus.Collector) error { r.cs = append(r.cs, c); return nil }
func (r *captureReg) MustRegister(cs ...prometheus.Collector) {
	r.cs = append(r.cs, cs...)
}
func (r *captureReg) Unregister(prometheus.Collector) bool { return false }

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func TestDescribeListsEveryName(t *testing.T) {
	var reg captureReg
	m := New(&reg)
	ch := make(chan *prometheus.Desc, 100)
	for _, c := range reg.cs {
		c.Describe(ch)
	}
	close(ch)
	var described []string
	for d := range ch {
		mm := fqName.FindStringSubmatch(d.String())
		if mm == nil {
			t.Fatalf("cannot read name of %s", d)
		}
		described = append(described, mm[1])
	}
	slices.Sort(described)
	if !slices.Equal(described, m.Names()) {
		t.Fatalf("Describe lists\n%v\nNames lists\n%v", described, m.Names())
	}
	for _, n := range described {
		if !strings.HasPrefix(n, "shardgate_") {
			t.Errorf("%s: not under shardgate_", n)
		}
	}
}

func TestNamesMatchGatheredFamilies(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	recordAll(m)
	got := gatherNames(t, reg)
	if !slices.Equal(got, m.Names()) {
		t.Fatalf("gathered\n%v\nNames\n%v", got, m.Names())
	}
}

func TestDuplicateRegistrationPanics(t *testing.T) {
	reg := prometheus.NewRegistry()
	New(reg)
	defer func() {
		if recover() == nil {
			t.Fatal("second New on one registry did not panic")
		}
	}()
	New(reg)
}

// recordAll touches every metric once.
func recordAll(m *Metrics) {
	m.ClientOpened("postgres")
	m.ClientRefused("mysql", RefusedAuth)
	m.Query("postgres", "shop", RouteSingle, OutcomeOK, time.Millisecond)
	m.BackendQuery("postgres", "shop", "-80", "replica")
	m.Error("route")
	m.Reload(true)
	m.Retry("shop")
	m.MultiShardCommit("shop", CommitCommitted)
	m.PreparedResolved("shop", true)
	m.AddPoolSource(func() []PoolStat { return []PoolStat{{Database: "shop", Backend: "a:1", Max: 20}} })
	m.AddServerSource(func() []ServerStat {
		return []ServerStat{{Database: "shop", Shard: "-80", Backend: "a:2", Role: "replica", Up: true, LagKnown: true}}
	})
}

func TestRecordedValues(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.now = func() time.Time { return time.Unix(1700000000, 500_000_000) }

	m.ClientOpened("postgres")
	m.ClientOpened("postgres")
	m.ClientClosed("postgres")
	m.ClientOpened("other") // unknown protocols take the slow path
	m.ClientRefused("postgres", RefusedTooMany)
	m.ClientRefused("postgres", "weird")
	for range 3 {
		m.Query("postgres", "shop", RouteScatter, OutcomeOK, 2*time.Millisecond)
	}
	m.Query("postgres", "shop", RouteScatter, OutcomeError, 20*time.Second)
	m.Query("postgres", "shop", RouteSingle, "odd", time.Microsecond)
	m.BackendQuery("postgres", "shop", "80-", "primary")
	m.BackendQuery("postgres", "shop", "80-", "primary")
	m.Error("timeout")
	m.Error("novel")
	m.Reload(false)
	m.Reload(true)
	m.Reload(false)
	m.Retry("shop")
	m.MultiShardCommit("shop", CommitCommitted)
	m.MultiShardCommit("shop", CommitCommitted)
	m.MultiShardCommit("shop", CommitPartial)
	m.PreparedResolved("shop", false)

	fams := gather(t, reg)
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"shardgate_client_connections_open", map[string]string{"protocol": "postgres"}, 1},
		{"shardgate_client_connections_open", map[string]string{"protocol": "mysql"}, 0},
		{"shardgate_client_connections_open", map[string]string{"protocol": "other"}, 1},
		{"shardgate_client_connections_total", map[string]string{"protocol": "postgres"}, 2},
		{"shardgate_client_refused_total", map[string]string{"protocol": "postgres", "reason": "too_many"}, 1},
		{"shardgate_client_refused_total", map[string]string{"protocol": "postgres", "reason": "weird"}, 1},
		{"shardgate_client_refused_total", map[string]string{"protocol": "mysql", "reason": "auth"}, 0},
		{"shardgate_queries_total", map[string]string{"protocol": "postgres", "database": "shop", "route": "scatter", "outcome": "ok"}, 3},
		{"shardgate_queries_total", map[string]string{"protocol": "postgres", "database": "shop", "route": "scatter", "outcome": "error"}, 1},
		{"shardgate_queries_total", map[string]string{"protocol": "postgres", "database": "shop", "route": "single", "outcome": "odd"}, 1},
		{"shardgate_query_duration_seconds", map[string]string{"protocol": "postgres", "database": "shop", "route": "scatter"}, 4},
		{"shardgate_backend_queries_total", map[string]string{"protocol": "postgres", "database": "shop", "shard": "80-", "role": "primary"}, 2},
		{"shardgate_errors_total", map[string]string{"class": "timeout"}, 1},
		{"shardgate_errors_total", map[string]string{"class": "novel"}, 1},
		{"shardgate_errors_total", map[string]string{"class": "transaction"}, 0},
		{"shardgate_topology_reloads_total", map[string]string{"result": "ok"}, 1},
		{"shardgate_topology_reloads_total", map[string]string{"result": "error"}, 2},
		{"shardgate_topology_last_reload_successful", nil, 0},
		{"shardgate_topology_last_reload_success_timestamp_seconds", nil, 1700000000.5},
		{"shardgate_read_retries_total", map[string]string{"database": "shop"}, 1},
		{"shardgate_multi_shard_commits_total", map[string]string{"database": "shop", "outcome": "committed"}, 2},
		{"shardgate_multi_shard_commits_total", map[string]string{"database": "shop", "outcome": "partial"}, 1},
		{"shardgate_prepared_resolved_total", map[string]string{"database": "shop", "action": "rollback"}, 1},
	}
	for _, tt := range tests {
		got, ok := value(fams, tt.name, tt.labels)
		if !ok {
			t.Errorf("%s%v: missing", tt.name, tt.labels)
			continue
		}
		if got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}

	// The 20s query lands above every bucket; the 2ms ones in le=0.0025.
	h := find(fams, "shardgate_query_duration_seconds", map[string]string{"protocol": "postgres", "database": "shop", "route": "scatter"}).GetHistogram()
	for _, b := range h.GetBucket() {
		want := uint64(3)
		if b.GetUpperBound() < 0.0025 {
			want = 0
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
	if n := len(h.GetBucket()); n != len(queryBuckets) || queryBuckets[0] != 0.0001 || queryBuckets[n-1] != 10 {
		t.Errorf("buckets %v: want 100µs..10s", queryBuckets)
	}
}

// Many sessions hitting a label combination for the first time at once
// must all be counted, whichever wins the cache race.
func TestConcurrentFirstUse(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	const workers, each = 8, 500
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				m.Query("mysql", "db", RouteSingle, OutcomeOK, time.Millisecond)
				m.BackendQuery("mysql", "db", "-", "primary")
			}
		}()
	}
	wg.Wait()
	fams := gather(t, reg)
	for _, c := range []struct {
		name   string
		labels map[string]string
	}{
		{"shardgate_queries_total", map[string]string{"protocol": "mysql", "database": "db", "route": "single", "outcome": "ok"}},
		{"shardgate_query_duration_seconds", map[string]string{"protocol": "mysql", "database": "db", "route": "single"}},
		{"shardgate_backend_queries_total", map[string]string{"protocol": "mysql", "database": "db", "shard": "-", "role": "primary"}},
	} {
		if got, _ := value(fams, c.name, c.labels); got != workers*each {
			t.Errorf("%s = %v, want %d", c.name, got, workers*each)
		}
	}
}

func gather(t *testing.T, g prometheus.Gatherer) []*dto.MetricFamily {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

func gatherNames(t *testing.T, g prometheus.Gatherer) []string {
	t.Helper()
	var names []string
	for _, f := range gather(t, g) {
		names = append(names, f.GetName())
	}
	slices.Sort(names)
	return names
}

func find(fams []*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if matches(m, labels) {
				return m
			}
		}
	}
	return nil
}

func matches(m *dto.Metric, labels map[string]string) bool {
	if len(m.GetLabel()) != len(labels) {
		return false
	}
	for _, l := range m.GetLabel() {
		if v, ok := labels[l.GetName()]; !ok || v != l.GetValue() {
			return false
		}
	}
	return true
}

// value is a counter's or gauge's value, or a histogram's sample count.
func value(fams []*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	m := find(fams, name, labels)
	switch {
	case m == nil:
		return 0, false
	case m.Counter != nil:
		return m.Counter.GetValue(), true
	case m.Gauge != nil:
		return m.Gauge.GetValue(), true
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount()), true
	}
	return 0, false
}

// QueryTotals sums the statement counters per protocol, database and
// route, with the time spent (SHOW SHARDGATE STATS).
func TestQueryTotals(t *testing.T) {
	m := New(prometheus.NewRegistry())
	m.Query("postgres", "shop", "single", OutcomeOK, 2*time.Millisecond)
	m.Query("postgres", "shop", "single", OutcomeOK, 4*time.Millisecond)
	m.Query("postgres", "shop", "single", OutcomeError, time.Millisecond)
	m.Query("mysql", "shop", "scatter", OutcomeOK, 10*time.Millisecond)
	got := m.QueryTotals()
	want := []QueryTotal{
		{Protocol: "mysql", Database: "shop", Route: "scatter", OK: 1, Seconds: 0.010},
		{Protocol: "postgres", Database: "shop", Route: "single", OK: 2, Errors: 1, Seconds: 0.007},
	}
	if len(got) != len(want) {
		t.Fatalf("QueryTotals = %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Protocol != w.Protocol || g.Database != w.Database || g.Route != w.Route || g.OK != w.OK || g.Errors != w.Errors ||
			math.Abs(g.Seconds-w.Seconds) > 1e-9 {
			t.Errorf("QueryTotals[%d] = %+v, want %+v", i, g, w)
		}
	}
}
