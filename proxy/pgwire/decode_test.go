package pgwire

import (
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"
)

// Hostile bodies that break pgproto3's own decoders (see
// TestPgproto3Pitfalls) come back as clean ErrProtocol.
func TestDecodeHostile(t *testing.T) {
	tests := []struct {
		name     string
		frontend bool
		typ      byte
		body     []byte
		wantErr  error
	}{
		{name: "function call with NULL argument", frontend: true, typ: 'F',
			body: []byte{0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0}, wantErr: ErrUnsupported},
		{name: "function call truncated", frontend: true, typ: 'F', body: []byte{0, 0}, wantErr: ErrUnsupported},
		{name: "bind with length -2", frontend: true, typ: 'B',
			body: []byte{0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 0, 0}, wantErr: ErrProtocol},
		{name: "bind with length past the end", frontend: true, typ: 'B',
			body: []byte{0, 0, 0, 0, 0, 1, 0, 0, 0, 9, 'x', 0, 0}, wantErr: ErrProtocol},
		{name: "bind truncated format codes", frontend: true, typ: 'B', body: []byte{0, 0, 0, 3, 0, 0}, wantErr: ErrProtocol},
		{name: "bind trailing bytes", frontend: true, typ: 'B', body: []byte{0, 0, 0, 0, 0, 0, 0, 0, 'x'}, wantErr: ErrProtocol},
		{name: "query without terminator", frontend: true, typ: 'Q', body: []byte("SELECT 1"), wantErr: ErrProtocol},
		{name: "password outside auth", frontend: true, typ: 'p', body: []byte("pw\x00"), wantErr: ErrProtocol},
		{name: "backend type from client", frontend: true, typ: 'T', body: []byte{0, 0}, wantErr: ErrProtocol},
		{name: "data row with length -2", typ: 'D', body: []byte{0, 1, 0xff, 0xff, 0xff, 0xfe}, wantErr: ErrProtocol},
		{name: "data row with length past the end", typ: 'D', body: []byte{0, 1, 0, 0, 0, 5, 'a'}, wantErr: ErrProtocol},
		{name: "data row with more columns than data", typ: 'D', body: []byte{0, 2, 0, 0, 0, 0}, wantErr: ErrProtocol},
		{name: "notification too short", typ: 'A', body: []byte{0, 1}, wantErr: ErrProtocol},
		{name: "SASL without terminator", typ: 'R', body: []byte{0, 0, 0, 10, 'S', 'C', 'R', 'A', 'M'}, wantErr: ErrProtocol},
		{name: "SASL list of empty names", typ: 'R', body: []byte{0, 0, 0, 10, 0, 0}, wantErr: ErrProtocol},
		{name: "SSPI", typ: 'R', body: []byte{0, 0, 0, 9}, wantErr: ErrUnsupported},
		{name: "auth too short", typ: 'R', body: []byte{0, 0}, wantErr: ErrProtocol},
		{name: "negotiate protocol version", typ: 'v', body: []byte{0, 3, 0, 0, 0, 0, 0, 0}, wantErr: ErrUnsupported},
		{name: "error response unterminated", typ: 'E', body: []byte("SERROR"), wantErr: ErrProtocol},
		{name: "ready for query too long", typ: 'Z', body: []byte("II"), wantErr: ErrProtocol},
		{name: "frontend type from backend", typ: 'Q', body: []byte("x\x00"), wantErr: ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				var err error
				if tt.frontend {
					_, err = DecodeFrontend(tt.typ, tt.body)
				} else {
					_, err = DecodeBackend(tt.typ, tt.body)
				}
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if errors.Is(err, errDecoderPanic) {
					t.Fatalf("refused only by recover(): %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("decoder did not return")
			}
		})
	}
}

func TestDecodeValid(t *testing.T) {
	frontend := []pgproto3.FrontendMessage{
		&pgproto3.Query{String: "SELECT 1"},
		&pgproto3.Parse{Name: "s1", Query: "SELECT $1", ParameterOIDs: []uint32{23}},
		&pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "s1", ParameterFormatCodes: []int16{0},
			Parameters: [][]byte{[]byte("42"), nil}, ResultFormatCodes: []int16{1}},
		&pgproto3.Describe{ObjectType: 'S', Name: "s1"},
		&pgproto3.Execute{Portal: "p", MaxRows: 10},
		&pgproto3.Close{ObjectType: 'P', Name: "p"},
		&pgproto3.Sync{}, &pgproto3.Flush{}, &pgproto3.Terminate{},
		&pgproto3.CopyData{Data: []byte("1\t2\n")}, &pgproto3.CopyDone{}, &pgproto3.CopyFail{Message: "no"},
	}
	for _, m := range frontend {
		enc, _ := m.Encode(nil)
		got, err := DecodeFrontend(enc[0], enc[5:])
		if err != nil {
			t.Errorf("%T: %v", m, err)
			continue
		}
		if re, _ := got.Encode(nil); string(re) != string(enc) {
			t.Errorf("%T: re-encoded %q, want %q", m, re, enc)
		}
	}
	backend := []pgproto3.BackendMessage{
		&pgproto3.AuthenticationOk{}, &pgproto3.AuthenticationCleartextPassword{},
		&pgproto3.AuthenticationMD5Password{Salt: [4]byte{1, 2, 3, 4}},
		&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}},
		&pgproto3.AuthenticationSASLContinue{Data: []byte("r=x")}, &pgproto3.AuthenticationSASLFinal{Data: []byte("v=x")},
		&pgproto3.ParameterStatus{Name: "server_version", Value: "15"},
		&pgproto3.BackendKeyData{ProcessID: 1, SecretKey: 2},
		&pgproto3.ReadyForQuery{TxStatus: 'T'},
		&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("a"), DataTypeOID: 25, DataTypeSize: -1, TypeModifier: -1}}},
		&pgproto3.DataRow{Values: [][]byte{[]byte("x"), nil, {}}},
		&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")},
		&pgproto3.ErrorResponse{Severity: "ERROR", Code: "42P01", Message: "nope"},
		&pgproto3.NoticeResponse{Severity: "NOTICE", Code: "00000", Message: "hi"},
		&pgproto3.NotificationResponse{PID: 1, Channel: "c", Payload: "p"},
		&pgproto3.ParseComplete{}, &pgproto3.BindComplete{}, &pgproto3.CloseComplete{}, &pgproto3.NoData{},
		&pgproto3.EmptyQueryResponse{}, &pgproto3.PortalSuspended{},
		&pgproto3.ParameterDescription{ParameterOIDs: []uint32{23}},
		&pgproto3.CopyInResponse{OverallFormat: 0, ColumnFormatCodes: []uint16{0}},
		&pgproto3.CopyOutResponse{}, &pgproto3.CopyBothResponse{},
		&pgproto3.CopyData{Data: []byte("x")}, &pgproto3.CopyDone{},
		&pgproto3.FunctionCallResponse{Result: []byte("1")},
	}
	for _, m := range backend {
		enc, _ := m.Encode(nil)
		got, err := DecodeBackend(enc[0], enc[5:])
		if err != nil {
			t.Errorf("%T: %v", m, err)
			continue
		}
		if re, _ := got.Encode(nil); string(re) != string(enc) {
			t.Errorf("%T: re-encoded %q, want %q", m, re, enc)
		}
	}
}

func TestDecodeAuthResponses(t *testing.T) {
	if m, err := DecodePasswordMessage([]byte("md5abc\x00")); err != nil || m.Password != "md5abc" {
		t.Errorf("password: %v %v", m, err)
	}
	for _, bad := range []string{"", "pw", "pw\x00x", "a\x00b\x00"} {
		if _, err := DecodePasswordMessage([]byte(bad)); !errors.Is(err, ErrProtocol) {
			t.Errorf("password %q: %v", bad, err)
		}
	}
	if m, err := DecodeSASLInitialResponse([]byte("SCRAM-SHA-256\x00\x00\x00\x00\x03abc")); err != nil ||
		m.AuthMechanism != "SCRAM-SHA-256" || string(m.Data) != "abc" {
		t.Errorf("SASL initial: %v %v", m, err)
	}
	if m, err := DecodeSASLInitialResponse([]byte("X\x00\xff\xff\xff\xff")); err != nil || m.Data != nil {
		t.Errorf("SASL initial without data: %v %v", m, err)
	}
	for _, bad := range []string{"", "SCRAM", "SCRAM\x00", "SCRAM\x00\x00\x00", "SCRAM\x00\x00\x00\x00\x05abc",
		"SCRAM\x00\x00\x00\x00\x01abc", "SCRAM\x00\xff\xff\xff\xfeab", "SCRAM\x00\xff\xff\xff\xffab"} {
		if _, err := DecodeSASLInitialResponse([]byte(bad)); !errors.Is(err, ErrProtocol) {
			t.Errorf("SASL initial %q: %v", bad, err)
		}
	}
	if m, err := DecodeSASLResponse([]byte("c=biws")); err != nil || string(m.Data) != "c=biws" {
		t.Errorf("SASL response: %v %v", m, err)
	}
}

// TestPgproto3Pitfalls pins what pgproto3/v2 v2.3.3 does with the inputs
// above when called directly: it panics. If an upgrade ever fixes this the
// test says so; the guards in decode.go stay either way.
func TestPgproto3Pitfalls(t *testing.T) {
	tests := []struct {
		name string
		msg  pgproto3.Message
		body []byte
	}{
		{"FunctionCall NULL argument", &pgproto3.FunctionCall{}, []byte{0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0}},
		{"FunctionCall truncated", &pgproto3.FunctionCall{}, []byte{0, 0}},
		{"Bind length -2", &pgproto3.Bind{}, []byte{0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 0, 0}},
		{"DataRow length -2", &pgproto3.DataRow{}, []byte{0, 1, 0xff, 0xff, 0xff, 0xfe}},
		{"NotificationResponse short", &pgproto3.NotificationResponse{}, []byte{0, 1}},
		{"SASLInitialResponse without length", &pgproto3.SASLInitialResponse{}, []byte("SCRAM\x00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("pgproto3 no longer panics on this input")
				}
			}()
			_ = tt.msg.Decode(tt.body)
		})
	}
}
