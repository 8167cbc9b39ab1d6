package metrics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"gopkg.in/yaml.v3"
)

const (
	dashboardFile = "../../deploy/grafana-dashboard.json"
	alertsFile    = "../../deploy/alerts.yaml"
)

// metricRef matches a shardgate metric name not preceded by a name
// character (so "xshardgate_a" is not one).
var metricRef = regexp.MustCompile(`(?:^|[^A-Za-z0-9_:])(shardgate_[A-Za-z0-9_:]+)`)

// quoted matches PromQL string literals, whose content is label values,
// not metric names.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")

// metricNames lists the shardgate metric names an expression uses.
func metricNames(expr string) []string {
	expr = quoted.ReplaceAllString(expr, `""`)
	var out []string
	for _, m := range metricRef.FindAllStringSubmatch(expr, -1) {
		out = append(out, m[1])
	}
	return out
}

// exportedMetrics is what Names lists plus which of those are histograms.
type exportedMetrics struct {
	names, histograms map[string]bool
}

// unknown lists the names expr uses that the proxy does not export; a
// histogram's series may be named with _bucket, _sum or _count.
func (e exportedMetrics) unknown(expr string) []string {
	var bad []string
	for _, n := range metricNames(expr) {
		if e.names[n] {
			continue
		}
		ok := false
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, cut := strings.CutSuffix(n, suffix); cut && e.histograms[base] {
				ok = true
			}
		}
		if !ok {
			bad = append(bad, n)
		}
	}
	return bad
}

func exported(t *testing.T) exportedMetrics {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := New(reg)
	recordAll(m)
	e := exportedMetrics{names: map[string]bool{}, histograms: map[string]bool{}}
	for _, n := range m.Names() {
		e.names[n] = true
	}
	for _, f := range gather(t, reg) {
		if f.GetType() == dto.MetricType_HISTOGRAM {
			e.histograms[f.GetName()] = true
		}
	}
	if len(e.histograms) == 0 {
		t.Fatal("no histogram exported: the suffix rule would be untested")
	}
	return e
}

func TestMetricNameExtractor(t *testing.T) {
	e := exported(t)
	tests := []struct {
		expr      string
		names     []string
		wantUnkwn []string
	}{
		{`sum by (route) (rate(shardgate_queries_total[5m]))`, []string{"shardgate_queries_total"}, nil},
		{`rate(shardgate_querys_total[5m])`, []string{"shardgate_querys_total"}, []string{"shardgate_querys_total"}},
		{`histogram_quantile(0.9, rate(shardgate_query_duration_seconds_bucket[1m]))`, []string{"shardgate_query_duration_seconds_bucket"}, nil},
		{`shardgate_query_duration_seconds_sum / shardgate_query_duration_seconds_count`, []string{"shardgate_query_duration_seconds_sum", "shardgate_query_duration_seconds_count"}, nil},
		{`rate(shardgate_queries_total_bucket[1m])`, []string{"shardgate_queries_total_bucket"}, []string{"shardgate_queries_total_bucket"}},
		{`shardgate_query_duration_seconds_total`, []string{"shardgate_query_duration_seconds_total"}, []string{"shardgate_query_duration_seconds_total"}},
		{`shardgate_pool_in_use/shardgate_pool_maxx`, []string{"shardgate_pool_in_use", "shardgate_pool_maxx"}, []string{"shardgate_pool_maxx"}},
		{`up{job="shardgate_test"} + my_shardgate_x`, nil, nil},
		{`shardgate_backend_up{database='shardgate_db'} == 0`, []string{"shardgate_backend_up"}, nil},
	}
	for _, tt := range tests {
		if got := metricNames(tt.expr); !slices.Equal(got, tt.names) {
			t.Errorf("metricNames(%q) = %v, want %v", tt.expr, got, tt.names)
		}
		if got := e.unknown(tt.expr); !slices.Equal(got, tt.wantUnkwn) {
			t.Errorf("unknown(%q) = %v, want %v", tt.expr, got, tt.wantUnkwn)
		}
	}
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func TestAlertRules(t *testing.T) {
	e := exported(t)
	data, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true) // a misspelt key is an error, as in promtool
	if err := dec.Decode(&rf); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	if len(rf.Groups) == 0 {
		t.Fatalf("%s: no rule groups", alertsFile)
	}
	seen := map[string]bool{}
	for _, g := range rf.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: needs a name and rules", g.Name)
		}
		for _, r := range g.Rules {
			where := fmt.Sprintf("%s: alert %q", alertsFile, r.Alert)
			if !regexp.MustCompile(`^Shardgate[A-Z][A-Za-z]+$`).MatchString(r.Alert) || seen[r.Alert] {
				t.Errorf("%s: name must be ShardgateXxx and unique", where)
			}
			seen[r.Alert] = true
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for: %v", where, err)
				}
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", where, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs summary and description annotations", where)
			}
			checkExpr(t, e, where, r.Expr)
		}
	}
	for _, want := range []string{"ShardgateBackendDown", "ShardgateReplicaLagHigh", "ShardgateReplicaLagUnknown", "ShardgatePoolExhausted", "ShardgateReloadFailing", "ShardgateDown"} {
		if !seen[want] {
			t.Errorf("%s: alert %s missing", alertsFile, want)
		}
	}
}

func TestGrafanaDashboard(t *testing.T) {
	e := exported(t)
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Inputs        []struct{ Name, Type, PluginID string } `json:"__inputs"`
		SchemaVersion int                                     `json:"schemaVersion"`
		Title, UID    string
		Panels        []struct {
			ID         int
			Type       string
			Title      string
			Datasource struct{ Type, UID string }
			GridPos    struct{ H, W, X, Y int } `json:"gridPos"`
			Targets    []struct{ RefID, Expr string }
		}
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if dash.SchemaVersion < 36 || dash.Title == "" || dash.UID == "" {
		t.Errorf("schemaVersion %d, title %q, uid %q", dash.SchemaVersion, dash.Title, dash.UID)
	}
	if !slices.ContainsFunc(dash.Inputs, func(i struct{ Name, Type, PluginID string }) bool {
		return i.Name == "DS_PROMETHEUS" && i.Type == "datasource" && i.PluginID == "prometheus"
	}) {
		t.Error("no DS_PROMETHEUS datasource input")
	}
	ids := map[int]bool{}
	used := map[string]bool{}
	for _, p := range dash.Panels {
		where := fmt.Sprintf("%s: panel %d %q", dashboardFile, p.ID, p.Title)
		if p.ID == 0 || ids[p.ID] || p.Title == "" || p.GridPos.W == 0 || p.GridPos.H == 0 {
			t.Errorf("%s: needs a unique id, a title and a size", where)
		}
		ids[p.ID] = true
		if p.Datasource.UID != "${DS_PROMETHEUS}" {
			t.Errorf("%s: datasource %q, want ${DS_PROMETHEUS}", where, p.Datasource.UID)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no targets", where)
		}
		for _, tg := range p.Targets {
			checkExpr(t, e, where+" target "+tg.RefID, tg.Expr)
			for _, n := range metricNames(tg.Expr) {
				used[n] = true
			}
		}
	}
	for _, want := range []string{
		"shardgate_queries_total", "shardgate_errors_total", "shardgate_query_duration_seconds_bucket",
		"shardgate_pool_in_use", "shardgate_pool_max", "shardgate_pool_waiters", "shardgate_backend_up",
		"shardgate_replica_lag_seconds", "shardgate_topology_reloads_total", "shardgate_client_connections_open",
	} {
		if !used[want] {
			t.Errorf("%s: no panel shows %s", dashboardFile, want)
		}
	}
}

// checkExpr fails on an empty or unbalanced expression or one naming a
// metric the proxy does not export.
func checkExpr(t *testing.T, e exportedMetrics, where, expr string) {
	t.Helper()
	if strings.TrimSpace(expr) == "" {
		t.Errorf("%s: empty expression", where)
		return
	}
	if err := balanced(quoted.ReplaceAllString(expr, `""`)); err != nil {
		t.Errorf("%s: %v in %q", where, err, expr)
	}
	for _, n := range e.unknown(expr) {
		t.Errorf("%s: %s is not a metric shardgate exports", where, n)
	}
}

func balanced(s string) error {
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	var stack []rune
	for _, r := range s {
		switch r {
		case '(', '[', '{':
			stack = append(stack, r)
		case ')', ']', '}':
			if len(stack) == 0 || stack[len(stack)-1] != pairs[r] {
				return fmt.Errorf("unbalanced %q", r)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		return fmt.Errorf("unclosed %q", stack[len(stack)-1])
	}
	return nil
}
