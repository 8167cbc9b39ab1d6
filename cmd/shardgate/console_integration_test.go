package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/localcluster"
)

// SHOW SHARDGATE answers an admin user on either protocol's connections,
// in every way clients send it (pgx extended and simple protocol, psql,
// go-sql-driver, the mariadb client): the servers with their health, the
// pools, the connected clients of both proxies, and where a key lives.
// Other users are refused.
func TestConsole(t *testing.T) {
	pgc := startCluster(t, localcluster.KindPostgres, 2, 1)
	myc := startCluster(t, localcluster.KindMySQL, 2, 0)
	cfg := stackConfig(t, shopDB(pgc, -1), shopDB(myc, -1))
	cfg.Users = append(cfg.Users, topology.User{Name: "dba", Password: "dba-secret", Admin: true})
	f := serveStack(t, cfg)
	ctx := t.Context()

	pgAs := func(user, password string, simple bool) *pgx.Conn {
		conf, err := pgx.ParseConfig(fmt.Sprintf("postgres://%s:%s@%s/shop?sslmode=disable", user, password, f.pgAddr))
		if err != nil {
			t.Fatal(err)
		}
		if simple {
			conf.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		}
		conn, err := pgx.ConnectConfig(ctx, conf)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		return conn
	}
	myAs := func(user, password, db string) *sql.DB {
		c := mysql.NewConfig()
		c.User, c.Passwd, c.Net, c.Addr, c.DBName = user, password, "tcp", f.myAddr, db
		h, err := sql.Open("mysql", c.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		h.SetMaxOpenConns(1)
		t.Cleanup(func() { h.Close() })
		return h
	}

	// Traffic first, so pools and clients have something to show: a row
	// through each proxy, and a MySQL client that stays connected.
	if _, err := pgAs("app", "app-secret", false).Exec(ctx, "INSERT INTO users (id, name) VALUES (42, 'x')"); err != nil {
		t.Fatal(err)
	}
	myApp := myAs("app", "app-secret", "shop")
	if _, err := myApp.ExecContext(ctx, "INSERT INTO users (id, name) VALUES (42, 'x')"); err != nil {
		t.Fatal(err)
	}
	owner := shardOf(42, 2)

	for _, simple := range []bool{false, true} {
		t.Run(fmt.Sprintf("pgx simple=%v", simple), func(t *testing.T) {
			dba := pgAs("dba", "dba-secret", simple)
			shards := pgRows(t, dba, "SHOW SHARDGATE SHARDS")
			for _, n := range append(pgc.Nodes(), myc.Nodes()...) {
				row := find(shards, "address", n.Addr)
				if row == nil || row["health"] != "up" || row["role"] != n.Role {
					t.Errorf("SHARDS row of %s = %v, want role %s, health up", n, row, n.Role)
				}
			}
			pools := pgRows(t, dba, "SHOW SHARDGATE POOLS")
			for _, proto := range []*localcluster.Cluster{pgc, myc} {
				row := find(pools, "address", proto.Shards[owner].Primary.Addr)
				if row == nil || row["open"] == "0" {
					t.Errorf("POOLS row of %s, which took user 42: %v, want a connection open", proto.Shards[owner].Primary, row)
				}
			}
			clients := pgRows(t, dba, "SHOW SHARDGATE CLIENTS")
			my, me := find(clients, "protocol", "mysql"), find(clients, "address", dba.PgConn().Conn().LocalAddr().String())
			if my == nil || my["user"] != "app" || my["database"] != "shop" || me == nil || me["user"] != "dba" || me["database"] != "shop" || me["state"] != "active" {
				t.Errorf("CLIENTS: the MySQL client (app, shop) = %v, this session (dba, shop, active) = %v", my, me)
			}
			stats := pgRows(t, dba, "SHOW SHARDGATE STATS")
			for _, proto := range []string{"postgres", "mysql"} {
				var n int
				for _, r := range stats {
					if r["protocol"] == proto && r["database"] == "shop" && r["route"] == "single" {
						fmt.Sscan(r["queries"], &n)
					}
				}
				if n < 1 {
					t.Errorf("STATS counts no single-shard statement of %s (the INSERT of user 42): %v", proto, stats)
				}
			}
			loc := pgRows(t, dba, "SHOW SHARDGATE LOCATE users 42")
			if len(loc) != 1 || loc[0]["primary"] != pgc.Shards[owner].Primary.Addr {
				t.Errorf("LOCATE users 42 = %v, want the primary %s", loc, pgc.Shards[owner].Primary.Addr)
			}
			_, err := dba.Exec(ctx, "SHOW SHARDGATE NONSENSE")
			if code := pgErrCode(err); code != "42601" {
				t.Errorf("unknown command: %v, want 42601", err)
			}
			if n := pgRows(t, dba, "SELECT 1 AS one"); len(n) != 1 {
				t.Errorf("the session does not go on after the console: %v", n)
			}
		})
	}
	t.Run("pg not admin", func(t *testing.T) {
		_, err := pgAs("app", "app-secret", false).Exec(ctx, "SHOW SHARDGATE SHARDS")
		if code := pgErrCode(err); code != "42501" {
			t.Errorf("app: %v, want 42501", err)
		}
	})
	t.Run("psql", func(t *testing.T) {
		psql, err := localcluster.PostgresTool("psql", "")
		if err != nil {
			t.Skip(err)
		}
		out, err := exec.CommandContext(ctx, psql, "-X", "-A", "-F", "|", "-c", "SHOW SHARDGATE LOCATE users 42",
			fmt.Sprintf("postgres://dba:dba-secret@%s/shop?sslmode=disable", f.pgAddr)).CombinedOutput()
		if err != nil || !strings.Contains(string(out), pgc.Shards[owner].Primary.Addr) {
			t.Errorf("psql: %v\n%s", err, out)
		}
	})

	t.Run("mysql", func(t *testing.T) {
		noDB := myAs("dba", "dba-secret", "") // an admin needs no database
		shards := myRows(t, noDB, "SHOW SHARDGATE SHARDS")
		if row := find(shards, "address", myc.Shards[0].Primary.Addr); row == nil || row["health"] != "up" {
			t.Errorf("SHARDS over MySQL: %v", shards)
		}
		if _, err := noDB.QueryContext(ctx, "SHOW SHARDGATE LOCATE users 42"); myErrCode(err) != 1210 {
			t.Errorf("LOCATE without a database: %v, want 1210", err)
		}
		loc := myRows(t, myAs("dba", "dba-secret", "shop"), "SHOW SHARDGATE LOCATE users 42")
		if len(loc) != 1 || loc[0]["primary"] != myc.Shards[owner].Primary.Addr {
			t.Errorf("LOCATE users 42 over MySQL = %v, want %s", loc, myc.Shards[owner].Primary.Addr)
		}
		if _, err := myApp.QueryContext(ctx, "SHOW SHARDGATE SHARDS"); myErrCode(err) != 1227 {
			t.Errorf("app over MySQL: %v, want 1227", err)
		}
		// go-sql-driver prepares a statement that has arguments.
		if _, err := noDB.QueryContext(ctx, "SHOW SHARDGATE LOCATE users ?", 42); myErrCode(err) != 1295 {
			t.Errorf("SHOW SHARDGATE as a prepared statement: %v, want 1295", err)
		}
	})
	t.Run("mariadb client", func(t *testing.T) {
		cli, err := exec.LookPath("mariadb")
		if err != nil {
			t.Skip("mariadb client not installed")
		}
		host, port, _ := strings.Cut(f.myAddr, ":")
		out, err := exec.CommandContext(ctx, cli, "--no-defaults", "--protocol=tcp", "--skip-ssl", "-h", host, "-P", port,
			"-u", "dba", "-pdba-secret", "-B", "-e", "SHOW SHARDGATE POOLS").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "in_use") || !strings.Contains(string(out), myc.Shards[0].Primary.Addr) {
			t.Errorf("mariadb: %v\n%s", err, out)
		}
	})
}

// pgRows runs a query and returns its rows as column -> text.
func pgRows(t *testing.T, conn *pgx.Conn, query string) []map[string]string {
	t.Helper()
	rows, err := conn.Query(t.Context(), query)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (map[string]string, error) {
		vals, err := r.Values()
		m := map[string]string{}
		for i, fd := range r.FieldDescriptions() {
			m[fd.Name] = fmt.Sprint(vals[i])
		}
		return m, err
	})
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// myRows runs a query and returns its rows as column -> text.
func myRows(t *testing.T, db *sql.DB, query string) []map[string]string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []map[string]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for i, c := range cols {
			m[c] = vals[i].String
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// find is the first row whose column col is value.
func find(rows []map[string]string, col, value string) map[string]string {
	for _, r := range rows {
		if r[col] == value {
			return r
		}
	}
	return nil
}

func pgErrCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func myErrCode(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}
