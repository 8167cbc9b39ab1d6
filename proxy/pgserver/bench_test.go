package pgserver

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// End to end through the proxy to real PostgreSQL on this machine: a
// point select by key, in both protocols. Compare with BenchmarkDirect*
// of the same run (ratios; the machine is noisy).
func BenchmarkProxyPointSelect(b *testing.B) {
	f := startFixture(b)
	ctx := context.Background()
	setup := f.connect(b)
	if _, err := setup.Exec(ctx, "INSERT INTO users (id, name) VALUES (42, 'x')"); err != nil {
		b.Fatal(err)
	}
	if err := f.cluster.WaitReplicated(ctx); err != nil {
		b.Fatal(err)
	}
	direct, err := pgx.Connect(ctx, f.cluster.DSN(f.cluster.Shards[f.shardOf(42)].Replicas[0]))
	if err != nil {
		b.Fatal(err)
	}
	defer direct.Close(ctx)
	extended, err := pgx.Connect(ctx, f.dsn("app", "app-secret"))
	if err != nil {
		b.Fatal(err)
	}
	defer extended.Close(ctx)
	for _, c := range []struct {
		name string
		conn *pgx.Conn
		mode pgx.QueryExecMode
	}{
		{"proxy-simple", setup, pgx.QueryExecModeSimpleProtocol},
		{"proxy-extended", extended, pgx.QueryExecModeCacheStatement},
		{"direct-simple", direct, pgx.QueryExecModeSimpleProtocol},
		{"direct-extended", direct, pgx.QueryExecModeCacheStatement},
	} {
		b.Run(c.name+"-literal", func(b *testing.B) {
			var name string
			for b.Loop() {
				if err := c.conn.QueryRow(ctx, "SELECT name FROM users WHERE id = 42", c.mode).Scan(&name); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name, func(b *testing.B) {
			var name string
			for b.Loop() {
				if err := c.conn.QueryRow(ctx, "SELECT name FROM users WHERE id = $1", c.mode, int64(42)).Scan(&name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
