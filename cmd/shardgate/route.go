package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/mysql"
	"github.com/shardgate/shardgate/router/postgres"
	"github.com/shardgate/shardgate/router/sqltext"
	"github.com/shardgate/shardgate/topology"
)

// paramList collects repeated -param flags.
type paramList []string

func (p *paramList) String() string     { return strings.Join(*p, ",") }
func (p *paramList) Set(v string) error { *p = append(*p, v); return nil }

// runRoute prints the plan the proxy would execute for one statement,
// with the same router the proxy uses.
func runRoute(_ context.Context, args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("route", flag.ContinueOnError)
	fs.SetOutput(errOut)
	config := fs.String("config", "config.yaml", "topology file")
	dbName := fs.String("db", "", "logical database")
	protocol := fs.String("protocol", "", "postgres or mysql (needed when both have a database of that name)")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	inTx := fs.Bool("tx", false, "route as inside a transaction")
	pinned := fs.String("pinned", "", "with -tx: the shard the transaction is already on")
	var params paramList
	fs.Var(&params, "param", "bind the next parameter ($1, $2... or ?) as text; repeat for more")
	fs.Usage = func() {
		fmt.Fprintln(errOut, `usage: shardgate route -config FILE -db DATABASE [-protocol P] [-json] [-param V]... [-tx [-pinned SHARD]] "SQL"`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || *dbName == "" {
		fs.Usage()
		return 2
	}
	snap, err := topology.Load(*config)
	if err != nil {
		fmt.Fprintln(errOut, err)
		return 1
	}
	db, err := findDatabase(snap, *dbName, *protocol)
	if err != nil {
		fmt.Fprintf(errOut, "route: %v\n", err)
		return 1
	}
	req := router.Request{DB: db, SQL: fs.Arg(0), Session: router.Session{InTransaction: *inTx}}
	for _, p := range params {
		req.Params = append(req.Params, router.Param{Kind: router.ParamText, Text: p})
	}
	if *pinned != "" {
		sh, ok := db.ShardNamed(*pinned)
		if !ok {
			fmt.Fprintf(errOut, "route: -pinned %s names no shard of %s\n", *pinned, db.Name)
			return 1
		}
		req.Session.Pinned = sh
	}
	plan, err := newRouter(db.Protocol).Route(req)
	if err != nil {
		fmt.Fprintf(errOut, "route: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(plan); err != nil {
			fmt.Fprintf(errOut, "route: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprint(out, plan.String())
	return 0
}

func newRouter(p topology.Protocol) *router.Router {
	if p == topology.MySQL {
		return router.New(sqltext.MySQL, mysql.NewAnalyzer(), router.DefaultCacheSize)
	}
	return router.New(sqltext.Postgres, postgres.Analyzer{}, router.DefaultCacheSize)
}

// findDatabase picks the database by name, and by protocol when the name
// exists for both.
func findDatabase(s *topology.Snapshot, name, protocol string) (*topology.DB, error) {
	var found []*topology.DB
	for _, d := range s.Databases() {
		if d.Name == name && (protocol == "" || string(d.Protocol) == protocol) {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no database %q", name)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("database %q exists for postgres and mysql: give -protocol", name)
}
