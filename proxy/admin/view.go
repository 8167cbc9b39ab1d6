package admin

import (
	"time"

	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/topology"
)

// ServerView is what the health checks know of one backend server. It is
// defined here, where it is consumed, so admin does not depend on the
// health package; the caller adapts.
type ServerView struct {
	Database, Shard string
	Address         string
	Up              bool
	LagSeconds      float64
	LagKnown        bool
	Position        string // replication position (LSN, GTID set), if known
	LastError       string
	LastProbe       time.Time
	InFlight        int // statements running on the server through this proxy
}

// View is the /topology body: the snapshot in force, with each server's
// health and pool use. It never carries passwords.
type View struct {
	Source    SourceView     `json:"source"`
	Listen    ListenView     `json:"listen"`
	Admin     string         `json:"admin,omitempty"`
	Databases []DatabaseView `json:"databases"`
}

// SourceView says which file the snapshot came from and when.
type SourceView struct {
	Path     string    `json:"path"`
	SHA256   string    `json:"sha256"`
	LoadedAt time.Time `json:"loaded_at"`
}

// ListenView is the client-facing addresses; empty ones are not served.
type ListenView struct {
	Postgres       string `json:"postgres,omitempty"`
	MySQL          string `json:"mysql,omitempty"`
	PostgresSocket string `json:"postgres_socket,omitempty"`
	MySQLSocket    string `json:"mysql_socket,omitempty"`
}

// DatabaseView is one logical database.
type DatabaseView struct {
	Name          string `json:"name"`
	Protocol      string `json:"protocol"`
	BackendUser   string `json:"backend_user"`
	BackendDB     string `json:"backend_database,omitempty"`
	ReadPolicy    string `json:"read_policy"`
	Transactions  string `json:"transactions"`
	PrepareSimple bool   `json:"prepare_simple"`
	// CrossShardLockTimeout: "0s": the servers' own lock timeouts.
	CrossShardLockTimeout string `json:"cross_shard_lock_timeout"`
	// IdleTransactionTimeout: "0s": never.
	IdleTransactionTimeout string      `json:"idle_transaction_timeout"`
	MaxReplicaLag          string      `json:"max_replica_lag"` // "0s": no limit
	MaxPerBackend          int         `json:"max_per_backend"`
	IdleTimeout            string      `json:"idle_timeout"`
	PoolWaitTimeout        string      `json:"pool_wait_timeout"` // "0s": no limit
	PoolMaxLifetime        string      `json:"pool_max_lifetime"` // "0s": never
	UnshardedShard         string      `json:"unsharded_shard,omitempty"`
	Shards                 []ShardView `json:"shards"`
}

// ShardView is one shard and its servers.
type ShardView struct {
	KeyRange string        `json:"keyrange"`
	Primary  NodeView      `json:"primary"`
	Replicas []ReplicaView `json:"replicas"`
}

// NodeView is one server: its address, what the health checks say and
// how its pool is used (each absent when nobody reported on the server).
type NodeView struct {
	Address string      `json:"address"`
	Health  *HealthView `json:"health,omitempty"`
	Pool    *PoolView   `json:"pool,omitempty"`
}

// ReplicaView is a replica: a node with its share of reads.
type ReplicaView struct {
	NodeView
	Weight int `json:"weight"` // 0: drained
}

// HealthView is a server's last known health.
type HealthView struct {
	Up         bool      `json:"up"`
	LagSeconds float64   `json:"lag_seconds"`
	LagKnown   bool      `json:"lag_known"`
	Position   string    `json:"position,omitempty"`
	LastError  string    `json:"last_error,omitempty"`
	LastProbe  time.Time `json:"last_probe,omitzero"`
	InFlight   int       `json:"in_flight"`
}

// PoolView is a server's connection pool use.
type PoolView struct {
	Open    int `json:"open"`
	InUse   int `json:"in_use"`
	Waiters int `json:"waiters"`
	Max     int `json:"max"`
}

type serverKey struct{ database, address string }

// BuildView describes snap with the health that servers reports and the
// pool use that every pools source reports (the PostgreSQL and MySQL
// proxies each have one). servers may be nil. Servers and pools are
// matched by database name and address; reports about servers the
// snapshot does not list (a reload just removed them) are left out.
func BuildView(snap *topology.Snapshot, servers func() []ServerView, pools ...func() []metrics.PoolStat) View {
	health := map[serverKey]*HealthView{}
	if servers != nil {
		for _, s := range servers() {
			health[serverKey{s.Database, s.Address}] = &HealthView{
				Up: s.Up, LagSeconds: s.LagSeconds, LagKnown: s.LagKnown, Position: s.Position,
				LastError: s.LastError, LastProbe: s.LastProbe, InFlight: s.InFlight,
			}
		}
	}
	use := map[serverKey]*PoolView{}
	for _, f := range pools {
		if f == nil {
			continue
		}
		for _, p := range f() {
			k := serverKey{p.Database, p.Backend}
			if _, dup := use[k]; !dup {
				use[k] = &PoolView{Open: p.Open, InUse: p.InUse, Waiters: p.Waiters, Max: p.Max}
			}
		}
	}
	node := func(db, addr string) NodeView {
		k := serverKey{db, addr}
		return NodeView{Address: addr, Health: health[k], Pool: use[k]}
	}

	v := View{
		Source: SourceView{Path: snap.Source.Path, SHA256: snap.Source.SHA256, LoadedAt: snap.Source.LoadedAt},
		Listen: ListenView{Postgres: snap.Listen.Postgres, MySQL: snap.Listen.MySQL,
			PostgresSocket: snap.Listen.PostgresSocket, MySQLSocket: snap.Listen.MySQLSocket},
		Admin:     snap.Admin,
		Databases: make([]DatabaseView, 0, len(snap.Databases())),
	}
	for _, d := range snap.Databases() {
		dv := DatabaseView{
			Name:                   d.Name,
			Protocol:               string(d.Protocol),
			BackendUser:            d.Backend.User,
			BackendDB:              d.Backend.Database,
			ReadPolicy:             string(d.ReadPolicy),
			Transactions:           string(d.Transactions),
			PrepareSimple:          d.PrepareSimple,
			CrossShardLockTimeout:  d.CrossShardLockTimeout.String(),
			IdleTransactionTimeout: d.IdleTransactionTimeout.String(),
			MaxReplicaLag:          d.MaxReplicaLag.String(),
			MaxPerBackend:          d.MaxPerBackend,
			IdleTimeout:            d.IdleTimeout.String(),
			PoolWaitTimeout:        d.PoolWaitTimeout.String(),
			PoolMaxLifetime:        d.PoolMaxLifetime.String(),
			Shards:                 make([]ShardView, 0, len(d.Shards)),
		}
		if d.Unsharded != nil {
			dv.UnshardedShard = d.Unsharded.Name
		}
		for _, s := range d.Shards {
			sv := ShardView{KeyRange: s.Name, Primary: node(d.Name, s.Primary), Replicas: make([]ReplicaView, 0, len(s.Replicas))}
			for _, r := range s.Replicas {
				sv.Replicas = append(sv.Replicas, ReplicaView{NodeView: node(d.Name, r.Address), Weight: r.Weight})
			}
			dv.Shards = append(dv.Shards, sv)
		}
		v.Databases = append(v.Databases, dv)
	}
	return v
}
