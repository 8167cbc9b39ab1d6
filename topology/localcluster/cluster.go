// Package localcluster starts real, throw-away PostgreSQL and MariaDB shard
// clusters (one primary plus streaming replicas per shard) in a temporary
// directory on free loopback ports. `shardgate dev` and every integration test
// of the project use it.
//
// Servers run as direct child processes (each in its own process group) so
// Close can always stop them; nothing is left behind once Close returns.
package localcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Kind is the database engine of a cluster. The values match the topology
// file's `protocol:` field.
type Kind string

const (
	KindPostgres Kind = "postgres"
	KindMySQL    Kind = "mysql" // served by MariaDB
)

// Node roles.
const (
	RolePrimary = "primary"
	RoleReplica = "replica"
)

// NoReplicas is the Options.ReplicasPerShard value for primaries only (0
// means the default of one replica).
const NoReplicas = -1

// PGAuth methods for Options.PGAuth.
const (
	PGAuthTrust = "trust"
	PGAuthMD5   = "md5"
	PGAuthSCRAM = "scram-sha-256"
)

// ErrClosed is returned by Node.Start once the cluster has been closed.
var ErrClosed = errors.New("localcluster: cluster is closed")

// defaultReadyTimeout bounds each wait for a server when the caller's
// context has no deadline.
const defaultReadyTimeout = 90 * time.Second

// stopGrace is how long Close waits for a graceful shutdown before SIGKILL.
const stopGrace = 10 * time.Second

// Options describes the cluster to start. The zero value is usable.
type Options struct {
	Shards           int    // default 2
	ReplicasPerShard int    // default 1; NoReplicas for none
	Database         string // created on every primary (and so on its replicas); default "shardgate"
	// User and Password: an account usable over TCP from 127.0.0.1 on every
	// node. Defaults: postgres "postgres"/"postgres-secret" (a superuser);
	// mysql "shardgate"/"shardgate-secret" (every privilege except SUPER and
	// READ_ONLY ADMIN, so read-only replicas refuse its writes).
	User, Password string
	// PGAuth is the pg_hba method for User over TCP: "trust" (default),
	// "md5" or "scram-sha-256". Ignored for MariaDB.
	PGAuth string
	// TLS makes PostgreSQL servers accept TLS, with a certificate for
	// 127.0.0.1 from a CA generated for the cluster (see CAFile).
	TLS bool
	// Dir is the parent of the cluster's directory (default: os.TempDir()).
	// The cluster always works in a fresh sub-directory that Close removes.
	Dir string
	// BinDir, when set, is the only directory searched for server binaries.
	BinDir string
	// KeepDir makes Close leave the data directories and logs on disk.
	KeepDir bool
	Logger  *slog.Logger // nil: discard
}

func (o Options) resolve(kind Kind) (Options, error) {
	switch {
	case o.Shards == 0:
		o.Shards = 2
	case o.Shards < 0:
		return o, fmt.Errorf("localcluster: Shards must be positive, got %d", o.Shards)
	}
	switch {
	case o.ReplicasPerShard == 0:
		o.ReplicasPerShard = 1
	case o.ReplicasPerShard == NoReplicas:
		o.ReplicasPerShard = 0
	case o.ReplicasPerShard < 0:
		return o, fmt.Errorf("localcluster: ReplicasPerShard must be >= 0 or NoReplicas, got %d", o.ReplicasPerShard)
	}
	if o.Database == "" {
		o.Database = "shardgate"
	}
	switch kind {
	case KindPostgres:
		if o.User == "" {
			o.User = "postgres"
		}
		if o.Password == "" {
			o.Password = "postgres-secret"
		}
		switch o.PGAuth {
		case "":
			o.PGAuth = PGAuthTrust
		case PGAuthTrust, PGAuthMD5, PGAuthSCRAM:
		default:
			return o, fmt.Errorf("localcluster: PGAuth %q: want trust, md5 or scram-sha-256", o.PGAuth)
		}
	case KindMySQL:
		if o.User == "" {
			o.User = "shardgate"
		}
		if o.Password == "" {
			o.Password = "shardgate-secret"
		}
		if o.User == "root" || o.User == mysqlReplUser {
			return o, fmt.Errorf("localcluster: User %q is reserved on MariaDB", o.User)
		}
	default:
		return o, fmt.Errorf("localcluster: unknown kind %q", kind)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Node is one server process.
type Node struct {
	Kind    Kind
	Shard   int    // index in Cluster.Shards
	Index   int    // 0 for the primary, i+1 for Shard.Replicas[i]
	Role    string // RolePrimary or RoleReplica
	Addr    string // 127.0.0.1:Port
	Port    int
	Dir     string // the node's own directory: data, socket, log
	DataDir string
	Socket  string // postgres: the unix socket directory; mysql: the socket file
	LogFile string // server log

	c    *Cluster
	mu   sync.Mutex
	proc *process
}

// SocketPath is the Unix socket a process on this host reaches n by, as
// a topology server address: for PostgreSQL the socket file in its socket
// directory, for MariaDB the socket itself.
func (n *Node) SocketPath() string {
	if n.Kind == KindPostgres {
		return filepath.Join(n.Socket, fmt.Sprintf(".s.PGSQL.%d", n.Port))
	}
	return n.Socket
}

func (n *Node) String() string {
	return fmt.Sprintf("%s shard %d %s (%s)", n.Kind, n.Shard, n.name(), n.Addr)
}

func (n *Node) name() string {
	if n.Role == RolePrimary {
		return "primary"
	}
	return fmt.Sprintf("replica %d", n.Index)
}

// Shard is one primary and its replicas.
type Shard struct {
	Primary  *Node
	Replicas []*Node
}

// Cluster is a set of running shards. Close it.
type Cluster struct {
	Kind    Kind
	Options Options // resolved: defaults filled in
	Shards  []Shard
	Dir     string // the cluster's own directory, removed by Close

	lock  *os.File // flock()ed while the cluster lives (see sweepStale)
	log   *slog.Logger
	cred  *syscall.Credential // servers run as this user (nil: as ourselves)
	pg    pgBinaries
	maria mariaBinaries

	mu     sync.Mutex
	closed bool
	ports  map[int]bool // handed out to this cluster's nodes

	closeOnce    sync.Once
	closeErr     error
	beforeRemove func() // Close calls it once the servers are down
}

func newCluster(kind Kind, o Options, cred *syscall.Credential) (*Cluster, error) {
	parent := o.Dir
	if parent == "" {
		parent = os.TempDir()
	}
	prefix := "sg-pg-"
	if kind == KindMySQL {
		prefix = "sg-my-"
	}
	dir, lock, err := makeClusterDir(parent, prefix)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Kind: kind, Options: o, Dir: dir, lock: lock, log: o.Logger, cred: cred, ports: map[int]bool{}}
	for s := range o.Shards {
		sh := Shard{Primary: c.newNode(s, 0)}
		for r := range o.ReplicasPerShard {
			sh.Replicas = append(sh.Replicas, c.newNode(s, r+1))
		}
		c.Shards = append(c.Shards, sh)
	}
	if cred != nil {
		if err := makeReachable(dir, int(cred.Uid)); err != nil {
			_ = os.RemoveAll(dir)
			lock.Close()
			return nil, err
		}
	}
	return c, nil
}

func (c *Cluster) newNode(shard, index int) *Node {
	n := &Node{Kind: c.Kind, Shard: shard, Index: index, Role: RoleReplica, c: c}
	short := fmt.Sprintf("s%dr%d", shard, index)
	if index == 0 {
		n.Role = RolePrimary
		short = fmt.Sprintf("s%dp", shard)
	}
	n.Dir = filepath.Join(c.Dir, short)
	n.DataDir = filepath.Join(n.Dir, "data")
	switch c.Kind {
	case KindPostgres:
		n.Socket = n.Dir
		n.LogFile = filepath.Join(n.Dir, "postgres.log")
	case KindMySQL:
		n.Socket = filepath.Join(n.Dir, "mysqld.sock")
		n.LogFile = filepath.Join(n.Dir, "mariadbd.log")
	}
	return n
}

// mkdir creates the node's directory, owned by the server's OS user.
func (n *Node) mkdir() error {
	if len(n.Dir)+len("/.s.PGSQL.65535") > 100 {
		return fmt.Errorf("localcluster: %s: unix socket path under %s would be too long; use a shorter Options.Dir", n, n.Dir)
	}
	if err := os.Mkdir(n.Dir, 0o700); err != nil {
		return fmt.Errorf("localcluster: %w", err)
	}
	if cred := n.c.cred; cred != nil {
		if err := os.Chown(n.Dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("localcluster: %w", err)
		}
	}
	return nil
}

// Nodes lists every node, shard by shard, primary first.
func (c *Cluster) Nodes() []*Node {
	var out []*Node
	for _, s := range c.Shards {
		out = append(out, s.Primary)
		out = append(out, s.Replicas...)
	}
	return out
}

// DSN is a client DSN for Options.User to Options.Database on n over TCP: a
// postgres:// URL (pgx, libpq) or a go-sql-driver/mysql DSN.
func (c *Cluster) DSN(n *Node) string {
	if c.Kind == KindPostgres {
		return pgURL(c.Options.User, c.Options.Password, n.Addr, c.Options.Database)
	}
	return mysqlDSN(c.Options.User, c.Options.Password, "tcp", n.Addr, c.Options.Database)
}

// AdminDSN is a superuser DSN over n's unix socket (postgres: user postgres,
// database postgres; mysql: root, no database), for what Options.User may
// not do, such as pausing replication.
func (c *Cluster) AdminDSN(n *Node) string {
	if c.Kind == KindPostgres {
		return pgAdminDSN(n)
	}
	return mysqlDSN("root", "", "unix", n.Socket, "")
}

// WaitReplicated waits until every running replica has replayed what its
// running primary had written when the call started. Stopped nodes are
// skipped.
func (c *Cluster) WaitReplicated(ctx context.Context) error {
	return parallel(ctx, c.Shards, func(ctx context.Context, s Shard) error {
		return c.waitShardReplicated(ctx, s)
	})
}

func (c *Cluster) waitShardReplicated(ctx context.Context, s Shard) error {
	if !s.Primary.Running() {
		return nil
	}
	if c.Kind == KindPostgres {
		return c.pgWaitReplicated(ctx, s)
	}
	return c.mariaWaitReplicated(ctx, s)
}

// Close stops every server (gracefully, SIGKILL after a short grace) and
// removes the cluster directory unless Options.KeepDir. It is idempotent and
// safe to call on a partially started cluster.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), stopGrace)
		defer cancel()
		err := parallel(ctx, c.Nodes(), func(ctx context.Context, n *Node) error {
			return n.Stop(ctx)
		})
		if c.beforeRemove != nil {
			c.beforeRemove()
		}
		if !c.Options.KeepDir {
			if rerr := os.RemoveAll(c.Dir); rerr != nil {
				err = errors.Join(err, fmt.Errorf("localcluster: %w", rerr))
			}
		} else {
			// A kept directory must not look stale to the next sweep.
			_ = os.Remove(filepath.Join(c.Dir, lockName))
		}
		c.lock.Close()
		c.closeErr = err
	})
	return c.closeErr
}

func (c *Cluster) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// start runs startShard on every shard concurrently and closes the cluster
// if any fails.
func (c *Cluster) start(ctx context.Context, startShard func(context.Context, Shard) error) (*Cluster, error) {
	begin := time.Now()
	var err error
	if c.Options.TLS {
		err = c.writeTLS()
	}
	if err == nil {
		err = parallel(ctx, c.Shards, startShard)
	}
	if err != nil {
		if cerr := c.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return nil, err
	}
	c.log.Info("local cluster started", "kind", c.Kind, "shards", len(c.Shards),
		"replicas_per_shard", c.Options.ReplicasPerShard, "dir", c.Dir, "took", time.Since(begin).Round(time.Millisecond))
	return c, nil
}
