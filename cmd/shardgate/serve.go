package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/shardgate/shardgate/topology"
)

// runServe runs the proxies the topology asks for until interrupted
// (SIGINT/SIGTERM: a graceful drain, then exit 0). SIGHUP or a change of
// the file reloads the topology: a valid file swaps in, an invalid one is
// refused and logged.
func runServe(ctx context.Context, args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(errOut)
	config := fs.String("config", "config.yaml", "topology file")
	pgAuth := fs.String("auth", "scram-sha-256", "how PostgreSQL clients authenticate: scram-sha-256, md5 or trust")
	myAuth := fs.String("mysql-auth", "mysql_native_password", "how MySQL clients authenticate: mysql_native_password or caching_sha2_password")
	drain := fs.Duration("drain", 30*time.Second, "at shutdown, how long open transactions may run to their end")
	watch := fs.Duration("watch", time.Second, "how often to check the topology file for changes (0: reload on SIGHUP only)")
	debug := fs.Bool("debug", false, "log every statement's route")
	profiling := fs.Bool("pprof", false, "serve Go profiles on the admin address under /debug/pprof/")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: level}))
	store, err := topology.NewStore(*config)
	if err != nil {
		fmt.Fprintln(errOut, err)
		return 1
	}
	o := stackOptions{pgAuth: *pgAuth, myAuth: *myAuth, drain: *drain, watch: *watch, pprof: *profiling}
	st, err := newStack(store, o, log)
	if err != nil {
		fmt.Fprintf(errOut, "serve: %v\n", err)
		return 1
	}
	st.describe(out)
	fmt.Fprintf(out, "shardgate: topology %s\n", *config)
	if err := st.run(ctx, o); err != nil {
		fmt.Fprintf(errOut, "serve: %v\n", err)
		return 1
	}
	fmt.Fprintln(out, "shardgate: stopped")
	return 0
}
