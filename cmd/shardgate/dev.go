package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/localcluster"
)

// runDev starts real local shard clusters, writes the topology that
// describes them and keeps them up until interrupted.
func runDev(ctx context.Context, args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(errOut)
	shards := fs.Int("shards", 2, "shards per cluster")
	replicas := fs.Int("replicas", 1, "streaming replicas per shard (0 for none)")
	only := fs.String("only", "", "start only postgres or mysql (default: both)")
	dbName := fs.String("db", "shop", "logical database name")
	configOut := fs.String("config-out", filepath.Join(".dev", "topology.yaml"), "where to write the topology file")
	pgListen := fs.String("postgres-listen", "127.0.0.1:6432", "listen.postgres written to the topology")
	myListen := fs.String("mysql-listen", "127.0.0.1:6033", "listen.mysql written to the topology")
	verbose := fs.Bool("v", false, "log what the cluster does")
	profiling := fs.Bool("pprof", false, "serve Go profiles on the admin address under /debug/pprof/")
	adminAddr := fs.String("admin", "127.0.0.1:9187", "admin HTTP address written to the topology")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	kinds := []localcluster.Kind{localcluster.KindPostgres, localcluster.KindMySQL}
	switch *only {
	case "":
	case "postgres", "mysql":
		kinds = []localcluster.Kind{localcluster.Kind(*only)}
	default:
		fmt.Fprintf(errOut, "dev: -only %q: want postgres or mysql\n", *only)
		return 2
	}
	opts := localcluster.Options{Shards: *shards, ReplicasPerShard: *replicas, Database: *dbName}
	if *replicas == 0 {
		opts.ReplicasPerShard = localcluster.NoReplicas
	}
	if *verbose {
		opts.Logger = slog.New(slog.NewTextHandler(errOut, nil))
	}

	fmt.Fprintf(out, "starting %d shard(s) x (1 primary + %d replica(s)) for %v ...\n", *shards, *replicas, kinds)
	clusters, err := startClusters(ctx, kinds, opts)
	defer func() {
		for _, c := range clusters {
			if err := c.Close(); err != nil {
				fmt.Fprintf(errOut, "dev: stopping %s: %v\n", c.Kind, err)
			}
		}
	}()
	if err != nil {
		fmt.Fprintf(errOut, "dev: %v\n", err)
		return 1
	}

	cfg := devConfig(clusters, *dbName, *pgListen, *myListen)
	cfg.Admin = *adminAddr
	if err := writeTopology(*configOut, cfg); err != nil {
		fmt.Fprintf(errOut, "dev: %v\n", err)
		return 1
	}
	if err := createExampleTables(ctx, clusters); err != nil {
		fmt.Fprintf(errOut, "dev: %v\n", err)
		return 1
	}
	printDev(out, clusters, *configOut)

	// The proxies in front, as `serve` runs them.
	store, err := topology.NewStore(*configOut)
	if err != nil {
		fmt.Fprintf(errOut, "dev: %v\n", err)
		return 1
	}
	o := stackOptions{pgAuth: "scram-sha-256", myAuth: "mysql_native_password", drain: 5 * time.Second, watch: time.Second, pprof: *profiling}
	st, err := newStack(store, o, slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		fmt.Fprintf(errOut, "dev: proxy: %v (pick other addresses with -postgres-listen / -mysql-listen)\n", err)
		return 1
	}
	fmt.Fprintln(out)
	st.describe(out)
	if ln := st.listeners.pg; ln != nil {
		fmt.Fprintf(out, "  psql 'postgres://app:app-secret@%s/%s'\n", ln.Addr(), *dbName)
	}
	if ln := st.listeners.my; ln != nil {
		host, port, _ := net.SplitHostPort(ln.Addr().String())
		fmt.Fprintf(out, "  mariadb -h%s -P%s -uapp -papp-secret %s\n", host, port, *dbName)
		fmt.Fprintf(out, "  go-sql-driver DSN: app:app-secret@tcp(%s)/%s\n", ln.Addr(), *dbName)
	}
	fmt.Fprintln(out, "  then: SHOW SHARDGATE SHARDS (or POOLS, CLIENTS, STATS, LOCATE users 42, HELP)")
	fmt.Fprintln(out, "\nCtrl-C stops the proxy and every server and removes their data.")
	if err := st.run(ctx, o); err != nil {
		fmt.Fprintf(errOut, "dev: proxy: %v\n", err)
	}
	fmt.Fprintln(out, "\nstopping ...")
	return 0
}

// exampleSchema is created on every shard so the printed DSNs work at
// once; the tables match the topology dev writes.
var exampleSchema = map[localcluster.Kind]string{
	localcluster.KindPostgres: `CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, name text, email text);
CREATE TABLE IF NOT EXISTS orders (id bigint, user_id bigint, total numeric(12,2), created_at timestamptz DEFAULT now(), PRIMARY KEY (user_id, id));
CREATE TABLE IF NOT EXISTS countries (code text PRIMARY KEY, name text)`,
	localcluster.KindMySQL: `CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, name varchar(200), email varchar(200));
CREATE TABLE IF NOT EXISTS orders (id bigint, user_id bigint, total decimal(12,2), created_at timestamp DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (user_id, id));
CREATE TABLE IF NOT EXISTS countries (code varchar(8) PRIMARY KEY, name varchar(200))`,
}

func createExampleTables(ctx context.Context, clusters []*localcluster.Cluster) error {
	for _, c := range clusters {
		for _, sh := range c.Shards {
			if err := c.Exec(ctx, sh.Primary, exampleSchema[c.Kind]); err != nil {
				return fmt.Errorf("create example tables on %s: %w", sh.Primary, err)
			}
		}
	}
	return nil
}

func startClusters(ctx context.Context, kinds []localcluster.Kind, o localcluster.Options) ([]*localcluster.Cluster, error) {
	var (
		mu       sync.Mutex
		clusters []*localcluster.Cluster
		errs     []error
		wg       sync.WaitGroup
	)
	for _, k := range kinds {
		wg.Go(func() {
			start := localcluster.StartPostgres
			if k == localcluster.KindMySQL {
				start = localcluster.StartMariaDB
			}
			c, err := start(ctx, o)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", k, err))
				return
			}
			clusters = append(clusters, c)
		})
	}
	wg.Wait()
	// Print and write them in the order asked for, not the order they came up.
	slices.SortFunc(clusters, func(a, b *localcluster.Cluster) int {
		return slices.Index(kinds, a.Kind) - slices.Index(kinds, b.Kind)
	})
	return clusters, errors.Join(errs...)
}

// devConfig is a topology for the clusters with a few example tables.
func devConfig(clusters []*localcluster.Cluster, dbName, pgListen, myListen string) topology.Config {
	cfg := topology.Config{
		Admin: "127.0.0.1:9187",
		// A throwaway cluster: its one user may ask SHOW SHARDGATE ... too.
		Users: []topology.User{{Name: "app", Password: "app-secret", Admin: true}},
	}
	for _, c := range clusters {
		db := c.TopologyDatabase(dbName)
		db.Tables = map[string]topology.TableRule{
			"users":     {Key: "id", Type: "int"},
			"orders":    {Key: "user_id", Type: "int"},
			"countries": {Reference: true},
		}
		cfg.Databases = append(cfg.Databases, db)
		if c.Kind == localcluster.KindPostgres {
			cfg.Listen.Postgres = pgListen
		} else {
			cfg.Listen.MySQL = myListen
		}
	}
	return cfg
}

// writeTopology writes the file and validates it with the proxy's own
// loader, so dev never hands out a topology the proxy would refuse.
func writeTopology(path string, cfg topology.Config) error {
	var buf bytes.Buffer
	buf.WriteString("# Written by `shardgate dev`; valid while it runs.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return err
	}
	data := buf.Bytes()
	if _, err := topology.Parse(path, data); err != nil {
		return fmt.Errorf("generated topology is invalid: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

func printDev(out io.Writer, clusters []*localcluster.Cluster, configPath string) {
	fmt.Fprintln(out, "\nlocal shard cluster is up:")
	for _, c := range clusters {
		for _, n := range c.Nodes() {
			fmt.Fprintf(out, "  %-9s shard %d %-8s %s  %s\n", c.Kind, n.Shard, n.Role, n.Addr, connectHint(c, n))
		}
	}
	fmt.Fprintf(out, "\ntopology: %s (check it: shardgate check %s)\n", configPath, configPath)
}

func connectHint(c *localcluster.Cluster, n *localcluster.Node) string {
	o := c.Options
	if c.Kind == localcluster.KindPostgres {
		return fmt.Sprintf("psql 'postgres://%s:%s@%s/%s'", o.User, o.Password, n.Addr, o.Database)
	}
	return fmt.Sprintf("mariadb -h127.0.0.1 -P%d -u%s -p%s %s", n.Port, o.User, o.Password, o.Database)
}
