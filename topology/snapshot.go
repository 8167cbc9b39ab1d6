package topology

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"sort"
	"time"
)

// Protocol is the wire protocol of a logical database.
type Protocol string

const (
	Postgres Protocol = "postgres"
	MySQL    Protocol = "mysql"
)

// ReadPolicy decides which replica of a shard serves a read.
type ReadPolicy string

const (
	RoundRobin       ReadPolicy = "round_robin"
	LeastConnections ReadPolicy = "least_connections"
	Random           ReadPolicy = "random"
	PrimaryOnly      ReadPolicy = "primary_only"
	ClientHash       ReadPolicy = "client_hash"
)

var readPolicies = []ReadPolicy{RoundRobin, LeastConnections, Random, PrimaryOnly, ClientHash}

// ReplicaFallback says what a read does when its shard has no usable
// replica.
type ReplicaFallback string

const (
	FallbackPrimary ReplicaFallback = "primary" // read from the primary
	FallbackError   ReplicaFallback = "error"   // refuse the read
)

// TLS modes toward the servers (Backend.TLS).
const (
	BackendTLSDisable    = "disable"
	BackendTLSRequire    = "require"
	BackendTLSVerifyFull = "verify-full"
)

// TLSConfig is the TLS client configuration for one server of the
// database, nil when TLS is off.
func (b Backend) TLSConfig(addr string) (*tls.Config, error) {
	switch b.TLS {
	case "", BackendTLSDisable:
		return nil, nil
	case BackendTLSRequire:
		return &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	conf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if b.CAPEM != "" {
		conf.RootCAs = x509.NewCertPool()
		conf.RootCAs.AppendCertsFromPEM([]byte(b.CAPEM))
	}
	return conf, nil
}

// TxMode says what a transaction that touches several shards does.
type TxMode string

const (
	// SingleShard: a transaction stays on the first shard it touches;
	// a statement needing another shard is refused.
	SingleShard TxMode = "single_shard"
	// MultiShard: a transaction may touch several shards; COMMIT commits
	// them one after the other, so a failure between two commits leaves
	// the earlier shards committed (reported to the client as such).
	MultiShard TxMode = "multi_shard"
	// TwoPhase: like MultiShard, but COMMIT first prepares every shard
	// (PREPARE TRANSACTION / XA PREPARE) and commits only when all
	// prepared; a proxy that dies mid-commit leaves prepared transactions
	// that the resolver finishes the same way.
	TwoPhase TxMode = "two_phase"
)

var txModes = []TxMode{SingleShard, MultiShard, TwoPhase}

// Defaults applied to fields the file leaves out.
const (
	DefaultReadPolicy    = RoundRobin
	DefaultMaxPerBackend = 20
	DefaultIdleTimeout   = 60 * time.Second
	// DefaultPoolWaitTimeout is PgBouncer's query_wait_timeout.
	DefaultPoolWaitTimeout = 2 * time.Minute
	// DefaultPoolMaxLifetime is PgBouncer's server_lifetime.
	DefaultPoolMaxLifetime = time.Hour
	// DefaultCrossShardLockTimeout ends a deadlock between two
	// transactions that span shards (no server sees it) in seconds,
	// rather than never (PostgreSQL) or after 50 s (MariaDB).
	DefaultCrossShardLockTimeout = 10 * time.Second
	DefaultReplicaWeight         = 1

	DefaultReplicaFallback = FallbackPrimary
	DefaultTxMode          = SingleShard
	DefaultHealthInterval  = time.Second
	DefaultHealthTimeout   = time.Second
	DefaultHealthFailures  = 3
	DefaultHealthRecover   = 2
)

// HealthSettings drive the backend health checks (see topology/health).
type HealthSettings struct {
	Interval time.Duration // between probe rounds
	Timeout  time.Duration // bounds one probe of one server
	Failures int           // consecutive failed probes before a server is banned
	Recover  int           // consecutive good probes before a banned server serves again
}

// Snapshot is one validated topology, immutable once built: readers share
// it without locks, and a reload replaces it whole.
type Snapshot struct {
	Listen Listen
	Admin  string
	Source Source
	// TLS is the server certificate for clients that ask for TLS; nil
	// when the file configures none (clients are then told "no TLS").
	TLS       *tls.Certificate
	Health    HealthSettings
	users     map[string]User
	databases []*DB
	byName    map[dbKey]*DB
}

type dbKey struct {
	protocol Protocol
	name     string
}

// Source says which file a snapshot came from and when.
type Source struct {
	Path     string
	SHA256   string // hex of the file's bytes
	LoadedAt time.Time
}

// DB is one logical database with its shards ordered by key range.
type DB struct {
	Name          string
	Protocol      Protocol
	Backend       Backend // passwords resolved from password_env
	Shards        []*Shard
	Unsharded     *Shard // where tables that are not listed live
	ReadPolicy    ReadPolicy
	MaxReplicaLag time.Duration // 0: no limit
	// ReplicaFallback: what a read does when no replica of its shard is
	// usable (banned, lagging, drained or none listed).
	ReplicaFallback ReplicaFallback
	// ReadYourWrites: after a session writes to a shard, its reads of that
	// shard go to the primary for this long; 0: off.
	ReadYourWrites time.Duration
	// Transactions: whether and how a transaction may span shards.
	Transactions TxMode
	// PrepareSimple: simple-protocol statements run as prepared statements
	// on the servers, each shape parsed and planned once per connection.
	PrepareSimple bool
	// CrossShardLockTimeout: how long a statement of a transaction that
	// spans shards waits for a lock (lock_timeout on PostgreSQL,
	// innodb_lock_wait_timeout on MySQL); 0: the servers' own setting.
	CrossShardLockTimeout time.Duration
	// IdleTransactionTimeout: a client idle this long inside a transaction
	// that holds server connections is disconnected; 0: never.
	IdleTransactionTimeout time.Duration
	MaxPerBackend          int
	// PoolWaitTimeout: how long a statement waits for a connection of a
	// full pool before it fails; 0: no limit.
	PoolWaitTimeout time.Duration
	IdleTimeout     time.Duration
	// PoolMaxLifetime: server connections older than this are closed
	// when released; 0: never.
	PoolMaxLifetime time.Duration
	tables          map[string]*Table
	shardsByName    map[string]*Shard
}

// Shard is the set of servers that own one key range.
type Shard struct {
	Range    KeyRange
	Name     string // canonical key range, e.g. "80-c0"
	Primary  string
	Replicas []Replica
}

// Replica is one read replica and its share of reads.
type Replica struct {
	Address string
	Weight  int // 0: drained
}

// TableKind says how a table's rows are placed.
type TableKind uint8

const (
	Sharded   TableKind = iota + 1 // each row on the shard its key hashes to
	Reference                      // a full copy on every shard
)

// Table is the placement rule of one listed table.
type Table struct {
	Name    string
	Kind    TableKind
	Key     string  // sharding key column (Sharded only)
	KeyType KeyType // (Sharded only)
}

// Database finds a logical database by protocol and name.
func (s *Snapshot) Database(p Protocol, name string) (*DB, bool) {
	d, ok := s.byName[dbKey{p, name}]
	return d, ok
}

// Databases lists every logical database in file order.
func (s *Snapshot) Databases() []*DB { return s.databases }

// User finds a proxy account by name.
func (s *Snapshot) User(name string) (User, bool) {
	u, ok := s.users[name]
	return u, ok
}

// Table finds a listed table by exact name.
func (d *DB) Table(name string) (*Table, bool) {
	t, ok := d.tables[name]
	return t, ok
}

// ShardFor returns the shard whose key range holds the keyspace id. Ranges
// cover the whole space (validation guarantees it), so there always is one.
func (d *DB) ShardFor(id uint64) *Shard { return d.Shards[d.ShardIndex(id)] }

// ShardIndex is the index in Shards of the shard that owns the keyspace id.
func (d *DB) ShardIndex(id uint64) int {
	return sort.Search(len(d.Shards), func(i int) bool {
		r := d.Shards[i].Range
		return r.End == 0 || id < r.End
	})
}

// ShardNamed finds a shard by key range, written in any equivalent form
// ("80-", "8000-").
func (d *DB) ShardNamed(name string) (*Shard, bool) {
	c, err := CanonicalKeyRange(name)
	if err != nil {
		return nil, false
	}
	s, ok := d.shardsByName[c]
	return s, ok
}

// Addresses lists the shard's servers, primary first.
func (s *Shard) Addresses() []string {
	out := make([]string, 0, 1+len(s.Replicas))
	out = append(out, s.Primary)
	for _, r := range s.Replicas {
		out = append(out, r.Address)
	}
	return out
}
