package router_test

import (
	"errors"
	"testing"

	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/mysql"
	"github.com/shardgate/shardgate/router/sqltext"
	"github.com/shardgate/shardgate/topology"
)

// An INSERT that names no columns needs the table's column order: without
// it the router says so (ColumnsNeededError), with it every row goes to
// the shard of its key, split per shard.
func TestInsertWithoutColumns(t *testing.T) {
	snap, err := topology.Load("../testdata/routing/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db, ok := snap.Database(topology.MySQL, "shop")
	if !ok {
		t.Fatal("no mysql database shop in the routing topology")
	}
	r := router.New(sqltext.MySQL, mysql.NewAnalyzer(), 100)
	sql := "INSERT INTO users VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')"
	_, err = r.Route(router.Request{DB: db, SQL: sql})
	var need *router.ColumnsNeededError
	if !errors.As(err, &need) || need.Table != "users" || !errors.Is(err, router.ErrMissingKey) {
		t.Fatalf("without columns: %v, want a ColumnsNeededError for users", err)
	}
	cols := func(table string) []string {
		if table == "users" {
			return []string{"id", "name"}
		}
		return nil
	}
	p, err := r.Route(router.Request{DB: db, SQL: sql, TableColumns: cols})
	if err != nil {
		t.Fatal(err)
	}
	placed := 0
	for _, tg := range p.Targets {
		for id := int64(1); id <= 4; id++ {
			if db.ShardFor(topology.IntKeyspaceID(id)) == tg.Shard {
				placed++
			}
		}
	}
	if placed != 4 {
		t.Fatalf("targets %v do not cover the 4 keys' shards", p.Targets)
	}
	// The key's position comes from the column list: with name first, the
	// first value is no longer the key.
	swapped := func(string) []string { return []string{"name", "id"} }
	if _, err := r.Route(router.Request{DB: db, SQL: "INSERT INTO users VALUES ('a', 1)", TableColumns: swapped}); err != nil {
		t.Fatalf("key in second position: %v", err)
	}
	if _, err := r.Route(router.Request{DB: db, SQL: "INSERT INTO users VALUES ('a')", TableColumns: swapped}); !errors.Is(err, router.ErrMissingKey) {
		t.Fatalf("row shorter than the key position: %v", err)
	}
}
