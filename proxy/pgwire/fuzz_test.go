package pgwire

import (
	"bytes"
	"errors"
	"testing"

	"github.com/jackc/pgproto3/v2"
)

// The fuzz targets fail when a decoder panic reached recover(): that
// guard keeps the process alive in production, but every panic it catches
// is an input decode.go should refuse before pgproto3 sees it. A decoded
// message must also encode again without panicking, since the proxy
// forwards what it decodes.

// FuzzFrontend feeds a client byte stream through ReadStartup, ReadRaw and
// the decoders. The first byte picks the phase and whether a startup
// packet comes first.
func FuzzFrontend(f *testing.F) {
	seed := func(mode byte, msgs ...pgproto3.FrontendMessage) {
		b := []byte{mode}
		for _, m := range msgs {
			enc, err := m.Encode(nil)
			if err != nil {
				f.Fatal(err)
			}
			b = append(b, enc...)
		}
		f.Add(b)
	}
	seed(4, &pgproto3.StartupMessage{ProtocolVersion: protocol30, Parameters: map[string]string{"user": "u", "database": "d"}},
		&pgproto3.Query{String: "SELECT 1"})
	seed(4, &pgproto3.SSLRequest{})
	seed(4, &pgproto3.CancelRequest{ProcessID: 1, SecretKey: 2})
	seed(0, &pgproto3.Query{String: "SELECT 1"}, &pgproto3.Terminate{})
	seed(0, &pgproto3.Parse{Name: "s", Query: "SELECT $1", ParameterOIDs: []uint32{23}},
		&pgproto3.Bind{PreparedStatement: "s", ParameterFormatCodes: []int16{0}, Parameters: [][]byte{[]byte("1"), nil}},
		&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Close{ObjectType: 'S', Name: "s"},
		&pgproto3.Flush{}, &pgproto3.Sync{})
	seed(0, &pgproto3.CopyData{Data: []byte("x")}, &pgproto3.CopyDone{}, &pgproto3.CopyFail{Message: "m"})
	seed(0, &pgproto3.FunctionCall{Function: 1, ArgFormatCodes: []uint16{0}, Arguments: [][]byte{nil}}, &pgproto3.Sync{})
	seed(1, &pgproto3.SASLInitialResponse{AuthMechanism: ScramMechanism, Data: []byte("n,,n=,r=abc")},
		&pgproto3.SASLResponse{Data: []byte("c=biws,r=abc,p=x")})
	seed(1, &pgproto3.PasswordMessage{Password: "md5x"})
	f.Add([]byte{0, 'B', 0, 0, 0, 16, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 0, 0})
	f.Add([]byte{0, 'Q', 0, 0, 0, 4})

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		mode := data[0]
		r := NewReader(bytes.NewReader(data[1:]), 1<<16)
		if mode&4 != 0 {
			if _, err := r.ReadStartup(); err != nil {
				return
			}
		}
		if mode&1 != 0 {
			r.SetPhase(PhaseClientAuth)
		}
		for range 64 {
			typ, body, err := r.ReadRaw()
			if errors.Is(err, ErrUnsupported) {
				continue
			}
			if err != nil {
				return
			}
			if typ == 'p' {
				checkDecoded(t, "password", func() (pgproto3.Message, error) { return DecodePasswordMessage(body) })
				checkDecoded(t, "SASL initial", func() (pgproto3.Message, error) { return DecodeSASLInitialResponse(body) })
				checkDecoded(t, "SASL response", func() (pgproto3.Message, error) { return DecodeSASLResponse(body) })
				continue
			}
			checkDecoded(t, typeName(typ), func() (pgproto3.Message, error) { return DecodeFrontend(typ, body) })
		}
	})
}

// FuzzBackend decodes one server message.
func FuzzBackend(f *testing.F) {
	msgs := []pgproto3.BackendMessage{
		&pgproto3.AuthenticationOk{}, &pgproto3.AuthenticationMD5Password{Salt: [4]byte{1, 2, 3, 4}},
		&pgproto3.AuthenticationSASL{AuthMechanisms: []string{ScramMechanism}},
		&pgproto3.AuthenticationSASLContinue{Data: []byte("r=x,s=eA==,i=4096")},
		&pgproto3.AuthenticationSASLFinal{Data: []byte("v=x")}, &pgproto3.AuthenticationGSS{},
		&pgproto3.ParameterStatus{Name: "a", Value: "b"}, &pgproto3.BackendKeyData{ProcessID: 1, SecretKey: 2},
		&pgproto3.ReadyForQuery{TxStatus: 'I'},
		&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("a"), DataTypeOID: 23}}},
		&pgproto3.DataRow{Values: [][]byte{[]byte("1"), nil}},
		&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")},
		&pgproto3.ErrorResponse{Severity: "ERROR", Code: "XX000", Message: "m", Position: 3, Line: 7},
		&pgproto3.NoticeResponse{Severity: "NOTICE", Message: "m"},
		&pgproto3.NotificationResponse{PID: 1, Channel: "c", Payload: "p"},
		&pgproto3.ParameterDescription{ParameterOIDs: []uint32{23, 25}},
		&pgproto3.CopyInResponse{ColumnFormatCodes: []uint16{0, 1}}, &pgproto3.CopyOutResponse{},
		&pgproto3.CopyBothResponse{}, &pgproto3.CopyData{Data: []byte("d")},
		&pgproto3.FunctionCallResponse{Result: []byte("r")}, &pgproto3.EmptyQueryResponse{},
	}
	for _, m := range msgs {
		enc, err := m.Encode(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc[0], enc[5:])
	}
	f.Add(byte('D'), []byte{0, 1, 0xff, 0xff, 0xff, 0xfe})
	f.Add(byte('R'), []byte{0, 0, 0, 10, 0, 0})

	f.Fuzz(func(t *testing.T, typ byte, body []byte) {
		checkDecoded(t, typeName(typ), func() (pgproto3.Message, error) { return DecodeBackend(typ, body) })
	})
}

// checkDecoded fails on a recovered decoder panic and re-encodes a
// decoded message (a panic there fails the target by itself).
func checkDecoded(t *testing.T, what string, decode func() (pgproto3.Message, error)) {
	t.Helper()
	msg, err := decode()
	if errors.Is(err, errDecoderPanic) {
		t.Fatalf("%s: %v", what, err)
	}
	if err == nil {
		if _, err := msg.Encode(nil); err != nil {
			t.Logf("%s: decoded %T does not encode: %v", what, msg, err)
		}
	}
}
