package netcheck

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

func TestIdleDeadline(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	idle := NewIdleDeadline(server)
	buf := make([]byte, 1)

	idle.Arm(20 * time.Millisecond)
	_, err := server.Read(buf)
	if !idle.Expired(err) {
		t.Fatalf("read past the deadline: %v, want expired", err)
	}
	if idle.Expired(io.EOF) || idle.Expired(errors.New("other")) {
		t.Error("other errors count as the deadline's")
	}

	// Cleared (and with no timeout) a read waits for data, however long.
	idle.Clear()
	idle.Arm(0)
	go func() {
		time.Sleep(50 * time.Millisecond)
		client.Write([]byte{1})
	}()
	if _, err := server.Read(buf); err != nil {
		t.Fatalf("read with no deadline: %v", err)
	}
	if idle.Expired(err) {
		t.Error("expired with no deadline armed")
	}
}
