package topology

import (
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the topology file as written by the DBA. It is decoded strictly
// (unknown fields are errors) and validated as a whole before a Snapshot is
// built from it; nothing else in the process reads it.
type Config struct {
	Listen    Listen     `yaml:"listen"`
	Admin     string     `yaml:"admin,omitempty"`
	TLS       TLSConfig  `yaml:"tls,omitempty"`
	Users     []User     `yaml:"users"`
	Databases []Database `yaml:"databases"`
	Health    Health     `yaml:"health,omitempty"`
}

// Health tunes the backend health checks. Pointers tell "left out" (take
// the default) from an explicit value, which must then be usable: a zero
// interval or threshold is a mistake, not a request for the default.
type Health struct {
	Interval *Duration `yaml:"interval,omitempty"` // between probe rounds
	Timeout  *Duration `yaml:"timeout,omitempty"`  // bounds one probe
	Failures *int      `yaml:"failures,omitempty"` // consecutive failed probes that ban a server
	Recover  *int      `yaml:"recover,omitempty"`  // consecutive good probes that end a ban
}

// Listen names the client-facing addresses; an empty one is not served.
// Each protocol may also listen on a Unix socket, for clients on the
// proxy's host (PgBouncer's unix_socket_dir): the path of the socket file.
type Listen struct {
	Postgres       string `yaml:"postgres,omitempty"`
	MySQL          string `yaml:"mysql,omitempty"`
	PostgresSocket string `yaml:"postgres_socket,omitempty"`
	MySQLSocket    string `yaml:"mysql_socket,omitempty"`
}

// ServesPostgres reports whether PostgreSQL clients have somewhere to connect.
func (l Listen) ServesPostgres() bool { return l.Postgres != "" || l.PostgresSocket != "" }

// ServesMySQL reports whether MySQL clients have somewhere to connect.
func (l Listen) ServesMySQL() bool { return l.MySQL != "" || l.MySQLSocket != "" }

// TLSConfig is the certificate the proxy offers clients that ask for TLS
// (PostgreSQL SSLRequest, MySQL CLIENT_SSL). Both or neither.
type TLSConfig struct {
	Cert string `yaml:"cert,omitempty"` // PEM certificate chain file
	Key  string `yaml:"key,omitempty"`  // PEM private key file
}

// User is an account clients log in to the proxy with.
type User struct {
	Name        string `yaml:"name"`
	Password    string `yaml:"password,omitempty"`
	PasswordEnv string `yaml:"password_env,omitempty"`
	// Admin lets the user ask the proxy about itself (SHOW SHARDGATE ...:
	// servers, pools, clients) on its SQL connections.
	Admin bool `yaml:"admin,omitempty"`
}

// Database is one logical database: what clients see as a database name,
// spread over shards of one protocol.
type Database struct {
	Name           string               `yaml:"name"`
	Protocol       string               `yaml:"protocol"`
	Backend        Backend              `yaml:"backend"`
	Tables         map[string]TableRule `yaml:"tables,omitempty"`
	UnshardedShard string               `yaml:"unsharded_shard,omitempty"`
	ReadPolicy     string               `yaml:"read_policy,omitempty"`
	MaxReplicaLag  Duration             `yaml:"max_replica_lag,omitempty"`
	// ReplicaFallback: "primary" (default) or "error", when a shard has no
	// usable replica for a read.
	ReplicaFallback string `yaml:"replica_fallback,omitempty"`
	// ReadYourWrites: how long a session's reads of a shard it wrote to
	// go to the primary; 0 turns it off.
	ReadYourWrites Duration `yaml:"read_your_writes,omitempty"`
	// Transactions: "single_shard" (default), "multi_shard" or
	// "two_phase"; see TxMode.
	Transactions string `yaml:"transactions,omitempty"`
	// PrepareSimple (postgres; default true): run simple-protocol
	// SELECT/INSERT/UPDATE/DELETE as prepared statements on the servers,
	// literals bound as parameters; false sends the text as it came.
	PrepareSimple *bool `yaml:"prepare_simple,omitempty"`
	// CrossShardLockTimeout (default 10s; 0: the servers' own setting):
	// how long a statement of a transaction that spans shards waits for a
	// lock. A deadlock across shards is seen by no server; this ends it.
	CrossShardLockTimeout *Duration `yaml:"cross_shard_lock_timeout,omitempty"`
	// IdleTransactionTimeout (default 0: off): a client that keeps a
	// transaction open this long without sending anything is
	// disconnected and its transaction rolled back, freeing the server
	// connections it held.
	IdleTransactionTimeout Duration      `yaml:"idle_transaction_timeout,omitempty"`
	Pool                   Pool          `yaml:"pool,omitempty"`
	Shards                 []ShardConfig `yaml:"shards"`
}

// Backend holds the credentials and database name the proxy uses on every
// server of a logical database.
type Backend struct {
	User        string `yaml:"user"`
	Password    string `yaml:"password,omitempty"`
	PasswordEnv string `yaml:"password_env,omitempty"`
	Database    string `yaml:"database,omitempty"`
	// TLS to the servers (PostgreSQL): "disable" (default), "require"
	// (encrypted, the certificate not checked) or "verify-full" (the
	// certificate must chain to CA, or the system roots, and name the
	// server's host).
	TLS string `yaml:"tls,omitempty"`
	CA  string `yaml:"ca,omitempty"` // PEM file of the CA certificates for verify-full
	// CAPEM is CA's content, read at load time.
	CAPEM string `yaml:"-"`
}

// TableRule says how one table is placed: by a sharding key, or copied to
// every shard (reference).
type TableRule struct {
	Key       string `yaml:"key,omitempty"`
	Type      string `yaml:"type,omitempty"`
	Reference bool   `yaml:"reference,omitempty"`
}

// Pool sizes the backend connection pools of a database.
type Pool struct {
	MaxPerBackend int      `yaml:"max_per_backend,omitempty"`
	IdleTimeout   Duration `yaml:"idle_timeout,omitempty"`
	// WaitTimeout: how long a statement waits for a busy pool's
	// connection before it fails (default 2m; 0: no limit).
	WaitTimeout *Duration `yaml:"wait_timeout,omitempty"`
	// MaxLifetime: a server connection older than this is closed when it
	// goes back to its pool (default 1h, PgBouncer's server_lifetime; 0:
	// never).
	MaxLifetime *Duration `yaml:"max_lifetime,omitempty"`
}

// ShardConfig is one shard: the key range it owns and its servers.
type ShardConfig struct {
	KeyRange string          `yaml:"keyrange"`
	Primary  string          `yaml:"primary"`
	Replicas []ReplicaConfig `yaml:"replicas,omitempty"`
}

// ReplicaConfig is one read replica of a shard.
type ReplicaConfig struct {
	Address string `yaml:"address"`
	Weight  *int   `yaml:"weight,omitempty"` // unset: 1; 0: drained, no reads
}

// Duration is a time.Duration written as "2s", "500ms" or "1m30s".
type Duration time.Duration

// UnmarshalYAML reads Go duration syntax; a bare number is refused because
// its unit would be a guess.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errorf("want a duration such as 2s or 500ms")
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return errorf("%q is not a duration (want e.g. 2s, 500ms, 1m)", n.Value)
	}
	if v < 0 {
		return errorf("duration %q is negative", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration back in Go syntax.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// IsZero lets omitempty drop an unset duration.
func (d Duration) IsZero() bool { return d == 0 }
