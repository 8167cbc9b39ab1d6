package localcluster

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// StartPostgres starts Options.Shards PostgreSQL primaries, each with
// Options.ReplicasPerShard hot-standby streaming replicas, and creates
// Options.User and Options.Database. ctx bounds the start only: the servers
// run until Close. On error everything started is torn down.
func StartPostgres(ctx context.Context, o Options) (*Cluster, error) {
	o, err := o.resolve(KindPostgres)
	if err != nil {
		return nil, err
	}
	bins, err := findPostgres(o.BinDir)
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	c, err := newCluster(KindPostgres, o, cred)
	if err != nil {
		return nil, err
	}
	c.pg = bins
	return c.start(ctx, c.pgStartShard)
}

func (c *Cluster) pgStartShard(ctx context.Context, s Shard) error {
	p := s.Primary
	if err := p.mkdir(); err != nil {
		return err
	}
	if err := runTool(ctx, p.Dir, filepath.Join(p.Dir, "initdb.log"), c.cred, c.pg.initdb,
		"-D", p.DataDir, "--username=postgres", "--auth=trust", "--encoding=UTF8", "--locale=C",
		"--no-sync", "--no-instructions"); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if err := c.pgWriteConfig(p); err != nil {
		return err
	}
	if err := p.launch(ctx, true); err != nil {
		return err
	}
	if err := c.pgBootstrap(ctx, p); err != nil {
		return err
	}
	// Replicas copy the primary, Options.Database and roles included.
	return parallel(ctx, s.Replicas, func(ctx context.Context, r *Node) error {
		if err := r.mkdir(); err != nil {
			return err
		}
		if err := runTool(ctx, r.Dir, filepath.Join(r.Dir, "pg_basebackup.log"), c.cred, c.pg.basebackup,
			"-D", r.DataDir, "-h", "127.0.0.1", "-p", strconv.Itoa(p.Port), "-U", "postgres",
			"--write-recovery-conf", "--wal-method=stream", "--checkpoint=fast",
			"--no-sync", "--no-manifest"); err != nil {
			return fmt.Errorf("%s: %w", r, err)
		}
		return r.launch(ctx, true)
	})
}

// pgWriteConfig appends our settings to postgresql.conf (replicas inherit
// them through pg_basebackup) and replaces pg_hba.conf. Per-node settings
// (port, socket directory) are given on the command line instead.
func (c *Cluster) pgWriteConfig(n *Node) error {
	encryption := "scram-sha-256"
	if c.Options.PGAuth == PGAuthMD5 {
		encryption = "md5"
	}
	conf := fmt.Sprintf(`
# --- shardgate localcluster ---
listen_addresses = '127.0.0.1'
max_connections = 200
max_prepared_transactions = 100  # transactions: two_phase
shared_buffers = '32MB'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = '256MB'          # a stopped replica can catch up later
hot_standby = on
hot_standby_feedback = on
wal_retrieve_retry_interval = '500ms'
fsync = off
synchronous_commit = off
wal_writer_delay = '10ms'        # asynchronous commits reach replicas within ~10 ms, not 200
full_page_writes = off
password_encryption = '%s'
timezone = 'UTC'
log_timezone = 'UTC'
logging_collector = off          # stderr goes to the node's postgres.log
log_destination = 'stderr'
log_line_prefix = '%%m [%%p] %%q%%u@%%d '
`, encryption)
	if c.Options.TLS {
		conf += fmt.Sprintf("ssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\n", c.serverCert(), c.serverKey())
	}
	f, err := os.OpenFile(filepath.Join(n.DataDir, "postgresql.conf"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("localcluster: %w", err)
	}
	_, err = f.WriteString(conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("localcluster: %w", err)
	}
	hba := fmt.Sprintf(`# shardgate localcluster
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 trust
local   replication  all                 trust
host    replication  all   127.0.0.1/32  trust
host    all          all   127.0.0.1/32  %s
`, c.Options.PGAuth)
	// Overwrite in place: the file keeps its owner (the postgres user).
	if err := os.WriteFile(filepath.Join(n.DataDir, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		return fmt.Errorf("localcluster: %w", err)
	}
	return nil
}

func (c *Cluster) pgCommand(n *Node) (string, []string) {
	return c.pg.postgres, []string{
		"-D", n.DataDir,
		"-p", strconv.Itoa(n.Port),
		"-k", n.Socket,
		"-c", "listen_addresses=127.0.0.1",
		"-c", fmt.Sprintf("cluster_name=sg-s%d-%d", n.Shard, n.Index),
	}
}

// pgBootstrap sets Options.User's password and creates Options.Database.
func (c *Cluster) pgBootstrap(ctx context.Context, n *Node) error {
	conn, err := pgx.Connect(ctx, pgAdminDSN(n))
	if err != nil {
		return fmt.Errorf("localcluster: %s: %w", n, err)
	}
	defer conn.Close(context.Background())
	user := pgx.Identifier{c.Options.User}.Sanitize()
	stmts := []string{fmt.Sprintf("CREATE ROLE %s LOGIN SUPERUSER PASSWORD %s", user, pgLiteral(c.Options.Password))}
	if c.Options.User == "postgres" {
		stmts[0] = fmt.Sprintf("ALTER ROLE %s PASSWORD %s", user, pgLiteral(c.Options.Password))
	}
	if c.Options.Database != "postgres" {
		stmts = append(stmts, fmt.Sprintf("CREATE DATABASE %s OWNER %s", pgx.Identifier{c.Options.Database}.Sanitize(), user))
	}
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("localcluster: %s: bootstrap: %w", n, err)
		}
	}
	return nil
}

func pgPing(ctx context.Context, n *Node) error {
	conn, err := pgx.Connect(ctx, pgAdminDSN(n))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var one int
	return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// pgWaitReplicated waits for each running replica's replay position to
// reach the primary's WAL position.
func (c *Cluster) pgWaitReplicated(ctx context.Context, s Shard) error {
	conn, err := pgx.Connect(ctx, pgAdminDSN(s.Primary))
	if err != nil {
		return fmt.Errorf("localcluster: %s: %w", s.Primary, err)
	}
	// pg_current_wal_lsn is the *written* position, which with
	// synchronous_commit=off lags behind commits already acknowledged (the
	// insert position does not, but may point past a page header no replica
	// ever reports). A synchronous commit that wrote WAL flushes everything
	// before it (a bare txid_current() writes none, so is not flushed).
	var lsn string
	_, err = conn.Exec(ctx, "SET synchronous_commit = on")
	if err == nil {
		_, err = conn.Exec(ctx, "SELECT pg_logical_emit_message(true, 'shardgate-localcluster', 'sync')")
	}
	if err == nil {
		err = conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn)
	}
	conn.Close(context.Background())
	if err != nil {
		return fmt.Errorf("localcluster: %s: %w", s.Primary, err)
	}
	return parallel(ctx, s.Replicas, func(ctx context.Context, r *Node) error {
		if !r.Running() {
			return nil
		}
		err := poll(ctx, 20*time.Millisecond, func(ctx context.Context) error {
			conn, err := pgx.Connect(ctx, pgAdminDSN(r))
			if err != nil {
				return err
			}
			defer conn.Close(context.Background())
			var ok bool
			var replay *string
			if err := conn.QueryRow(ctx, "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false), pg_last_wal_replay_lsn()::text", lsn).Scan(&ok, &replay); err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("replayed up to %v, want %s", deref(replay), lsn)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("localcluster: %s: waiting for replication: %w", r, err)
		}
		return nil
	})
}

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

// pgAdminDSN reaches n as postgres over its unix socket (trust).
func pgAdminDSN(n *Node) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable connect_timeout=5",
		pgKV(n.Socket), n.Port)
}

func pgURL(user, password, addr, db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password), Host: addr, Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// pgKV quotes a value for a keyword/value connection string.
func pgKV(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// pgLiteral quotes a SQL string literal (standard_conforming_strings on).
func pgLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
