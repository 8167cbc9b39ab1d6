package localcluster

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// Exec runs SQL statements (separated by ";" at line ends) on a node as
// the cluster's user, in the cluster's database: schema setup for dev and
// tests.
func (c *Cluster) Exec(ctx context.Context, n *Node, statements string) error {
	if c.Kind == KindPostgres {
		conn, err := pgx.Connect(ctx, c.DSN(n))
		if err != nil {
			return fmt.Errorf("localcluster: %s: %w", n, err)
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, statements) // the simple protocol runs several at once
		return err
	}
	cfg, err := mysql.ParseDSN(c.DSN(n))
	if err != nil {
		return err
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	for _, q := range strings.Split(statements, ";\n") {
		if strings.TrimSpace(q) == "" {
			continue
		}
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("localcluster: %s: %w", n, err)
		}
	}
	return nil
}
