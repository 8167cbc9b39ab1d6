package pgwire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"maps"
	"strings"
	"testing"

	"github.com/jackc/pgproto3/v2"
)

// wire builds one message as it travels: type, int32 length, body.
func wire(typ byte, body []byte) []byte {
	b := []byte{typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(len(body)+4))
	return append(b, body...)
}

// header builds a message header announcing length (which counts itself).
func header(typ byte, length int32) []byte {
	b := []byte{typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(length))
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestReadRaw(t *testing.T) {
	query := []byte("SELECT 1\x00")
	tests := []struct {
		name     string
		phase    Phase
		max      int
		in       []byte
		wantTyp  byte
		wantBody []byte
		wantErr  error
	}{
		{name: "query", in: wire('Q', query), wantTyp: 'Q', wantBody: query},
		{name: "empty body", in: wire('S', nil), wantTyp: 'S', wantBody: []byte{}},
		{name: "exactly max", max: 4 + len(query), in: wire('Q', query), wantTyp: 'Q', wantBody: query},
		{name: "over max", max: 3 + len(query), in: wire('Q', query), wantErr: ErrTooLarge},
		{name: "huge length", in: header('Q', 0x7fffffff), wantErr: ErrTooLarge},
		{name: "length 3", in: header('Q', 3), wantErr: ErrProtocol},
		{name: "negative length", in: header('Q', -1), wantErr: ErrProtocol},
		{name: "unknown type", in: wire('Z', []byte{'I'}), wantErr: ErrProtocol},
		{name: "zero type", in: wire(0, nil), wantErr: ErrProtocol},
		{name: "password outside auth", in: wire('p', []byte("x\x00")), wantErr: ErrProtocol},
		{name: "truncated body", in: header('Q', 100), wantErr: io.ErrUnexpectedEOF},
		{name: "truncated header", in: []byte{'Q', 0, 0}, wantErr: io.ErrUnexpectedEOF},
		{name: "nothing", in: nil, wantErr: io.EOF},
		{name: "auth password", phase: PhaseClientAuth, in: wire('p', []byte("pw\x00")), wantTyp: 'p', wantBody: []byte("pw\x00")},
		{name: "auth terminate", phase: PhaseClientAuth, in: wire('X', nil), wantTyp: 'X', wantBody: []byte{}},
		{name: "query during auth", phase: PhaseClientAuth, in: wire('Q', query), wantErr: ErrProtocol},
		{name: "auth message over 64k", phase: PhaseClientAuth, in: header('p', 65536), wantErr: ErrTooLarge},
		{name: "backend row description", phase: PhaseBackend, in: wire('T', []byte{0, 0}), wantTyp: 'T', wantBody: []byte{0, 0}},
		{name: "frontend type from backend", phase: PhaseBackend, in: wire('Q', query), wantErr: ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(tt.in), tt.max)
			r.SetPhase(tt.phase)
			typ, body, err := r.ReadRaw()
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if typ != tt.wantTyp || !bytes.Equal(body, tt.wantBody) {
				t.Fatalf("got %q %q, want %q %q", typ, body, tt.wantTyp, tt.wantBody)
			}
		})
	}
}

// A FunctionCall is skipped whole, so the session can answer with an error
// and read the next message in step.
func TestReadRawFunctionCallSkipped(t *testing.T) {
	in := cat(wire('F', []byte{0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0}), wire('Q', []byte("SELECT 1\x00")))
	r := NewReader(bytes.NewReader(in), 0)
	if _, _, err := r.ReadRaw(); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("FunctionCall: err = %v, want ErrUnsupported", err)
	}
	typ, body, err := r.ReadRaw()
	if err != nil || typ != 'Q' || string(body) != "SELECT 1\x00" {
		t.Fatalf("next message: %q %q %v", typ, body, err)
	}
}

// A peer announcing a huge message and sending little costs little memory,
// and a buffer grown by one big message is not kept.
func TestReadRawMemory(t *testing.T) {
	r := NewReader(bytes.NewReader(cat(header('d', 60<<20), []byte("only a few bytes"))), 0)
	if _, _, err := r.ReadRaw(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v", err)
	}
	if cap(r.buf) > 2*growStep {
		t.Fatalf("a 60 MiB announcement with 16 bytes behind it grew the buffer to %d", cap(r.buf))
	}

	big := bytes.Repeat([]byte("x"), 3<<20)
	r = NewReader(bytes.NewReader(cat(wire('d', big), wire('c', nil))), 0)
	_, body, err := r.ReadRaw()
	if err != nil || !bytes.Equal(body, big) {
		t.Fatalf("big message: %d bytes, %v", len(body), err)
	}
	if typ, _, err := r.ReadRaw(); err != nil || typ != 'c' {
		t.Fatalf("after big message: %q %v", typ, err)
	}
	if cap(r.buf) > keepBody {
		t.Fatalf("buffer of %d bytes kept after a big message", cap(r.buf))
	}
}

// Relaying with ReadRaw + WriteRaw reproduces the stream byte for byte.
func TestRawForwarding(t *testing.T) {
	in := cat(
		wire('T', []byte{0, 1, 'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 23, 0, 4, 0xff, 0xff, 0xff, 0xff, 0, 0}),
		wire('D', []byte{0, 2, 0, 0, 0, 1, '7', 0xff, 0xff, 0xff, 0xff}),
		wire('D', append([]byte{0, 1, 0, 1, 0, 0}, bytes.Repeat([]byte("y"), 1<<16)...)), // >= flushAt: vectored path
		wire('C', []byte("SELECT 2\x00")),
		wire('Z', []byte{'I'}),
	)
	r := NewReader(bytes.NewReader(in), 0)
	r.SetPhase(PhaseBackend)
	var out bytes.Buffer
	w := NewWriter(&out)
	for {
		typ, body, err := r.ReadRaw()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteRaw(typ, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), in) {
		t.Fatalf("relayed stream differs: %d bytes in, %d out", len(in), len(out.Bytes()))
	}
}

// countingWriter counts Write calls.
type countingWriter struct {
	bytes.Buffer
	writes int
	fail   error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	if c.fail != nil {
		return 0, c.fail
	}
	return c.Buffer.Write(p)
}

func TestWriterBatching(t *testing.T) {
	tests := []struct {
		name       string
		send       func(w *Writer) error
		wantWrites int
	}{
		{"nothing", func(w *Writer) error { return nil }, 0},
		{"result set", func(w *Writer) error {
			msgs := []pgproto3.Message{
				&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("n"), DataTypeOID: 23, DataTypeSize: 4, TypeModifier: -1}}},
			}
			for i := range 100 {
				msgs = append(msgs, &pgproto3.DataRow{Values: [][]byte{[]byte{byte('0' + i%10)}}})
			}
			msgs = append(msgs, &pgproto3.CommandComplete{CommandTag: []byte("SELECT 100")}, &pgproto3.ReadyForQuery{TxStatus: 'I'})
			for _, m := range msgs {
				if err := w.Send(m); err != nil {
					return err
				}
			}
			return nil
		}, 1},
		{"raw rows", func(w *Writer) error {
			for range 50 {
				if err := w.WriteRaw('D', []byte{0, 1, 0, 0, 0, 1, '1'}); err != nil {
					return err
				}
			}
			return w.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cw := &countingWriter{}
			w := NewWriter(cw)
			if err := tt.send(w); err != nil {
				t.Fatal(err)
			}
			if cw.writes != 0 {
				t.Fatalf("%d writes before Flush", cw.writes)
			}
			buffered := w.Buffered()
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if cw.writes != tt.wantWrites || cw.Len() != buffered || w.Buffered() != 0 {
				t.Fatalf("writes %d (want %d), wrote %d of %d buffered, %d left", cw.writes, tt.wantWrites, cw.Len(), buffered, w.Buffered())
			}
		})
	}
}

// Past 64 KiB the Writer writes early, so relaying a big result does not
// hold it all in memory.
func TestWriterBounded(t *testing.T) {
	cw := &countingWriter{}
	w := NewWriter(cw)
	row := bytes.Repeat([]byte("z"), 1000)
	for range 1000 {
		if err := w.WriteRaw('d', row); err != nil {
			t.Fatal(err)
		}
		if w.Buffered() > flushAt+len(row)+5 {
			t.Fatalf("%d bytes buffered", w.Buffered())
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if cw.Len() != 1000*(len(row)+5) || cw.writes < 10 {
		t.Fatalf("%d bytes in %d writes", cw.Len(), cw.writes)
	}
}

// A failed write poisons the Writer: the peer may hold half a message.
func TestWriterStickyError(t *testing.T) {
	boom := errors.New("boom")
	cw := &countingWriter{fail: boom}
	w := NewWriter(cw)
	_ = w.Send(&pgproto3.Sync{})
	if err := w.Flush(); !errors.Is(err, boom) {
		t.Fatalf("Flush: %v", err)
	}
	cw.fail = nil
	if err := w.Send(&pgproto3.Sync{}); !errors.Is(err, boom) {
		t.Fatalf("Send after failure: %v", err)
	}
	if err := w.Flush(); !errors.Is(err, boom) || cw.writes != 1 {
		t.Fatalf("Flush after failure: %v after %d writes", err, cw.writes)
	}
}

// An encoding error leaves the buffer as it was.
func TestWriterEncodeError(t *testing.T) {
	w := NewWriter(io.Discard)
	_ = w.Send(&pgproto3.Sync{})
	before := w.Buffered()
	big := &pgproto3.CopyOutResponse{ColumnFormatCodes: make([]uint16, 70000)}
	if err := w.Send(big); err == nil {
		t.Fatal("no error for 70000 column format codes")
	}
	if w.Buffered() != before {
		t.Fatalf("buffer %d after failed encode, want %d", w.Buffered(), before)
	}
}

func startup(code uint32, rest []byte) []byte {
	b := make([]byte, 8, 8+len(rest))
	binary.BigEndian.PutUint32(b, uint32(8+len(rest)))
	binary.BigEndian.PutUint32(b[4:], code)
	return append(b, rest...)
}

func TestReadStartup(t *testing.T) {
	params := []byte("user\x00app\x00database\x00shop\x00application_name\x00psql\x00\x00")
	tests := []struct {
		name    string
		in      []byte
		want    pgproto3.FrontendMessage
		wantErr error
	}{
		{name: "startup", in: startup(protocol30, params), want: &pgproto3.StartupMessage{
			ProtocolVersion: protocol30,
			Parameters:      map[string]string{"user": "app", "database": "shop", "application_name": "psql"},
		}},
		{name: "no parameters", in: startup(protocol30, []byte{0}), want: &pgproto3.StartupMessage{ProtocolVersion: protocol30, Parameters: map[string]string{}}},
		{name: "ssl", in: startup(codeSSLRequest, nil), want: &pgproto3.SSLRequest{}},
		{name: "gssenc", in: startup(codeGSSENCRequest, nil), want: &pgproto3.GSSEncRequest{}},
		{name: "cancel", in: startup(codeCancelRequest, []byte{0, 0, 0, 42, 0, 0, 0, 7}), want: &pgproto3.CancelRequest{ProcessID: 42, SecretKey: 7}},
		{name: "ssl with data behind it", in: cat(startup(codeSSLRequest, nil), []byte("Q")), wantErr: ErrProtocol},
		{name: "ssl too long", in: startup(codeSSLRequest, []byte{0}), wantErr: ErrProtocol},
		{name: "cancel too short", in: startup(codeCancelRequest, []byte{0, 0, 0, 42}), wantErr: ErrProtocol},
		{name: "protocol 2", in: startup(2<<16, params), wantErr: ErrUnsupported},
		{name: "protocol 3.2", in: startup(3<<16|2, params), wantErr: ErrUnsupported},
		{name: "unterminated", in: startup(protocol30, []byte("user\x00app\x00")), wantErr: ErrProtocol},
		{name: "no value", in: startup(protocol30, []byte("user\x00")), wantErr: ErrProtocol},
		{name: "junk after terminator", in: startup(protocol30, []byte("user\x00app\x00\x00x")), wantErr: ErrProtocol},
		{name: "length 7", in: []byte{0, 0, 0, 7, 0, 0, 0}, wantErr: ErrProtocol},
		{name: "length over 10000", in: cat([]byte{0, 0, 0x27, 0x11}, make([]byte, 10001)), wantErr: ErrProtocol},
		{name: "truncated", in: []byte{0, 0, 0, 20, 0, 3, 0, 0}, wantErr: io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewReader(bytes.NewReader(tt.in), 0).ReadStartup()
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gotEnc, _ := got.Encode(nil)
			wantEnc, _ := tt.want.Encode(nil)
			if sm, ok := tt.want.(*pgproto3.StartupMessage); ok {
				gsm, ok := got.(*pgproto3.StartupMessage)
				if !ok || gsm.ProtocolVersion != sm.ProtocolVersion || !maps.Equal(gsm.Parameters, sm.Parameters) {
					t.Fatalf("got %#v, want %#v", got, tt.want)
				}
				return
			}
			if !bytes.Equal(gotEnc, wantEnc) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestTypeName(t *testing.T) {
	if got := typeName('Q'); got != "'Q'" {
		t.Fatal(got)
	}
	if got := typeName(0); !strings.HasPrefix(got, "0x00") {
		t.Fatal(got)
	}
}
