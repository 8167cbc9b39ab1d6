package metrics

import (
	"cmp"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// QueryTotal is what shardgate_queries_total and
// shardgate_query_duration_seconds say of one protocol, database and
// route since start: for SHOW SHARDGATE STATS, PgBouncer's SHOW STATS.
type QueryTotal struct {
	Protocol, Database, Route string
	OK, Errors                uint64
	Seconds                   float64 // time spent on them all
}

// QueryTotals reads the statement counters, sorted by protocol,
// database and route.
func (m *Metrics) QueryTotals() []QueryTotal {
	byKey := map[queryKey]*QueryTotal{}
	get := func(labels []*dto.LabelPair) *QueryTotal {
		var k queryKey
		for _, l := range labels {
			switch l.GetName() {
			case "protocol":
				k.protocol = l.GetValue()
			case "database":
				k.database = l.GetValue()
			case "route":
				k.route = l.GetValue()
			}
		}
		if t := byKey[k]; t != nil {
			return t
		}
		t := &QueryTotal{Protocol: k.protocol, Database: k.database, Route: k.route}
		byKey[k] = t
		return t
	}
	each(m.queries, func(d *dto.Metric) {
		t := get(d.GetLabel())
		n := uint64(d.GetCounter().GetValue())
		for _, l := range d.GetLabel() {
			if l.GetName() == "outcome" && l.GetValue() == OutcomeError {
				t.Errors += n
				return
			}
		}
		t.OK += n
	})
	each(m.queryDuration, func(d *dto.Metric) {
		get(d.GetLabel()).Seconds += d.GetHistogram().GetSampleSum()
	})
	out := make([]QueryTotal, 0, len(byKey))
	for _, t := range byKey {
		if t.OK+t.Errors > 0 {
			out = append(out, *t)
		}
	}
	slices.SortFunc(out, func(a, b QueryTotal) int {
		return cmp.Or(cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Database, b.Database), cmp.Compare(a.Route, b.Route))
	})
	return out
}

// each calls f with every series c collects.
func each(c prometheus.Collector, f func(*dto.Metric)) {
	ch := make(chan prometheus.Metric)
	go func() {
		c.Collect(ch)
		close(ch)
	}()
	for m := range ch {
		var d dto.Metric
		if m.Write(&d) == nil {
			f(&d)
		}
	}
}
