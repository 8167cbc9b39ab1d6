package probe

import (
	"context"
	"errors"
	"net"
	"regexp"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/health"
)

// silentServer accepts connections and never says anything.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return l.Addr().String()
}

// closedPort is an address nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// A server that hangs is given up on at the probe's deadline, and a
// closed port fails at once; both for either prober and either role.
func TestProbeFailures(t *testing.T) {
	db := &topology.DB{Name: "d", Backend: topology.Backend{User: "u", Database: "d"}}
	probers := map[string]health.Prober{"postgres": NewPostgres(), "mysql": NewMySQL()}
	silent, closed := silentServer(t), closedPort(t)
	tests := []struct {
		addr string
		want string
	}{
		{silent, "timeout|deadline exceeded"},
		{closed, "refused"},
	}
	for name, p := range probers {
		for _, tc := range tests {
			for _, replica := range []bool{false, true} {
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				begin := time.Now()
				var err error
				if replica {
					_, err = p.ProbeReplica(ctx, db, tc.addr, "0/1")
				} else {
					_, err = p.ProbePrimary(ctx, db, tc.addr)
				}
				cancel()
				if err == nil || !regexp.MustCompile(tc.want).MatchString(err.Error()) {
					t.Errorf("%s %s replica=%v: err = %v, want %q", name, tc.addr, replica, err, tc.want)
				}
				if took := time.Since(begin); took > 5*time.Second {
					t.Errorf("%s: took %v", name, took)
				}
			}
		}
		p.(interface{ Close() error }).Close()
	}
}

// A forgotten server's state is closed and not reopened by a late probe.
func TestForget(t *testing.T) {
	r := newRegistry(func() *int { return new(int) })
	if err := r.with("a", func(n *int) error { *n = 1; return nil }); err != nil {
		t.Fatal(err)
	}
	closed := 0
	r.forget("a", func(n *int) { closed += *n })
	if closed != 1 {
		t.Fatalf("closed %d", closed)
	}
	// A new probe after forget starts afresh.
	if err := r.with("a", func(n *int) error {
		if *n != 0 {
			return errors.New("old state reused")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r.closeAll(func(*int) {})
	if len(r.entries) != 0 {
		t.Fatal("closeAll left entries")
	}
}
