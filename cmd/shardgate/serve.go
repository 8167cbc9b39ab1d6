package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/shardgate/shardgate/proxy/pgserver"
	"github.com/shardgate/shardgate/topology"
)

// runServe runs the proxy until interrupted. SIGHUP reloads the topology:
// a valid file swaps in, an invalid one is refused and logged.
func runServe(ctx context.Context, args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(errOut)
	config := fs.String("config", "config.yaml", "topology file")
	auth := fs.String("auth", "scram-sha-256", "how PostgreSQL clients authenticate: scram-sha-256, md5 or trust")
	debug := fs.Bool("debug", false, "log every statement's route")
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
	go reloadOnHUP(ctx, store, log)

	snap := store.Current()
	if snap.Listen.Postgres == "" {
		fmt.Fprintln(errOut, "serve: listen.postgres is not set; nothing to serve yet (the MySQL proxy is not built)")
		return 1
	}
	ln, err := net.Listen("tcp", snap.Listen.Postgres)
	if err != nil {
		fmt.Fprintf(errOut, "serve: %v\n", err)
		return 1
	}
	fmt.Fprintf(out, "shardgate: serving PostgreSQL on %s (topology %s)\n", ln.Addr(), *config)
	srv := pgserver.New(store, pgserver.Options{AuthMethod: *auth, Logger: log})
	if err := srv.Serve(ctx, ln); err != nil {
		fmt.Fprintf(errOut, "serve: %v\n", err)
		return 1
	}
	return 0
}

func reloadOnHUP(ctx context.Context, store *topology.Store, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if snap, err := store.Reload(); err != nil {
				log.Error("topology reload refused; the previous topology keeps serving", "file", store.Path(), "err", err)
			} else {
				log.Info("topology reloaded", "file", store.Path(), "sha256", snap.Source.SHA256[:12])
			}
		}
	}
}
