package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/shardgate/shardgate/topology"
)

// runCheck validates each file with the same code the proxy loads and
// reloads with, printing every problem as FILE:LINE: path: message.
func runCheck(_ context.Context, args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.Usage = func() {
		fmt.Fprintln(errOut, "usage: shardgate check FILE...\nValidates topology files; exits 1 if any has a problem.")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	code := 0
	for _, path := range fs.Args() {
		snap, err := topology.Load(path)
		var verr *topology.ValidationError
		switch {
		case errors.As(err, &verr):
			for _, p := range verr.Problems {
				fmt.Fprintln(out, p.String())
			}
			fmt.Fprintf(out, "%s: %d problem(s)\n", path, len(verr.Problems))
			code = 1
		case err != nil:
			fmt.Fprintf(out, "%s: %v\n", path, err)
			code = 1
		default:
			fmt.Fprintf(out, "%s: ok: %s\n", path, summary(snap))
		}
	}
	return code
}

func summary(s *topology.Snapshot) string {
	shards, servers := 0, 0
	for _, d := range s.Databases() {
		shards += len(d.Shards)
		for _, sh := range d.Shards {
			servers += 1 + len(sh.Replicas)
		}
	}
	return fmt.Sprintf("%d database(s), %d shard(s), %d server(s)", len(s.Databases()), shards, servers)
}
