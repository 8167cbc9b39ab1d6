package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// go test -bench . -benchmem ./proxy/metrics
func BenchmarkQuery(b *testing.B) {
	m := New(prometheus.NewRegistry())
	b.ReportAllocs()
	for b.Loop() {
		m.Query("postgres", "shop", RouteSingle, OutcomeOK, 300*time.Microsecond)
	}
}

func BenchmarkQueryParallel(b *testing.B) {
	m := New(prometheus.NewRegistry())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Query("postgres", "shop", RouteSingle, OutcomeOK, 300*time.Microsecond)
		}
	})
}

func BenchmarkBackendQuery(b *testing.B) {
	m := New(prometheus.NewRegistry())
	b.ReportAllocs()
	for b.Loop() {
		m.BackendQuery("postgres", "shop", "80-c0", "replica")
	}
}

// The same work through WithLabelValues, for comparison.
func BenchmarkQueryWithLabelValues(b *testing.B) {
	m := New(prometheus.NewRegistry())
	b.ReportAllocs()
	for b.Loop() {
		m.queries.WithLabelValues("shop", RouteSingle, OutcomeOK).Inc()
		m.queryDuration.WithLabelValues("shop", RouteSingle).Observe(0.0003)
	}
}
