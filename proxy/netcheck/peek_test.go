package netcheck

import (
	"net"
	"testing"
	"time"
)

func pair(t *testing.T) (client, server net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func TestDead(t *testing.T) {
	c, s := pair(t)
	if Dead(c) {
		t.Fatal("open idle connection reported dead")
	}
	s.Write([]byte("x"))
	deadline := time.Now().Add(5 * time.Second)
	for !Dead(c) {
		if time.Now().After(deadline) {
			t.Fatal("unsolicited data not noticed")
		}
	}
	c2, s2 := pair(t)
	s2.Close()
	for !Dead(c2) {
		if time.Now().After(deadline) {
			t.Fatal("closed peer not noticed")
		}
	}
}

func TestGone(t *testing.T) {
	c, s := pair(t)
	done := make(chan bool)
	go func() { done <- Gone(s) }()
	c.Close()
	select {
	case g := <-done:
		if !g {
			t.Fatal("close not reported as gone")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Gone did not return")
	}
	// Data ahead is not a disconnect, and is not consumed.
	c2, s2 := pair(t)
	c2.Write([]byte("q"))
	if Gone(s2) {
		t.Fatal("data reported as gone")
	}
	buf := make([]byte, 1)
	if n, _ := s2.Read(buf); n != 1 || buf[0] != 'q' {
		t.Fatal("peek consumed the data")
	}
	// A read deadline calls the watch off.
	_, s3 := pair(t)
	s3.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if Gone(s3) {
		t.Fatal("deadline reported as gone")
	}
}
