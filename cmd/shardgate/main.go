// Command shardgate is a sharded PostgreSQL and MySQL proxy. See README.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand: it parses its own flags from args.
type command struct {
	name, usage string
	run         func(ctx context.Context, args []string, out, errOut io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "serve -config FILE                   run the proxies (PostgreSQL and MySQL), admin HTTP", runServe},
		{"check", "check FILE...                       validate topology files", runCheck},
		{"locate", "locate -config FILE DATABASE TABLE VALUE   where a key lives", runLocate},
		{"route", "route -config FILE -db DATABASE [-json] \"SQL\"   the plan the proxy would run", runRoute},
		{"dev", "dev [-dir DIR] [-shards N]           start a local PostgreSQL + MariaDB shard cluster", runDev},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(errOut)
		return 2
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], out, errOut)
		}
	}
	fmt.Fprintf(errOut, "shardgate: unknown command %q\n", args[0])
	usage(errOut)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: shardgate COMMAND [flags]")
	for _, c := range commands() {
		fmt.Fprintln(w, "  shardgate "+c.usage)
	}
	fmt.Fprintln(w, "Run shardgate COMMAND -h for a command's flags.")
}
