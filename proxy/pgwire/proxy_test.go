package pgwire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"
)

// fakeProxy plays the proxy's side of a client connection the way
// proxy/pgserver does: startup (refusing SSL and GSS encryption), ServerAuth,
// the greeting, and a simple-query loop that knows only "SELECT 1".
type fakeProxy struct {
	method string
	users  map[string]string // user -> password
}

func (p fakeProxy) serve(ctx context.Context, conn net.Conn) error {
	r := NewReader(conn, 0)
	w := NewWriter(conn)
	var sm *pgproto3.StartupMessage
	for sm == nil {
		msg, err := r.ReadStartup()
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			if _, err := conn.Write([]byte{'N'}); err != nil {
				return err
			}
		case *pgproto3.StartupMessage:
			sm = m
		default:
			return fmt.Errorf("unexpected %T", msg)
		}
	}
	user := sm.Parameters["user"]
	password, known := p.users[user]
	if err := ServerAuth(ctx, r, w, p.method, user, password, known); err != nil {
		return err
	}
	for _, ps := range [][2]string{
		{"server_version", "15.0 (shardgate test)"}, {"server_encoding", "UTF8"}, {"client_encoding", "UTF8"},
		{"DateStyle", "ISO, MDY"}, {"integer_datetimes", "on"}, {"standard_conforming_strings", "on"},
	} {
		_ = w.Send(&pgproto3.ParameterStatus{Name: ps[0], Value: ps[1]})
	}
	_ = w.Send(&pgproto3.BackendKeyData{ProcessID: 4242, SecretKey: 77})
	if err := sendFlush(w, &pgproto3.ReadyForQuery{TxStatus: 'I'}); err != nil {
		return err
	}
	for {
		typ, body, err := r.ReadRaw()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		msg, err := DecodeFrontend(typ, body)
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.Terminate:
			return nil
		case *pgproto3.Query:
			if strings.TrimRight(strings.TrimSpace(m.String), ";") == "SELECT 1" {
				_ = w.Send(&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{
					Name: []byte("?column?"), DataTypeOID: 23, DataTypeSize: 4, TypeModifier: -1,
				}}})
				_ = w.Send(&pgproto3.DataRow{Values: [][]byte{[]byte("1")}})
				_ = w.Send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")})
			} else {
				_ = w.Send(ErrorResponse("ERROR", CodeFeatureUnsupported, "the test server only knows SELECT 1"))
			}
			if err := sendFlush(w, &pgproto3.ReadyForQuery{TxStatus: 'I'}); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected %T", msg)
		}
	}
}

// selectOne runs "SELECT 1" over a logged-in backend connection and
// checks the answer.
func selectOne(t *testing.T, r *Reader, w *Writer) {
	t.Helper()
	if err := sendFlush(w, &pgproto3.Query{String: "SELECT 1"}); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for {
		typ, body, err := r.ReadRaw()
		if err != nil {
			t.Fatal(err)
		}
		msg, err := DecodeBackend(typ, body)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, typ)
		switch m := msg.(type) {
		case *pgproto3.DataRow:
			if len(m.Values) != 1 || string(m.Values[0]) != "1" {
				t.Fatalf("row %q, want [1]", m.Values)
			}
		case *pgproto3.CommandComplete:
			if string(m.CommandTag) != "SELECT 1" {
				t.Fatalf("command tag %q", m.CommandTag)
			}
		case *pgproto3.ErrorResponse:
			t.Fatalf("SELECT 1: %v", NewPgError(m))
		case *pgproto3.ReadyForQuery:
			if string(got) != "TDCZ" {
				t.Fatalf("messages %q, want TDCZ", got)
			}
			return
		}
	}
}

// TestServerAuthWithBackendLogin runs our two halves against each other:
// ServerAuth as the proxy facing a client, BackendLogin as that client.
func TestServerAuthWithBackendLogin(t *testing.T) {
	users := map[string]string{"app": "app-secret", "nopw": ""}
	failed := func(user string) string { return `password authentication failed for user "` + user + `"` }
	tests := []struct {
		method, user, password string
		wantFail               bool
	}{
		{AuthSCRAM, "app", "app-secret", false},
		{AuthSCRAM, "app", "wrong", true},
		{AuthSCRAM, "ghost", "app-secret", true},
		{AuthSCRAM, "nopw", "", true},
		{"", "app", "app-secret", false},
		{AuthMD5, "app", "app-secret", false},
		{AuthMD5, "app", "wrong", true},
		{AuthMD5, "ghost", "app-secret", true},
		{AuthTrust, "app", "anything", false},
		{AuthTrust, "ghost", "", true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/%s", tt.method, tt.user, tt.password), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			cli, srv := net.Pipe()
			defer cli.Close()
			errc := make(chan error, 1)
			go func() {
				defer srv.Close()
				errc <- fakeProxy{method: tt.method, users: users}.serve(ctx, srv)
			}()
			sess, r, w, err := BackendLogin(ctx, cli, tt.user, tt.password, "shop", map[string]string{"application_name": "t"})
			if tt.wantFail {
				var pe *PgError
				if !errors.As(err, &pe) || pe.Code != CodeInvalidPassword || pe.Severity != "FATAL" || pe.Message != failed(tt.user) {
					t.Fatalf("login err = %#v, want FATAL 28P01 %q", err, failed(tt.user))
				}
				if serr := <-errc; !errors.Is(serr, ErrAuthFailed) {
					t.Fatalf("server err = %v, want ErrAuthFailed", serr)
				}
				return
			}
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			if sess.PID != 4242 || sess.Secret != 77 || sess.TxStatus != 'I' || sess.Params["server_version"] == "" {
				t.Fatalf("session %+v", sess)
			}
			selectOne(t, r, w)
			if err := sendFlush(w, &pgproto3.Terminate{}); err != nil {
				t.Fatal(err)
			}
			if serr := <-errc; serr != nil {
				t.Fatalf("server: %v", serr)
			}
		})
	}
}

// rawClient is a hand-driven client for the exchanges BackendLogin would
// never produce.
func rawClient(t *testing.T, method string, script func(r *Reader, w *Writer)) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	cli, srv := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer cli.Close()
		r, w := NewReader(cli, 0), NewWriter(cli)
		r.SetPhase(PhaseBackend)
		script(r, w)
	}()
	err := ServerAuth(ctx, NewReader(srv, 0), NewWriter(srv), method, "app", "app-secret", true)
	srv.Close()
	<-done
	return err
}

// expectError reads up to an ErrorResponse and checks its code.
func expectError(t *testing.T, r *Reader, code string) {
	for {
		typ, body, err := r.ReadRaw()
		if err != nil {
			t.Errorf("no ErrorResponse %s: %v", code, err)
			return
		}
		if typ == 'E' {
			m, _ := DecodeBackend(typ, body)
			if e := m.(*pgproto3.ErrorResponse); e.Code != code || e.Severity != "FATAL" {
				t.Errorf("error %s %s %q, want FATAL %s", e.Severity, e.Code, e.Message, code)
			}
			return
		}
	}
}

func TestServerAuthRefuses(t *testing.T) {
	sendSASL := func(w *Writer, mech, data string) {
		_ = sendFlush(w, &pgproto3.SASLInitialResponse{AuthMechanism: mech, Data: []byte(data)})
	}
	tests := []struct {
		name    string
		method  string
		script  func(t *testing.T, r *Reader, w *Writer)
		wantErr error
	}{
		{"channel binding required", AuthSCRAM, func(t *testing.T, r *Reader, w *Writer) {
			_, _, _ = r.ReadRaw() // the authentication request
			sendSASL(w, ScramMechanism, "p=tls-server-end-point,,n=,r=abc")
			expectError(t, r, CodeFeatureUnsupported)
		}, ErrUnsupported},
		{"PLUS mechanism not offered", AuthSCRAM, func(t *testing.T, r *Reader, w *Writer) {
			_, _, _ = r.ReadRaw() // the authentication request
			sendSASL(w, "SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,n=,r=abc")
			expectError(t, r, CodeProtocolViolation)
		}, ErrProtocol},
		{"query instead of password", AuthSCRAM, func(t *testing.T, r *Reader, w *Writer) {
			_, _, _ = r.ReadRaw() // the authentication request
			_ = sendFlush(w, &pgproto3.Query{String: "SELECT 1"})
			expectError(t, r, CodeProtocolViolation)
		}, ErrProtocol},
		{"malformed md5 answer", AuthMD5, func(t *testing.T, r *Reader, w *Writer) {
			_, _, _ = r.ReadRaw() // the authentication request
			_ = w.WriteRaw('p', []byte("no terminator"))
			_ = w.Flush()
			expectError(t, r, CodeProtocolViolation)
		}, ErrProtocol},
		{"hang up (libpq without a password)", AuthSCRAM, func(t *testing.T, r *Reader, w *Writer) {
			_, _, _ = r.ReadRaw()
		}, io.EOF},
		{"terminate", AuthMD5, func(t *testing.T, r *Reader, w *Writer) {
			_, _, _ = r.ReadRaw()
			_ = sendFlush(w, &pgproto3.Terminate{})
		}, io.EOF},
		{"silent client runs into ctx deadline", AuthSCRAM, func(t *testing.T, r *Reader, w *Writer) {
			_, _, _ = r.ReadRaw() // the SASL request
			_, _, _ = r.ReadRaw() // returns when the server gives up and closes
		}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := rawClient(t, tt.method, func(r *Reader, w *Writer) { tt.script(t, r, w) })
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	t.Run("unknown method", func(t *testing.T) {
		err := ServerAuth(t.Context(), NewReader(strings.NewReader(""), 0), NewWriter(io.Discard), "ldap", "u", "p", true)
		if !errors.Is(err, ErrUnsupported) {
			t.Fatalf("err = %v", err)
		}
	})
}
