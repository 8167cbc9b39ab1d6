package localcluster

import (
	"context"
	"os"
	"time"
)

// TB is the part of testing.TB that StartForTest uses (so this package
// does not import testing).
type TB interface {
	Helper()
	Context() context.Context
	Cleanup(func())
	Failed() bool
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// StartForTest starts a cluster for an integration test and closes it in
// t.Cleanup. When the servers' binaries are missing it skips the test, or
// fails it when the environment variable CI is "true". If the test failed,
// the tail of every server log is logged before the cluster is removed.
// Callers guard with testing.Short() themselves.
func StartForTest(t TB, kind Kind, o Options) *Cluster {
	t.Helper()
	if err := Available(kind, o.BinDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("localcluster: %v", err)
		}
		t.Skipf("localcluster: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	start := StartPostgres
	if kind == KindMySQL {
		start = StartMariaDB
	}
	c, err := start(ctx, o)
	if err != nil {
		t.Fatalf("localcluster: start %s cluster: %v", kind, err)
	}
	c.beforeRemove = func() {
		if t.Failed() {
			for _, n := range c.Nodes() {
				t.Logf("--- %s: %s\n%s", n, n.LogFile, n.LogTail(15))
			}
		}
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("localcluster: close: %v", err)
		}
	})
	return c
}
