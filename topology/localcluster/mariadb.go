package localcluster

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// The account replicas use to reach their primary.
const (
	mysqlReplUser     = "repl"
	mysqlReplPassword = "repl-secret"
)

// StartMariaDB starts Options.Shards MariaDB primaries, each with
// Options.ReplicasPerShard read-only GTID replicas, and creates Options.User
// and Options.Database on the primaries (replicated). ctx bounds the start
// only: the servers run until Close. On error everything started is torn
// down.
func StartMariaDB(ctx context.Context, o Options) (*Cluster, error) {
	o, err := o.resolve(KindMySQL)
	if err != nil {
		return nil, err
	}
	bins, err := findMariaDB(o.BinDir)
	if err != nil {
		return nil, err
	}
	c, err := newCluster(KindMySQL, o, nil)
	if err != nil {
		return nil, err
	}
	c.maria = bins
	return c.start(ctx, c.mariaStartShard)
}

func (c *Cluster) mariaStartShard(ctx context.Context, s Shard) error {
	nodes := append([]*Node{s.Primary}, s.Replicas...)
	if err := parallel(ctx, nodes, c.mariaInitAndLaunch); err != nil {
		return err
	}
	// Accounts and database are created on the primary only: its binary log
	// starts empty, so replicas get them by replication.
	if err := c.mariaBootstrap(ctx, s.Primary); err != nil {
		return err
	}
	for _, r := range s.Replicas {
		q := fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER=%s, MASTER_PASSWORD=%s, "+
			"MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1", s.Primary.Port, myLiteral(mysqlReplUser), myLiteral(mysqlReplPassword))
		if err := mariaExec(ctx, r, q, "START SLAVE"); err != nil {
			return err
		}
	}
	// Options.User must exist on the replicas when Start returns.
	return c.mariaWaitReplicated(ctx, s)
}

func (c *Cluster) mariaInitAndLaunch(ctx context.Context, n *Node) error {
	if err := n.mkdir(); err != nil {
		return err
	}
	args := []string{"--no-defaults", "--datadir=" + n.DataDir, "--auth-root-authentication-method=normal",
		"--skip-test-db", "--skip-name-resolve", "--tmpdir=" + n.Dir}
	args = append(args, rootUser()...)
	args = append(args, mariaEngineOptions()...)
	if err := runTool(ctx, n.Dir, filepath.Join(n.Dir, "install-db.log"), nil, c.maria.installDB, args...); err != nil {
		return fmt.Errorf("%s: %w", n, err)
	}
	return n.launch(ctx, true)
}

// mariaEngineOptions are server options that install-db must share with
// mariadbd (InnoDB file sizes, character set).
func mariaEngineOptions() []string {
	return []string{
		"--innodb-buffer-pool-size=32M",
		"--innodb-log-file-size=16M",
		"--innodb-doublewrite=0",
		"--innodb-flush-log-at-trx-commit=0",
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_general_ci",
	}
}

func rootUser() []string {
	if os.Geteuid() == 0 {
		return []string{"--user=root"}
	}
	return nil
}

func (c *Cluster) mariaServerID(n *Node) int { return 100*(n.Shard+1) + n.Index }

func (c *Cluster) mariaCommand(n *Node) (string, []string) {
	args := []string{"--no-defaults"} // must come first
	args = append(args, rootUser()...)
	args = append(args,
		"--datadir="+n.DataDir,
		"--tmpdir="+n.Dir,
		"--port="+strconv.Itoa(n.Port),
		"--bind-address=127.0.0.1",
		"--socket="+n.Socket,
		"--pid-file="+filepath.Join(n.Dir, "mariadbd.pid"),
		"--log-error="+n.LogFile,
		"--server-id="+strconv.Itoa(c.mariaServerID(n)),
		"--log-bin=mysql-bin",
		"--relay-log=relay-bin",
		"--binlog-format=ROW",
		"--gtid-strict-mode=1",
		"--sync-binlog=0",
		"--slave-net-timeout=10",
		"--skip-name-resolve",
		"--performance-schema=0",
		"--max-connections=200",
		"--default-time-zone=+00:00",
	)
	args = append(args, mariaEngineOptions()...)
	if c.Options.TLS {
		args = append(args, "--ssl-cert="+c.serverCert(), "--ssl-key="+c.serverKey())
	}
	if n.Role == RoleReplica {
		args = append(args, "--read-only=1")
	}
	return c.maria.mariadbd, args
}

func (c *Cluster) mariaBootstrap(ctx context.Context, n *Node) error {
	user := myLiteral(c.Options.User) + "@'%'"
	repl := myLiteral(mysqlReplUser) + "@'%'"
	return mariaExec(ctx, n,
		fmt.Sprintf("CREATE USER %s IDENTIFIED BY %s", repl, myLiteral(mysqlReplPassword)),
		"GRANT REPLICATION SLAVE ON *.* TO "+repl,
		fmt.Sprintf("CREATE USER %s IDENTIFIED BY %s", user, myLiteral(c.Options.Password)),
		"GRANT ALL PRIVILEGES ON *.* TO "+user+" WITH GRANT OPTION",
		// Without these the account could write on read_only replicas.
		"REVOKE SUPER, READ_ONLY ADMIN ON *.* FROM "+user,
		"CREATE DATABASE IF NOT EXISTS "+myIdent(c.Options.Database),
	)
}

// mariaAdmin opens a root connection over n's unix socket.
func mariaAdmin(n *Node) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Net = "unix"
	cfg.Addr = n.Socket
	cfg.Timeout = 3 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(1)
	return db, nil
}

func mariaExec(ctx context.Context, n *Node, stmts ...string) error {
	db, err := mariaAdmin(n)
	if err != nil {
		return fmt.Errorf("localcluster: %s: %w", n, err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("localcluster: %s: %s: %w", n, strings.Fields(q)[0], err)
		}
	}
	return nil
}

func mariaPing(ctx context.Context, n *Node) error {
	db, err := mariaAdmin(n)
	if err != nil {
		return err
	}
	defer db.Close()
	var one int
	return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// mariaWaitReplicated waits until each running replica has applied the
// primary's current gtid_binlog_pos (MASTER_GTID_WAIT), failing at once if
// its SQL thread stopped on an error.
func (c *Cluster) mariaWaitReplicated(ctx context.Context, s Shard) error {
	db, err := mariaAdmin(s.Primary)
	if err != nil {
		return fmt.Errorf("localcluster: %s: %w", s.Primary, err)
	}
	var pos string
	err = db.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_binlog_pos").Scan(&pos)
	db.Close()
	if err != nil {
		return fmt.Errorf("localcluster: %s: %w", s.Primary, err)
	}
	if pos == "" {
		return nil
	}
	return parallel(ctx, s.Replicas, func(ctx context.Context, r *Node) error {
		if !r.Running() {
			return nil
		}
		db, err := mariaAdmin(r)
		if err != nil {
			return fmt.Errorf("localcluster: %s: %w", r, err)
		}
		defer db.Close()
		err = poll(ctx, time.Millisecond, func(ctx context.Context) error {
			var res int
			if err := db.QueryRowContext(ctx, "SELECT MASTER_GTID_WAIT(?, 0.5)", pos).Scan(&res); err != nil {
				return err
			}
			if res == 0 {
				return nil
			}
			st, err := slaveStatus(ctx, db)
			if err != nil {
				return err
			}
			if st["Last_SQL_Errno"] != "0" {
				return permanent{fmt.Errorf("replication SQL thread stopped: %s", st["Last_SQL_Error"])}
			}
			return fmt.Errorf("not at %s yet (IO: %s %s)", pos, st["Slave_IO_Running"], st["Last_IO_Error"])
		})
		if err != nil {
			return fmt.Errorf("localcluster: %s: waiting for replication: %w", r, err)
		}
		return nil
	})
}

// slaveStatus is SHOW SLAVE STATUS as column name -> value.
func slaveStatus(ctx context.Context, db *sql.DB) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, "SHOW SLAVE STATUS")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if !rows.Next() {
		return out, rows.Err()
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	for i, c := range cols {
		out[c] = vals[i].String
	}
	return out, rows.Err()
}

func mysqlDSN(user, password, net, addr, db string) string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, password, net, addr, db
	return cfg.FormatDSN()
}

// myLiteral quotes a MySQL string literal (default sql_mode: backslash escapes).
func myLiteral(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}

func myIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
