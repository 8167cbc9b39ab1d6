package drain

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"
)

func pipeConn(t *testing.T) net.Conn {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return a
}

func closed(nc net.Conn) bool {
	nc.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	_, err := nc.Read(make([]byte, 1))
	return err != nil && !isTimeout(err)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestDrainClosesIdleAndWaitsForBusy(t *testing.T) {
	g := NewGroup()
	idleNC, busyNC := pipeConn(t), pipeConn(t)
	idle, _ := g.Add(idleNC)
	busy, _ := g.Add(busyNC)
	if idle.Idle() {
		t.Fatal("not draining yet")
	}
	busy.Busy()
	done := make(chan int)
	go func() { done <- g.Drain(context.Background()) }()
	deadline := time.Now().Add(5 * time.Second)
	for !closed(idleNC) {
		if time.Now().After(deadline) {
			t.Fatal("idle connection not closed")
		}
	}
	if closed(busyNC) {
		t.Fatal("busy connection closed")
	}
	if _, ok := g.Add(pipeConn(t)); ok {
		t.Fatal("draining group accepted a connection")
	}
	idle.Done()
	if !busy.Idle() {
		t.Fatal("a session going idle during a drain must end")
	}
	busy.Done()
	if n := <-done; n != 0 {
		t.Fatalf("forced %d", n)
	}
}

func TestDrainTimeoutClosesBusy(t *testing.T) {
	g := NewGroup()
	nc := pipeConn(t)
	c, _ := g.Add(nc)
	c.Busy()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n := g.Drain(ctx); n != 1 {
		t.Fatalf("forced %d, want 1", n)
	}
	if !closed(nc) {
		t.Fatal("busy connection left open after the timeout")
	}
}

func TestDrainEmpty(t *testing.T) {
	if n := NewGroup().Drain(context.Background()); n != 0 {
		t.Fatal(n)
	}
}

// Serve runs a handler per connection, and after ctx ends lets a busy
// one finish while new connections are refused.
func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := NewGroup()
	ctx, cancel := context.WithCancel(context.Background())
	started, finish := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := g.Serve(ctx, []net.Listener{ln}, 10*time.Second, func(hctx context.Context, nc net.Conn, c *Conn) {
			c.Busy()
			close(started)
			<-finish
			if hctx.Err() != nil {
				t.Error("handler context ended before the drain did")
			}
		})
		done <- err
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	<-started
	cancel()
	select {
	case <-done:
		t.Fatal("Serve returned while a handler was busy")
	case <-time.After(50 * time.Millisecond):
	}
	close(finish)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the handler finished")
	}
}

// Serve accepts on every listener it is given (a TCP port and a Unix
// socket), and ctx's end closes them all.
func TestServeSeveralListeners(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "s.sock")
	unix, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	g := NewGroup()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := g.Serve(ctx, []net.Listener{tcp, unix}, 10*time.Second, func(_ context.Context, nc net.Conn, _ *Conn) {
			nc.Write([]byte(nc.LocalAddr().Network()))
		})
		done <- err
	}()
	for _, addr := range []struct{ network, address string }{{"tcp", tcp.Addr().String()}, {"unix", sock}} {
		c, err := net.Dial(addr.network, addr.address)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil || string(got) != addr.network {
			t.Errorf("%s: handler wrote %q (%v), want %q", addr.network, got, err, addr.network)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after ctx ended")
	}
	for _, addr := range []struct{ network, address string }{{"tcp", tcp.Addr().String()}, {"unix", sock}} {
		if c, err := net.Dial(addr.network, addr.address); err == nil {
			c.Close()
			t.Errorf("%s listener still accepts after Serve returned", addr.network)
		}
	}
}
