package pgwire

import (
	"bytes"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgproto3/v2"
)

// A pooled Reader and Writer keep the stream intact: pipelined messages,
// messages split across reads, and a large body; and they hold no buffer
// once everything buffered is consumed or flushed.
func TestPooledReaderWriter(t *testing.T) {
	pool := NewBufferPool()
	client, server := net.Pipe()
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
		client.Write(msg[:3])
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
