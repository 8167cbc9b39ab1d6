package pgwire

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"
)

// A pooled Reader and Writer keep the stream intact: pipelined messages,
// messages split across reads, and a large body; and they hold no buffer
// once everything buffered is consumed or flushed.
// Over a TCP socket the Reader waits with raw reads (fillIdle); over a
// pipe with a one-byte read.
func TestPooledReaderWriter(t *testing.T) {
	t.Run("pipe", func(t *testing.T) {
		client, server := net.Pipe()
		testPooled(t, client, server)
	})
	t.Run("tcp", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		server, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		testPooled(t, client, server)
	})
}

func testPooled(t *testing.T, client, server net.Conn) {
	pool := NewBufferPool()
	defer client.Close()
	defer server.Close()
	r := NewReader(server, 0)
	r.UsePool(pool)

	big := bytes.Repeat([]byte("x"), 100<<10)
	kept := make(chan bool, 1)
	go func() {
		w := NewWriter(client)
		w.UsePool(pool)
		w.Send(&pgproto3.Query{String: "SELECT 1"})
		w.Send(&pgproto3.Query{String: "SELECT 2"}) // pipelined in one write
		w.Flush()
		kept <- w.buf != nil
		w.WriteRaw('Q', append(big, 0))
		w.Flush()
		// One message in two writes.
		msg, _ := (&pgproto3.Query{String: "SELECT 3"}).Encode(nil)
		time.Sleep(20 * time.Millisecond) // the reader waits with nothing to read
		client.Write(msg[:3])
		time.Sleep(20 * time.Millisecond)
		client.Write(msg[3:])
	}()
	for i, want := range []string{"SELECT 1", "SELECT 2", string(big), "SELECT 3"} {
		typ, body, err := r.ReadRaw()
		if err != nil {
			t.Fatal(err)
		}
		if typ != 'Q' || string(bytes.TrimSuffix(body, []byte{0})) != want {
			t.Fatalf("message %d: %c %d bytes", i, typ, len(body))
		}
	}
	if <-kept {
		t.Error("writer kept its buffer after Flush")
	}
	client.Close()
	if _, _, err := r.ReadRaw(); err != io.EOF {
		t.Errorf("after close: %v, want io.EOF", err)
	}
	if r.br != nil {
		t.Error("reader holds a buffer while waiting")
	}
}
