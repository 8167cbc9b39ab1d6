package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/shardgate/shardgate/topology"
)

// runLocate answers the DBA's question "where does this key live?" with the
// same hashing the router uses.
func runLocate(_ context.Context, args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("locate", flag.ContinueOnError)
	fs.SetOutput(errOut)
	config := fs.String("config", "config.yaml", "topology file")
	protocol := fs.String("protocol", "", "postgres or mysql, when both have a database of that name (default: every match)")
	fs.Usage = func() {
		fmt.Fprintln(errOut, "usage: shardgate locate -config FILE [-protocol P] DATABASE TABLE VALUE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 3 {
		fs.Usage()
		return 2
	}
	dbName, table, value := fs.Arg(0), fs.Arg(1), fs.Arg(2)
	snap, err := topology.Load(*config)
	if err != nil {
		fmt.Fprintln(errOut, err)
		return 1
	}
	found := false
	for _, d := range snap.Databases() {
		if d.Name != dbName || (*protocol != "" && string(d.Protocol) != *protocol) {
			continue
		}
		if found {
			fmt.Fprintln(out)
		}
		found = true
		if err := locate(out, d, table, value); err != nil {
			fmt.Fprintf(errOut, "locate: %s (%s): %v\n", d.Name, d.Protocol, err)
			return 1
		}
	}
	if !found {
		fmt.Fprintf(errOut, "locate: no database %q in %s\n", dbName, *config)
		return 1
	}
	return 0
}

func locate(out io.Writer, d *topology.DB, table, value string) error {
	fmt.Fprintf(out, "database:    %s (%s)\n", d.Name, d.Protocol)
	t, ok := d.Table(table)
	switch {
	case !ok:
		fmt.Fprintf(out, "table:       %s (not listed: unsharded, lives on one shard)\n", table)
		printShard(out, d.Unsharded)
		return nil
	case t.Kind == topology.Reference:
		fmt.Fprintf(out, "table:       %s (reference: a copy on every shard)\n", table)
		for _, sh := range d.Shards {
			printShard(out, sh)
		}
		return nil
	}
	id, err := t.KeyType.TextKeyspaceID(value)
	if err != nil {
		return err
	}
	sh := d.ShardFor(id)
	fmt.Fprintf(out, "table:       %s (key %s, type %s)\n", table, t.Key, t.KeyType)
	fmt.Fprintf(out, "value:       %q\n", value)
	fmt.Fprintf(out, "keyspace_id: %016x\n", id)
	printShard(out, sh)
	return nil
}

func printShard(out io.Writer, sh *topology.Shard) {
	fmt.Fprintf(out, "shard:       %s\n", sh.Name)
	fmt.Fprintf(out, "primary:     %s\n", sh.Primary)
	reps := make([]string, len(sh.Replicas))
	for i, r := range sh.Replicas {
		reps[i] = fmt.Sprintf("%s (weight %d)", r.Address, r.Weight)
	}
	if len(reps) == 0 {
		reps = []string{"(none)"}
	}
	fmt.Fprintf(out, "replicas:    %s\n", strings.Join(reps, ", "))
}
