package router_test

import (
	"testing"

	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/mysql"
	"github.com/shardgate/shardgate/router/postgres"
	"github.com/shardgate/shardgate/router/sqltext"
	"github.com/shardgate/shardgate/topology"
)

// The hot path: a repeated point query whose shape is cached. It must not
// parse; report ns/op in closing notes.
func BenchmarkRoutePointSelect(b *testing.B) {
	snap, err := topology.Load("../testdata/routing/topology.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		proto topology.Protocol
		r     *router.Router
		sql   string
	}{
		{"postgres", topology.Postgres, router.New(sqltext.Postgres, postgres.Analyzer{}, 1000), "SELECT id, name FROM users WHERE id = 42"},
		{"mysql", topology.MySQL, router.New(sqltext.MySQL, mysql.NewAnalyzer(), 1000), "SELECT id, name FROM users WHERE id = 42"},
		{"postgres-param", topology.Postgres, router.New(sqltext.Postgres, postgres.Analyzer{}, 1000), "SELECT id, name FROM users WHERE id = $1"},
	} {
		db, _ := snap.Database(c.proto, "shop")
		req := router.Request{DB: db, SQL: c.sql, Params: []router.Param{{Kind: router.ParamInt, Int: 42}}}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.r.Route(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A multi-row INSERT split over shards: tokenizing and rebuilding text.
func BenchmarkRouteSplitInsert(b *testing.B) {
	snap, _ := topology.Load("../testdata/routing/topology.yaml")
	db, _ := snap.Database(topology.Postgres, "shop")
	r := router.New(sqltext.Postgres, postgres.Analyzer{}, 1000)
	req := router.Request{DB: db, SQL: "INSERT INTO users (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c'), (7, 'd')"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Route(req); err != nil {
			b.Fatal(err)
		}
	}
}
