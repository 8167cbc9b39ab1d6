package pgwire

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"
)

// fakeBackend runs BackendLogin("app", "pw") against a scripted server
// that has already read the StartupMessage.
func fakeBackend(t *testing.T, ctx context.Context, script func(r *Reader, w *Writer)) (*BackendSession, error) {
	t.Helper()
	cli, srv := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer srv.Close()
		r, w := NewReader(srv, 0), NewWriter(srv)
		msg, err := r.ReadStartup()
		if err != nil {
			t.Errorf("fake backend: %v", err)
			return
		}
		if sm := msg.(*pgproto3.StartupMessage); sm.Parameters["user"] != "app" || sm.Parameters["database"] != "db" ||
			sm.Parameters["application_name"] != "shardgate" {
			t.Errorf("startup parameters %v", sm.Parameters)
		}
		r.SetPhase(PhaseClientAuth)
		script(r, w)
	}()
	sess, _, _, err := BackendLogin(ctx, cli, "app", "pw", "db",
		map[string]string{"application_name": "shardgate", "user": "not me"})
	cli.Close()
	<-done
	return sess, err
}

// scramStart sends the SASL request and returns the client's nonce.
func scramStart(r *Reader, w *Writer, mechs ...string) string {
	if len(mechs) == 0 {
		mechs = []string{ScramMechanism}
	}
	_ = sendFlush(w, &pgproto3.AuthenticationSASL{AuthMechanisms: mechs})
	_, body, err := r.ReadRaw()
	if err != nil {
		return ""
	}
	m, err := DecodeSASLInitialResponse(body)
	if err != nil {
		return ""
	}
	_, nonce, _ := strings.Cut(string(m.Data), ",r=")
	return nonce
}

func ready(w *Writer) {
	_ = w.Send(&pgproto3.AuthenticationOk{})
	_ = w.Send(&pgproto3.ParameterStatus{Name: "server_version", Value: "15"})
	_ = w.Send(&pgproto3.BackendKeyData{ProcessID: 1, SecretKey: 2})
	_ = sendFlush(w, &pgproto3.ReadyForQuery{TxStatus: 'I'})
}

func TestBackendLoginFake(t *testing.T) {
	salt := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	tests := []struct {
		name    string
		script  func(r *Reader, w *Writer)
		wantErr error
		wantPg  string // SQLSTATE of a *PgError
	}{
		{name: "cleartext", script: func(r *Reader, w *Writer) {
			_ = sendFlush(w, &pgproto3.AuthenticationCleartextPassword{})
			_, body, _ := r.ReadRaw()
			if pm, err := DecodePasswordMessage(body); err != nil || pm.Password != "pw" {
				return
			}
			ready(w)
		}},
		{name: "notice during login", script: func(r *Reader, w *Writer) {
			_ = w.Send(&pgproto3.NoticeResponse{Severity: "WARNING", Message: "md5 is deprecated"})
			ready(w)
		}},
		{name: "server error", script: func(r *Reader, w *Writer) {
			_ = sendFlush(w, ErrorResponse("FATAL", "3D000", `database "db" does not exist`))
		}, wantPg: "3D000"},
		{name: "impostor with a wrong signature", script: func(r *Reader, w *Writer) {
			nonce := scramStart(r, w)
			_ = sendFlush(w, &pgproto3.AuthenticationSASLContinue{Data: []byte("r=" + nonce + "srv,s=" + salt + ",i=4096")})
			_, _, _ = r.ReadRaw()
			_ = w.Send(&pgproto3.AuthenticationSASLFinal{Data: []byte("v=" + base64.StdEncoding.EncodeToString(make([]byte, 32)))})
			ready(w)
		}, wantErr: ErrAuthFailed},
		{name: "impostor skipping the signature", script: func(r *Reader, w *Writer) {
			nonce := scramStart(r, w)
			_ = sendFlush(w, &pgproto3.AuthenticationSASLContinue{Data: []byte("r=" + nonce + "srv,s=" + salt + ",i=4096")})
			_, _, _ = r.ReadRaw()
			ready(w)
		}, wantErr: ErrAuthFailed},
		{name: "too many iterations", script: func(r *Reader, w *Writer) {
			nonce := scramStart(r, w)
			_ = sendFlush(w, &pgproto3.AuthenticationSASLContinue{Data: []byte("r=" + nonce + "srv,s=" + salt + ",i=2000000000")})
		}, wantErr: ErrUnsupported},
		{name: "only SCRAM-SHA-256-PLUS", script: func(r *Reader, w *Writer) {
			_ = sendFlush(w, &pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256-PLUS"}})
		}, wantErr: ErrUnsupported},
		{name: "GSSAPI", script: func(r *Reader, w *Writer) {
			_ = sendFlush(w, &pgproto3.AuthenticationGSS{})
		}, wantErr: ErrUnsupported},
		{name: "ready before authentication", script: func(r *Reader, w *Writer) {
			_ = sendFlush(w, &pgproto3.ReadyForQuery{TxStatus: 'I'})
		}, wantErr: ErrProtocol},
		{name: "auth request after ok", script: func(r *Reader, w *Writer) {
			_ = w.Send(&pgproto3.AuthenticationOk{})
			_ = sendFlush(w, &pgproto3.AuthenticationCleartextPassword{})
		}, wantErr: ErrProtocol},
		{name: "row during login", script: func(r *Reader, w *Writer) {
			_ = w.Send(&pgproto3.AuthenticationOk{})
			_ = sendFlush(w, &pgproto3.DataRow{})
		}, wantErr: ErrProtocol},
		{name: "hang up", script: func(r *Reader, w *Writer) {
			_ = w.Send(&pgproto3.AuthenticationOk{})
			_ = w.Flush()
		}, wantErr: io.ErrUnexpectedEOF},
		{name: "silent server", script: func(r *Reader, w *Writer) {
			_, _, _ = r.ReadRaw() // returns when the client gives up and closes
		}, wantErr: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			sess, err := fakeBackend(t, ctx, tt.script)
			switch {
			case tt.wantPg != "":
				var pe *PgError
				if !errors.As(err, &pe) || pe.Code != tt.wantPg {
					t.Fatalf("err = %v, want *PgError %s", err, tt.wantPg)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case sess.Params["server_version"] != "15" || sess.PID != 1 || sess.Secret != 2 || sess.TxStatus != 'I':
				t.Fatalf("session %+v", sess)
			}
		})
	}
}

// Cancelling ctx interrupts a login blocked on a silent server.
func TestBackendLoginCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	_, err := fakeBackend(t, ctx, func(r *Reader, w *Writer) {
		cancel()
		_, _, _ = r.ReadRaw()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// recordingConn remembers the last deadline set on it.
type recordingConn struct {
	net.Conn
	last time.Time
	sets int
}

func (c *recordingConn) SetDeadline(t time.Time) error {
	c.last, c.sets = t, c.sets+1
	return c.Conn.SetDeadline(t)
}

// After a successful login the conn carries no deadline from ctx.
func TestBackendLoginClearsDeadline(t *testing.T) {
	cli, srv := net.Pipe()
	defer cli.Close()
	go func() {
		defer srv.Close()
		r, w := NewReader(srv, 0), NewWriter(srv)
		if _, err := r.ReadStartup(); err != nil {
			return
		}
		ready(w)
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	rc := &recordingConn{Conn: cli}
	if _, _, _, err := BackendLogin(ctx, rc, "app", "pw", "db", nil); err != nil {
		t.Fatal(err)
	}
	if rc.sets < 2 || !rc.last.IsZero() {
		t.Fatalf("%d SetDeadline calls, last %v: want ctx's deadline, then none", rc.sets, rc.last)
	}
}
