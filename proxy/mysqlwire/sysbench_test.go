package mysqlwire

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology/localcluster"
)

// sysbench (libmysqlclient/libmariadb) runs point selects through a
// recording TCP relay in front of MariaDB; every COM_STMT_EXECUTE it sent
// must decode, with prevTypes, to the integer id it asked for, and most
// of them carry new-params-bound = 0, the case go-mysql's server turns
// into NULL.
func testSysbenchExecutes(t *testing.T, c *localcluster.Cluster, cfg BackendConfig) {
	bin := needBinary(t, "sysbench")
	common := []string{"oltp_point_select", "--db-driver=mysql", "--mysql-user=" + cfg.User, "--mysql-password=" + cfg.Password,
		"--mysql-db=" + cfg.Database, "--tables=1", "--table-size=100", "--mysql-host=127.0.0.1"}
	sysbench := func(port string, args ...string) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		all := append(append(append([]string{}, common...), "--mysql-port="+port), args...)
		if out, err := exec.CommandContext(ctx, bin, all...).CombinedOutput(); err != nil {
			t.Fatalf("sysbench %s: %v\n%s", args, err, out)
		}
	}
	_, port, _ := strings.Cut(cfg.Addr, ":")
	sysbench(port, "prepare")

	rec := startRelay(t, cfg.Addr)
	_, relayPort, _ := strings.Cut(rec.addr, ":")
	sysbench(relayPort, "--threads=1", "--events=40", "--time=0", "--rand-type=uniform", "run")

	rec.mu.Lock()
	defer rec.mu.Unlock()
	prev := map[uint32][]uint16{}
	unbound := 0
	for i, p := range rec.executes {
		id := binary.LittleEndian.Uint32(p[1:])
		n, ok := rec.numParams[id]
		if !ok {
			t.Fatalf("execute %d: statement %d was never prepared", i, id)
		}
		if n > 0 && p[10+(n+7)/8] == 0 {
			unbound++
		}
		ex, err := ParseStmtExecute(p, n, prev[id], nil)
		if err != nil {
			t.Fatalf("execute %d: %v", i, err)
		}
		prev[id] = ex.Types()
		for _, prm := range ex.Params {
			rp := RouterParam(prm)
			if rp.Kind != router.ParamInt || rp.Int < 1 || rp.Int > 100 {
				t.Fatalf("execute %d: parameter %+v routes as %+v", i, prm, rp)
			}
		}
	}
	t.Logf("sysbench: %d executes, %d without parameter types (new-params-bound = 0)", len(rec.executes), unbound)
	if len(rec.executes) < 40 || unbound == 0 {
		t.Fatalf("want >= 40 executes, some with new-params-bound = 0")
	}
}

// relay forwards one TCP connection at a time to a server and records
// the client's COM_STMT_EXECUTE packets and each prepared statement's
// parameter count from the server's COM_STMT_PREPARE_OK.
type relay struct {
	addr      string
	mu        sync.Mutex
	lastCmd   byte
	executes  [][]byte
	numParams map[uint32]int
}

func startRelay(t *testing.T, server string) *relay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{addr: ln.Addr().String(), numParams: map[uint32]int{}}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			cc, err := ln.Accept()
			if err != nil {
				return
			}
			sc, err := net.Dial("tcp", server)
			if err != nil {
				cc.Close()
				continue
			}
			wg.Go(func() { r.pump(cc, sc, true); sc.Close() })
			wg.Go(func() { r.pump(sc, cc, false); cc.Close() })
		}
	})
	return r
}

// pump copies packets from src to dst, looking at them on the way.
func (r *relay) pump(src, dst net.Conn, fromClient bool) {
	br := bufio.NewReader(src)
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return
		}
		p := make([]byte, int(hdr[0])|int(hdr[1])<<8|int(hdr[2])<<16)
		if _, err := io.ReadFull(br, p); err != nil {
			return
		}
		r.mu.Lock()
		switch {
		case fromClient && hdr[3] == 0 && len(p) > 0: // a command
			r.lastCmd = p[0]
			if p[0] == ComStmtExecute {
				r.executes = append(r.executes, bytes.Clone(p))
			}
		case !fromClient && hdr[3] == 1 && r.lastCmd == ComStmtPrepare && len(p) >= 9 && p[0] == 0:
			if ok, err := ParsePrepareOK(p); err == nil {
				r.numParams[ok.StatementID] = int(ok.Params)
			}
		}
		r.mu.Unlock()
		if _, err := dst.Write(append(hdr[:], p...)); err != nil {
			return
		}
	}
}
