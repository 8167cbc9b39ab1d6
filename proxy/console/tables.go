package console

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/shardgate/shardgate/proxy/admin"
	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/topology"
)

func databases(v admin.View) *Result {
	r := &Result{Columns: []string{"database", "protocol", "shards", "transactions", "read_policy", "unsharded_shard", "max_per_backend"}}
	for _, d := range v.Databases {
		r.Rows = append(r.Rows, []string{d.Name, d.Protocol, strconv.Itoa(len(d.Shards)), d.Transactions, d.ReadPolicy,
			d.UnshardedShard, strconv.Itoa(d.MaxPerBackend)})
	}
	return r
}

// server is one server of a shard as the tables list it.
type server struct {
	db       admin.DatabaseView
	keyRange string
	role     string
	weight   string
	node     admin.NodeView
}

func servers(v admin.View) []server {
	var out []server
	for _, d := range v.Databases {
		for _, s := range d.Shards {
			out = append(out, server{d, s.KeyRange, "primary", "", s.Primary})
			for _, rep := range s.Replicas {
				out = append(out, server{d, s.KeyRange, "replica", strconv.Itoa(rep.Weight), rep.NodeView})
			}
		}
	}
	return out
}

func shards(v admin.View) *Result {
	r := &Result{Columns: []string{"database", "protocol", "keyrange", "role", "address", "weight", "health",
		"lag_seconds", "position", "in_flight", "last_probe", "last_error"}}
	for _, s := range servers(v) {
		health, lag, pos, inFlight, probe, lastErr := "unknown", "", "", "", "", ""
		if h := s.node.Health; h != nil {
			health = "down"
			if h.Up {
				health = "up"
			}
			if h.LagKnown {
				lag = strconv.FormatFloat(h.LagSeconds, 'f', 3, 64)
			}
			pos, inFlight, probe, lastErr = h.Position, strconv.Itoa(h.InFlight), stamp(h.LastProbe), h.LastError
		}
		r.Rows = append(r.Rows, []string{s.db.Name, s.db.Protocol, s.keyRange, s.role, s.node.Address, s.weight,
			health, lag, pos, inFlight, probe, lastErr})
	}
	return r
}

func pools(v admin.View) *Result {
	r := &Result{Columns: []string{"database", "protocol", "keyrange", "role", "address", "open", "in_use", "idle", "waiting", "max"}}
	for _, s := range servers(v) {
		p := s.node.Pool
		if p == nil {
			// No connection was ever opened to it: an empty pool.
			p = &admin.PoolView{Max: s.db.MaxPerBackend}
		}
		r.Rows = append(r.Rows, []string{s.db.Name, s.db.Protocol, s.keyRange, s.role, s.node.Address,
			strconv.Itoa(p.Open), strconv.Itoa(p.InUse), strconv.Itoa(p.Open - p.InUse), strconv.Itoa(p.Waiters), strconv.Itoa(p.Max)})
	}
	return r
}

func clients(cs []Client) *Result {
	r := &Result{Columns: []string{"protocol", "user", "database", "address", "connected_at", "state"}}
	for _, c := range cs {
		state := "idle"
		if c.Active {
			state = "active"
		}
		r.Rows = append(r.Rows, []string{c.Protocol, c.User, c.Database, c.Remote, stamp(c.Since), state})
	}
	return r
}

func stats(ts []metrics.QueryTotal) *Result {
	r := &Result{Columns: []string{"protocol", "database", "route", "queries", "errors", "total_seconds", "avg_ms"}}
	for _, t := range ts {
		n := t.OK + t.Errors
		avg := ""
		if n > 0 {
			avg = strconv.FormatFloat(t.Seconds*1000/float64(n), 'f', 3, 64)
		}
		r.Rows = append(r.Rows, []string{t.Protocol, t.Database, t.Route, strconv.FormatUint(n, 10), strconv.FormatUint(t.Errors, 10),
			strconv.FormatFloat(t.Seconds, 'f', 3, 64), avg})
	}
	return r
}

// locate answers where table's row with key value lives in db: one row
// per shard that holds it (every shard for a reference table).
func locate(db *topology.DB, table, value string) (*Result, error) {
	r := &Result{Columns: []string{"table", "placement", "keyspace_id", "shard", "primary", "replicas"}}
	add := func(placement, id string, sh *topology.Shard) {
		reps := make([]string, len(sh.Replicas))
		for i, rep := range sh.Replicas {
			reps[i] = rep.Address
		}
		r.Rows = append(r.Rows, []string{table, placement, id, sh.Name, sh.Primary, strings.Join(reps, ",")})
	}
	t, ok := db.Table(table)
	if !ok {
		t, ok = db.Table(strings.ToLower(table)) // an unquoted name, as the servers fold it
	}
	switch {
	case !ok:
		add("unsharded", "", db.Unsharded)
	case t.Kind == topology.Reference:
		for _, sh := range db.Shards {
			add("reference", "", sh)
		}
	default:
		id, err := t.KeyType.TextKeyspaceID(value)
		if err != nil {
			return nil, fmt.Errorf("%w: %s.%s (key type %s): %v", ErrInvalid, table, t.Key, t.KeyType, err)
		}
		add("sharded by "+t.Key, fmt.Sprintf("%016x", id), db.ShardFor(id))
	}
	return r, nil
}
