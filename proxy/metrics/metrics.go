// Package metrics holds every Prometheus metric the proxy exports. A
// *Metrics is built once from an injected prometheus.Registerer and handed
// to the listeners, sessions and the topology watcher; nothing here is
// package-level state.
//
// Label values must come from the topology (configured database names,
// canonical shard names, server addresses) or from the fixed sets named in
// each method's comment, never from raw client input: every distinct value
// is a time series for the life of the process.
package metrics

import (
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Label values used by the proxy. Other values are accepted (they take a
// slower path) but dashboards and alerts only know these.
const (
	RouteSingle    = "single"
	RouteScatter   = "scatter"
	RouteBroadcast = "broadcast"
	RouteLocal     = "local"
	RouteError     = "error" // the statement was never routed

	OutcomeOK    = "ok"
	OutcomeError = "error"

	RefusedTooMany = "too_many"
	RefusedAuth    = "auth"

	ClassRoute       = "route"       // the statement could not be routed
	ClassBackend     = "backend"     // a backend failed or refused
	ClassAuth        = "auth"        // client authentication failed
	ClassClient      = "client"      // the client misbehaved or went away
	ClassMerge       = "merge"       // fan-out results could not be merged
	ClassProtocol    = "protocol"    // malformed wire messages
	ClassTimeout     = "timeout"     // a deadline passed
	ClassTransaction = "transaction" // e.g. a second shard in one transaction
)

// errorClasses are the values of shardgate_errors_total{class}; each is
// exported from the start, at zero, so rate() and alerts see them.
var errorClasses = [...]string{
	ClassRoute, ClassBackend, ClassAuth, ClassClient, ClassMerge, ClassProtocol, ClassTimeout, ClassTransaction,
}

// queryBuckets are the latency buckets of shardgate_query_duration_seconds:
// 100µs to 10s in 1-2.5-5 steps.
var queryBuckets = [...]float64{
	0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05,
	0.1, 0.25, 0.5,
	1, 2.5, 5, 10,
}

var protocols = [...]string{"postgres", "mysql"}

// Metrics records what the proxy does. All methods are safe for concurrent
// use; the per-statement ones (Query, BackendQuery) do not allocate once a
// label combination has been seen.
type Metrics struct {
	clientOpen     *prometheus.GaugeVec
	clientTotal    *prometheus.CounterVec
	clientRefused  *prometheus.CounterVec
	queries        *prometheus.CounterVec
	queryDuration  *prometheus.HistogramVec
	backendQueries *prometheus.CounterVec
	errors         *prometheus.CounterVec
	reloads        *prometheus.CounterVec
	reloadOK       prometheus.Gauge
	reloadTime     prometheus.Gauge
	retries        *prometheus.CounterVec
	multiCommits   *prometheus.CounterVec
	resolved       *prometheus.CounterVec
	scrape         *scrapeCollector

	// Children resolved ahead of time or on first use, so the hot path
	// skips WithLabelValues (which hashes and joins the label values).
	queryCache   sync.Map // queryKey -> *queryChildren
	backendCache sync.Map // backendKey -> prometheus.Counter
	errorClass   map[string]prometheus.Counter
	reloadResult [2]prometheus.Counter // [error, ok]
	clientByProt map[string]clientChildren

	names []string
	now   func() time.Time
}

type queryKey struct{ protocol, database, route string }

type queryChildren struct {
	ok, err  prometheus.Counter
	duration prometheus.Observer
}

type backendKey struct{ protocol, database, shard, role string }

type clientChildren struct {
	open    prometheus.Gauge
	total   prometheus.Counter
	refused map[string]prometheus.Counter
}

// New builds the metrics and registers them on reg. It panics if any is
// already registered there (a wiring mistake, as with MustRegister).
func New(reg prometheus.Registerer) *Metrics {
	var d defs
	m := &Metrics{
		clientOpen: d.gaugeVec("shardgate_client_connections_open",
			"Client connections currently open, by wire protocol.", "protocol"),
		clientTotal: d.counterVec("shardgate_client_connections_total",
			"Client connections accepted since start, by wire protocol.", "protocol"),
		clientRefused: d.counterVec("shardgate_client_refused_total",
			"Client connections refused, by protocol and reason (too_many, auth).", "protocol", "reason"),
		queries: d.counterVec("shardgate_queries_total",
			"Client statements executed, by protocol, database, route kind (single, scatter, broadcast, local, error) and outcome (ok, error).",
			"protocol", "database", "route", "outcome"),
		queryDuration: d.histogramVec("shardgate_query_duration_seconds",
			"Time from receiving a client statement to its last result byte, by protocol, database and route kind.",
			slices.Clone(queryBuckets[:]), "protocol", "database", "route"),
		backendQueries: d.counterVec("shardgate_backend_queries_total",
			"Statements sent to backend servers, by protocol, database, shard and role (primary, replica).", "protocol", "database", "shard", "role"),
		errors: d.counterVec("shardgate_errors_total",
			"Errors returned to clients or met while serving them, by class.", "class"),
		reloads: d.counterVec("shardgate_topology_reloads_total",
			"Topology reload attempts, by result (ok, error).", "result"),
		reloadOK: d.gauge("shardgate_topology_last_reload_successful",
			"1 if the last topology reload attempt succeeded (or none was made yet), 0 if the file on disk was refused."),
		reloadTime: d.gauge("shardgate_topology_last_reload_success_timestamp_seconds",
			"Unix time of the last successful topology reload; 0 if none since start."),
		retries: d.counterVec("shardgate_read_retries_total",
			"Reads retried on another server after a backend failure, by database.", "database"),
		multiCommits: d.counterVec("shardgate_multi_shard_commits_total",
			"COMMITs of transactions that touched several shards, by database and outcome: committed, rolled_back (a shard refused; none committed), "+
				"partial (multi_shard: some shards committed, later ones failed), in_doubt (two_phase: the first shard's outcome is unknown; the resolver finishes the rest).",
			"database", "outcome"),
		resolved: d.counterVec("shardgate_prepared_resolved_total",
			"Prepared parts of interrupted two-phase commits that the resolver finished, by database and action (commit, rollback).", "database", "action"),
		scrape:       newScrapeCollector(),
		errorClass:   make(map[string]prometheus.Counter, len(errorClasses)),
		clientByProt: make(map[string]clientChildren, len(protocols)),
		now:          time.Now,
	}
	for _, c := range []prometheus.Collector{
		m.clientOpen, m.clientTotal, m.clientRefused, m.queries, m.queryDuration,
		m.backendQueries, m.errors, m.reloads, m.reloadOK, m.reloadTime, m.retries, m.multiCommits, m.resolved, m.scrape,
	} {
		reg.MustRegister(c)
	}
	m.names = append(d.names, m.scrape.names()...)
	slices.Sort(m.names)

	// Pre-resolve the fixed label sets: they are exported at zero from the
	// start, which is what rate() and absent-free alerts want.
	for _, c := range errorClasses {
		m.errorClass[c] = m.errors.WithLabelValues(c)
	}
	m.reloadResult = [2]prometheus.Counter{m.reloads.WithLabelValues("error"), m.reloads.WithLabelValues("ok")}
	m.reloadOK.Set(1)
	for _, p := range protocols {
		m.clientByProt[p] = clientChildren{
			open:  m.clientOpen.WithLabelValues(p),
			total: m.clientTotal.WithLabelValues(p),
			refused: map[string]prometheus.Counter{
				RefusedTooMany: m.clientRefused.WithLabelValues(p, RefusedTooMany),
				RefusedAuth:    m.clientRefused.WithLabelValues(p, RefusedAuth),
			},
		}
	}
	return m
}

// ClientOpened counts a client connection accepted on protocol (postgres,
// mysql).
func (m *Metrics) ClientOpened(protocol string) {
	if c, ok := m.clientByProt[protocol]; ok {
		c.open.Inc()
		c.total.Inc()
		return
	}
	m.clientOpen.WithLabelValues(protocol).Inc()
	m.clientTotal.WithLabelValues(protocol).Inc()
}

// ClientClosed counts a client connection, counted by ClientOpened, gone.
func (m *Metrics) ClientClosed(protocol string) {
	if c, ok := m.clientByProt[protocol]; ok {
		c.open.Dec()
		return
	}
	m.clientOpen.WithLabelValues(protocol).Dec()
}

// ClientRefused counts a connection turned away before a session began;
// reason is RefusedTooMany or RefusedAuth. A refused connection is not
// counted by ClientOpened.
func (m *Metrics) ClientRefused(protocol, reason string) {
	if c, ok := m.clientByProt[protocol].refused[reason]; ok {
		c.Inc()
		return
	}
	m.clientRefused.WithLabelValues(protocol, reason).Inc()
}

// Query records one client statement at the execution boundary: route is
// one of the Route* constants, outcome OutcomeOK or OutcomeError, d the
// time from receipt to the last result byte.
func (m *Metrics) Query(protocol, database, route, outcome string, d time.Duration) {
	k := queryKey{protocol, database, route}
	v, ok := m.queryCache.Load(k)
	if !ok {
		v, _ = m.queryCache.LoadOrStore(k, &queryChildren{
			ok:       m.queries.WithLabelValues(protocol, database, route, OutcomeOK),
			err:      m.queries.WithLabelValues(protocol, database, route, OutcomeError),
			duration: m.queryDuration.WithLabelValues(protocol, database, route),
		})
	}
	c := v.(*queryChildren)
	switch outcome {
	case OutcomeOK:
		c.ok.Inc()
	case OutcomeError:
		c.err.Inc()
	default:
		m.queries.WithLabelValues(protocol, database, route, outcome).Inc()
	}
	c.duration.Observe(d.Seconds())
}

// BackendQuery counts one statement sent to a backend; shard is the
// canonical key range, role "primary" or "replica".
func (m *Metrics) BackendQuery(protocol, database, shard, role string) {
	k := backendKey{protocol, database, shard, role}
	v, ok := m.backendCache.Load(k)
	if !ok {
		v, _ = m.backendCache.LoadOrStore(k, m.backendQueries.WithLabelValues(protocol, database, shard, role))
	}
	v.(prometheus.Counter).Inc()
}

// Error counts one error of class (one of the Class* constants).
func (m *Metrics) Error(class string) {
	if c, ok := m.errorClass[class]; ok {
		c.Inc()
		return
	}
	m.errors.WithLabelValues(class).Inc()
}

// Reload counts one topology reload attempt; a successful one also sets
// the last-success timestamp.
func (m *Metrics) Reload(ok bool) {
	if !ok {
		m.reloadResult[0].Inc()
		m.reloadOK.Set(0)
		return
	}
	m.reloadResult[1].Inc()
	m.reloadOK.Set(1)
	m.reloadTime.Set(float64(m.now().UnixNano()) / 1e9)
}

// Retry counts a read retried on another server after a backend failure.
func (m *Metrics) Retry(database string) {
	m.retries.WithLabelValues(database).Inc()
}

// Outcomes of a multi-shard COMMIT (MultiShardCommit).
const (
	CommitCommitted  = "committed"
	CommitRolledBack = "rolled_back"
	CommitPartial    = "partial"
	CommitInDoubt    = "in_doubt"
)

// MultiShardCommit counts one COMMIT of a transaction over several shards.
func (m *Metrics) MultiShardCommit(database, outcome string) {
	m.multiCommits.WithLabelValues(database, outcome).Inc()
}

// PreparedResolved counts one prepared part the resolver committed
// (commit true) or rolled back.
func (m *Metrics) PreparedResolved(database string, commit bool) {
	action := "rollback"
	if commit {
		action = "commit"
	}
	m.resolved.WithLabelValues(database, action).Inc()
}

// Names lists every metric family the proxy exports, sorted; histograms by
// their base name (without _bucket, _sum, _count).
func (m *Metrics) Names() []string {
	return append([]string(nil), m.names...)
}

// defs builds metrics and remembers their names, so Names needs no
// second list to keep in step.
type defs struct{ names []string }

func (d *defs) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	d.names = append(d.names, name)
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

func (d *defs) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	d.names = append(d.names, name)
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
}

func (d *defs) gauge(name, help string) prometheus.Gauge {
	d.names = append(d.names, name)
	return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
}

func (d *defs) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	d.names = append(d.names, name)
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
}
