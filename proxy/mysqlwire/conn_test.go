package mysqlwire

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// frame builds the wire bytes of physical packets.
func frame(seq byte, payloads ...[]byte) []byte {
	var out []byte
	for _, p := range payloads {
		out = append(out, packet(seq, p)...)
		seq++
	}
	return out
}

// bufConn is a net.Conn reading from r and collecting what is written.
type bufConn struct {
	net.Conn // nil: only Read and Write are used
	r        io.Reader
	w        bytes.Buffer
	discard  bool // drop what is written
}

func (b *bufConn) Read(p []byte) (int, error) { return b.r.Read(p) }
func (b *bufConn) Write(p []byte) (int, error) {
	if b.discard {
		return len(p), nil
	}
	return b.w.Write(p)
}
func (b *bufConn) Close() error { return nil }

func newBufConn(in []byte) (*Conn, *bufConn) {
	bc := &bufConn{r: bytes.NewReader(in)}
	return NewConn(bc), bc
}

func TestReadPacket(t *testing.T) {
	big := bytes.Repeat([]byte{'x'}, maxPayload)
	for _, tc := range []struct {
		name    string
		in      []byte
		max     int
		want    [][]byte // payloads in order
		wantSeq uint8    // write sequence after the last packet
		wantErr error
	}{
		{name: "one", in: frame(0, []byte{ComPing}), want: [][]byte{{ComPing}}, wantSeq: 1},
		{name: "empty payload", in: frame(3, []byte{}), want: [][]byte{{}}, wantSeq: 4},
		{name: "two", in: frame(1, []byte("ab"), []byte("cde")), want: [][]byte{[]byte("ab"), []byte("cde")}, wantSeq: 3},
		{name: "larger than the read buffer", in: frame(0, bytes.Repeat([]byte{7}, 100000)), want: [][]byte{bytes.Repeat([]byte{7}, 100000)}, wantSeq: 1},
		{name: "exactly 0xffffff: empty continuation", in: frame(0, big, []byte{}), want: [][]byte{big}, wantSeq: 2},
		{name: "continued", in: frame(5, big, []byte("tail")), want: [][]byte{append(bytes.Clone(big), "tail"...)}, wantSeq: 7},
		{name: "too large", in: frame(0, make([]byte, 100)), max: 99, wantErr: ErrTooLarge},
		{name: "too large when continued", in: frame(0, big, []byte("x")), max: maxPayload, wantErr: ErrTooLarge},
		{name: "continuation out of sequence", in: append(frame(0, big), frame(5, []byte("x"))...), wantErr: ErrProtocol},
		{name: "eof between packets", in: nil, wantErr: io.EOF},
		{name: "torn header", in: []byte{5, 0}, wantErr: io.ErrUnexpectedEOF},
		{name: "torn payload", in: []byte{5, 0, 0, 0, 'a'}, wantErr: io.ErrUnexpectedEOF},
		{name: "torn large payload", in: append([]byte{0xff, 0xff, 0x0f, 0}, make([]byte, 70000)...), wantErr: io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newBufConn(tc.in)
			if tc.max != 0 {
				c.MaxPacket = tc.max
			}
			for i, want := range tc.want {
				p, err := c.ReadPacket()
				if err != nil || !bytes.Equal(p, want) || p == nil {
					t.Fatalf("packet %d: %d bytes, %v; want %d bytes", i, len(p), err, len(want))
				}
			}
			if tc.wantErr == nil {
				if c.Sequence() != tc.wantSeq {
					t.Fatalf("sequence %d, want %d", c.Sequence(), tc.wantSeq)
				}
				tc.wantErr = io.EOF
			}
			if _, err := c.ReadPacket(); !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestWritePacket(t *testing.T) {
	big := bytes.Repeat([]byte{'y'}, maxPayload)
	for _, tc := range []struct {
		name     string
		seq      uint8 // set by reading a packet with seq-1 first; 0 = ResetSequence
		payloads [][]byte
		want     []byte
	}{
		{name: "one", payloads: [][]byte{{ComQuery, 'x'}}, want: frame(0, []byte{ComQuery, 'x'})},
		{name: "sequence continues", seq: 2, payloads: [][]byte{{1}, {2}}, want: frame(2, []byte{1}, []byte{2})},
		{name: "empty", payloads: [][]byte{nil}, want: frame(0, []byte{})},
		{name: "exactly 0xffffff", payloads: [][]byte{big}, want: frame(0, big, []byte{})},
		{name: "split", payloads: [][]byte{append(bytes.Clone(big), 'z')}, want: frame(0, big, []byte{'z'})},
		{name: "sequence wraps", seq: 255, payloads: [][]byte{{1}, {2}}, want: append(packet(255, []byte{1}), packet(0, []byte{2})...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in []byte
			if tc.seq > 0 {
				in = packet(tc.seq-1, []byte{0})
			}
			c, bc := newBufConn(in)
			if tc.seq > 0 {
				if _, err := c.ReadPacket(); err != nil {
					t.Fatal(err)
				}
			}
			for _, p := range tc.payloads {
				if err := c.WritePacket(p); err != nil {
					t.Fatal(err)
				}
			}
			if c.Buffered() == 0 && len(tc.want) <= bufSize {
				t.Fatal("nothing buffered before Flush")
			}
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(bc.w.Bytes(), tc.want) {
				t.Fatalf("wrote %d bytes, want %d", bc.w.Len(), len(tc.want))
			}
			c.ResetSequence()
			if c.Sequence() != 0 {
				t.Fatal("ResetSequence")
			}
		})
	}
}

// The steady state of a relay (read a packet, write it on) allocates
// nothing.
func TestConnNoAllocs(t *testing.T) {
	one := frame(0, bytes.Repeat([]byte{'r'}, 200))
	in := bytes.Repeat(one, 2000)
	rd := bytes.NewReader(in)
	c := NewConn(&bufConn{r: rd, discard: true})
	allocs := testing.AllocsPerRun(1000, func() {
		p, err := c.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per packet", allocs)
	}
}

func BenchmarkRelayPacket(b *testing.B) {
	one := frame(0, bytes.Repeat([]byte{'r'}, 200))
	in := bytes.Repeat(one, 10000)
	rd := bytes.NewReader(in)
	c := NewConn(&bufConn{r: rd})
	out := NewConn(&bufConn{discard: true})
	b.SetBytes(int64(len(one)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := c.ReadPacket()
		if err == io.EOF {
			rd.Reset(in)
			continue
		}
		_ = out.WritePacket(p)
	}
}

// NetConn, Close and deadlines pass through to the net.Conn.
func TestConnNetConn(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := NewConn(a)
	if c.NetConn() != a {
		t.Fatal("NetConn")
	}
	_ = c.NetConn().SetReadDeadline(time.Now().Add(time.Millisecond))
	if _, err := c.ReadPacket(); err == nil {
		t.Fatal("read past the deadline")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}
