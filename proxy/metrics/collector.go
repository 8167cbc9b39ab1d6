package metrics

import (
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardgate/shardgate/proxy/pool"
)

// PoolStat is one backend connection pool as seen at scrape time.
type PoolStat struct {
	Database string
	Backend  string // server address
	Open     int    // connections open, idle or in use
	InUse    int
	Waiters  int // acquisitions queued for a free connection
	Max      int
	// Since the pool was created (a reset after a topology reload is fine:
	// rate() copes with counter resets).
	Dials, DialErrors, Waits uint64
	DeadIdle                 uint64 // idle connections found closed by their server
	Retired                  uint64 // connections closed for their age (pool.max_lifetime)
}

// PoolSet is what PoolStats reads: a proxy's pools (proxy/pool.Set).
type PoolSet interface {
	Each(func(k pool.Key, label string, st pool.Stats))
}

// PoolStats lists a proxy's pools, labelled by the logical database that
// made each.
func PoolStats(set PoolSet) []PoolStat {
	var out []PoolStat
	set.Each(func(k pool.Key, label string, st pool.Stats) {
		out = append(out, PoolStat{Database: label, Backend: k.Addr, Open: st.Open, InUse: st.InUse,
			Waiters: st.Waiters, Max: st.Max, Dials: st.Dials, DialErrors: st.DialErrors, Waits: st.Waits, DeadIdle: st.DeadIdle, Retired: st.Retired})
	})
	return out
}

// ServerStat is the health of one backend server as seen at scrape time.
type ServerStat struct {
	Database, Shard string
	Backend         string // server address
	Role            string // primary | replica
	Up              bool
	LagSeconds      float64
	LagKnown        bool
}

// AddPoolSource adds a function called at every scrape to list pools. It
// is additive: the PostgreSQL and MySQL proxies each add their own. A
// (database, backend) pair reported twice is exported once (first wins).
// f must be safe for concurrent use and cheap: it runs on every scrape.
func (m *Metrics) AddPoolSource(f func() []PoolStat) {
	if f == nil {
		return
	}
	m.scrape.mu.Lock()
	defer m.scrape.mu.Unlock()
	m.scrape.pools = append(m.scrape.pools, f)
}

// AddServerSource adds a function called at every scrape to list backend
// servers and their health; additive like AddPoolSource. Lag is exported
// for servers whose Role is not "primary".
func (m *Metrics) AddServerSource(f func() []ServerStat) {
	if f == nil {
		return
	}
	m.scrape.mu.Lock()
	defer m.scrape.mu.Unlock()
	m.scrape.servers = append(m.scrape.servers, f)
}

// scrapeCollector turns the injected sources into gauges at scrape time,
// so pools and health checks keep no metric bookkeeping of their own.
type scrapeCollector struct {
	mu      sync.Mutex
	pools   []func() []PoolStat
	servers []func() []ServerStat

	poolOpen, poolInUse, poolWaiters, poolMax *prometheus.Desc
	poolDials, poolDialErrors, poolWaits      *prometheus.Desc
	poolDeadIdle, poolRetired                 *prometheus.Desc
	backendUp, replicaLag, replicaLagKnown    *prometheus.Desc
}

func newScrapeCollector() *scrapeCollector {
	pool := []string{"database", "backend"}
	server := []string{"database", "shard", "backend", "role"}
	replica := []string{"database", "shard", "backend"}
	return &scrapeCollector{
		poolOpen:        prometheus.NewDesc("shardgate_pool_connections", "Backend connections open (idle or in use), per pool.", pool, nil),
		poolInUse:       prometheus.NewDesc("shardgate_pool_in_use", "Backend connections lent to a client statement, per pool.", pool, nil),
		poolWaiters:     prometheus.NewDesc("shardgate_pool_waiters", "Acquisitions queued for a free backend connection, per pool.", pool, nil),
		poolMax:         prometheus.NewDesc("shardgate_pool_max", "Most connections the pool may open (pool.max_per_backend).", pool, nil),
		poolDials:       prometheus.NewDesc("shardgate_pool_dials_total", "Backend connections the pool dialled.", pool, nil),
		poolDialErrors:  prometheus.NewDesc("shardgate_pool_dial_errors_total", "Backend dials that failed.", pool, nil),
		poolWaits:       prometheus.NewDesc("shardgate_pool_waits_total", "Acquisitions that had to queue for a connection.", pool, nil),
		poolDeadIdle:    prometheus.NewDesc("shardgate_pool_dead_idle_total", "Idle backend connections found closed by their server (restarted, or ended the session) and dropped before use.", pool, nil),
		poolRetired:     prometheus.NewDesc("shardgate_pool_retired_total", "Backend connections closed on release for being older than the pool's max_lifetime.", pool, nil),
		backendUp:       prometheus.NewDesc("shardgate_backend_up", "1 if the last health probe of the backend server succeeded, else 0.", server, nil),
		replicaLag:      prometheus.NewDesc("shardgate_replica_lag_seconds", "Replication lag of a replica; absent while unknown.", replica, nil),
		replicaLagKnown: prometheus.NewDesc("shardgate_replica_lag_known", "1 if the replica's lag could be measured, else 0.", replica, nil),
	}
}

func (c *scrapeCollector) descs() []*prometheus.Desc {
	return []*prometheus.Desc{
		c.poolOpen, c.poolInUse, c.poolWaiters, c.poolMax,
		c.poolDials, c.poolDialErrors, c.poolWaits, c.poolDeadIdle, c.poolRetired,
		c.backendUp, c.replicaLag, c.replicaLagKnown,
	}
}

func (c *scrapeCollector) names() []string {
	return []string{
		"shardgate_pool_connections", "shardgate_pool_in_use", "shardgate_pool_waiters", "shardgate_pool_max",
		"shardgate_pool_dials_total", "shardgate_pool_dial_errors_total", "shardgate_pool_waits_total",
		"shardgate_pool_dead_idle_total", "shardgate_pool_retired_total",
		"shardgate_backend_up", "shardgate_replica_lag_seconds", "shardgate_replica_lag_known",
	}
}

// Describe implements prometheus.Collector.
func (c *scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs() {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	pools := append([]func() []PoolStat(nil), c.pools...)
	servers := append([]func() []ServerStat(nil), c.servers...)
	c.mu.Unlock()

	poolSeen := make(map[[2]string]bool)
	for _, f := range pools {
		stats, err := call(f)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(c.poolOpen, err)
			continue
		}
		for _, s := range stats {
			k := [2]string{s.Database, s.Backend}
			if poolSeen[k] {
				continue
			}
			poolSeen[k] = true
			l := k[:]
			ch <- prometheus.MustNewConstMetric(c.poolOpen, prometheus.GaugeValue, float64(s.Open), l...)
			ch <- prometheus.MustNewConstMetric(c.poolInUse, prometheus.GaugeValue, float64(s.InUse), l...)
			ch <- prometheus.MustNewConstMetric(c.poolWaiters, prometheus.GaugeValue, float64(s.Waiters), l...)
			ch <- prometheus.MustNewConstMetric(c.poolMax, prometheus.GaugeValue, float64(s.Max), l...)
			ch <- prometheus.MustNewConstMetric(c.poolDials, prometheus.CounterValue, float64(s.Dials), l...)
			ch <- prometheus.MustNewConstMetric(c.poolDialErrors, prometheus.CounterValue, float64(s.DialErrors), l...)
			ch <- prometheus.MustNewConstMetric(c.poolWaits, prometheus.CounterValue, float64(s.Waits), l...)
			ch <- prometheus.MustNewConstMetric(c.poolDeadIdle, prometheus.CounterValue, float64(s.DeadIdle), l...)
			ch <- prometheus.MustNewConstMetric(c.poolRetired, prometheus.CounterValue, float64(s.Retired), l...)
		}
	}

	seen := make(map[[4]string]bool)
	lagSeen := make(map[[3]string]bool)
	for _, f := range servers {
		stats, err := call(f)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(c.backendUp, err)
			continue
		}
		for _, s := range stats {
			k := [4]string{s.Database, s.Shard, s.Backend, s.Role}
			if seen[k] {
				continue
			}
			seen[k] = true
			ch <- prometheus.MustNewConstMetric(c.backendUp, prometheus.GaugeValue, boolValue(s.Up), k[:]...)
			lk := [3]string{s.Database, s.Shard, s.Backend}
			if s.Role == "primary" || lagSeen[lk] {
				continue
			}
			lagSeen[lk] = true
			ch <- prometheus.MustNewConstMetric(c.replicaLagKnown, prometheus.GaugeValue, boolValue(s.LagKnown), lk[:]...)
			if s.LagKnown {
				ch <- prometheus.MustNewConstMetric(c.replicaLag, prometheus.GaugeValue, s.LagSeconds, lk[:]...)
			}
		}
	}
}

// call runs a source, turning a panic into an error so one broken source
// costs its own series, not the scrape or the process.
func call[T any](f func() []T) (out []T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("metrics source panicked: %v", r)
		}
	}()
	return f(), nil
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
