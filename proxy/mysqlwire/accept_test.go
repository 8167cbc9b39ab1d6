package mysqlwire

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// users is a mutable user table for an AcceptConfig.
type users struct {
	mu sync.Mutex
	pw map[string]string
}

func (u *users) get(name string) (string, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	pw, ok := u.pw[name]
	return pw, ok
}

func (u *users) set(name, pw string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.pw[name] = pw
}

func acceptConfig(method string, u *users) AcceptConfig {
	return AcceptConfig{
		Password:      u.get,
		KnownDatabase: func(db string) bool { return db == "shop" },
		AuthMethod:    method,
	}
}

// openDB connects with go-sql-driver and pings (one connection).
func openDB(t *testing.T, addr, user, pw, db, params string) error {
	t.Helper()
	dsn := fmt.Sprintf("%s:%s@tcp(%s)/%s?timeout=5s&%s", user, pw, addr, db, params)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sdb := sql.OpenDB(conn)
	defer sdb.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := sdb.PingContext(ctx); err != nil {
		return err
	}
	var one int
	return sdb.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

func mysqlErrNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// Logins with go-sql-driver for each auth method, plain and TLS, then
// the failures, with what the server side saw.
func TestAcceptGoSQLDriver(t *testing.T) {
	tlsCfg := selfSignedTLS(t)
	for _, method := range []string{AuthNativePassword, AuthCachingSha2Password} {
		t.Run(method, func(t *testing.T) {
			u := &users{pw: map[string]string{"app": "s3cret", "empty": ""}}
			cfg := acceptConfig(method, u)
			cfg.TLS = tlsCfg
			s := startTestServer(t, cfg)

			for _, tc := range []struct {
				name, user, pw, db, params string
				wantTLS                    bool
				wantErr                    uint16
				wantMulti                  bool
			}{
				{name: "plain", user: "app", pw: "s3cret", db: "shop", params: "tls=false"},
				{name: "plain again (sha2 fast path)", user: "app", pw: "s3cret", db: "shop", params: "tls=false"},
				{name: "no database", user: "app", pw: "s3cret", params: "tls=false"},
				{name: "multi statements", user: "app", pw: "s3cret", db: "shop", params: "tls=false&multiStatements=true", wantMulti: true},
				{name: "tls", user: "app", pw: "s3cret", db: "shop", params: "tls=skip-verify", wantTLS: true},
				{name: "empty password", user: "empty", pw: "", db: "shop", params: "tls=false"},
				{name: "wrong password", user: "app", pw: "nope", db: "shop", params: "tls=false", wantErr: 1045},
				{name: "wrong password tls", user: "app", pw: "nope", db: "shop", params: "tls=skip-verify", wantErr: 1045},
				{name: "unknown user", user: "ghost", pw: "s3cret", db: "shop", params: "tls=false", wantErr: 1045},
				{name: "no password given", user: "app", pw: "", db: "shop", params: "tls=false", wantErr: 1045},
				{name: "unknown database", user: "app", pw: "s3cret", db: "nowhere", params: "tls=false", wantErr: 1049},
			} {
				t.Run(tc.name, func(t *testing.T) {
					err := openDB(t, s.addr, tc.user, tc.pw, tc.db, tc.params)
					if tc.wantErr != 0 {
						var me *mysql.MySQLError
						wantState := map[uint16]string{1045: "28000", 1049: "42000"}[tc.wantErr]
						if !errors.As(err, &me) || me.Number != tc.wantErr || string(me.SQLState[:]) != wantState {
							t.Fatalf("err = %v, want MySQL error %d (%s)", err, tc.wantErr, wantState)
						}
						waitFor(t, func() bool { return s.lastErr() != nil })
						var e *Error
						if !errors.As(s.lastErr(), &e) || e.Code != tc.wantErr {
							t.Fatalf("Accept error %v, want *Error %d", s.lastErr(), tc.wantErr)
						}
						s.mu.Lock()
						s.errs = nil
						s.mu.Unlock()
						return
					}
					if err != nil {
						t.Fatalf("login: %v", err)
					}
					cl := s.lastClient()
					_, isTLS := cl.NetConn().(*tls.Conn)
					if cl.User != tc.user || cl.Database != tc.db || isTLS != tc.wantTLS || cl.ConnectionID == 0 || cl.Collation != 45 {
						t.Fatalf("client %+v tls=%v", cl, isTLS)
					}
					if got := cl.Capabilities&ClientMultiStatements != 0; got != tc.wantMulti {
						t.Errorf("CLIENT_MULTI_STATEMENTS sent = %v, want %v", got, tc.wantMulti)
					}
					if s.acc.ServerCapabilities()&ClientMultiStatements != 0 {
						t.Error("go-mysql now offers CLIENT_MULTI_STATEMENTS: revisit the session's handling")
					}
					if cl.Capabilities&ClientDeprecateEOF != 0 {
						t.Error("go-sql-driver sent CLIENT_DEPRECATE_EOF")
					}
				})
			}
		})
	}
}

// caching_sha2_password: a first login does the full authentication
// (RSA key exchange without TLS), the next one the fast path; after a
// password change the old password no longer passes the fast path.
func TestAcceptSha2CacheAndPasswordChange(t *testing.T) {
	u := &users{pw: map[string]string{"app": "old-pw"}}
	s := startTestServer(t, acceptConfig(AuthCachingSha2Password, u))
	sentPubKey := func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return bytes.Contains(s.wrote[len(s.wrote)-1].Bytes(), []byte("BEGIN PUBLIC KEY"))
	}
	steps := []struct {
		name, pw   string
		setPw      string
		wantErr    uint16
		wantPubKey bool
	}{
		{name: "first login: full auth", pw: "old-pw", wantPubKey: true},
		{name: "second login: fast path", pw: "old-pw", wantPubKey: false},
		{name: "old password after change", setPw: "new-pw", pw: "old-pw", wantErr: 1045},
		{name: "new password: full auth", pw: "new-pw", wantPubKey: true},
		{name: "new password: fast path", pw: "new-pw", wantPubKey: false},
	}
	for _, st := range steps {
		if st.setPw != "" {
			u.set("app", st.setPw)
		}
		err := openDB(t, s.addr, "app", st.pw, "shop", "tls=false")
		if st.wantErr != 0 {
			if mysqlErrNumber(err) != st.wantErr {
				t.Fatalf("%s: err = %v, want %d", st.name, err, st.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := sentPubKey(); got != st.wantPubKey {
			t.Fatalf("%s: public key sent = %v, want %v", st.name, got, st.wantPubKey)
		}
	}
}

// A client that sends its first command in the same write as its
// handshake response loses nothing: go-mysql's read buffer must not have
// swallowed it.
func TestAcceptPipelinedCommand(t *testing.T) {
	s := startTestServer(t, acceptConfig(AuthNativePassword, &users{pw: map[string]string{"app": "pw"}}))
	nc, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	c := NewConn(nc)
	p, err := c.ReadPacket()
	if err != nil {
		t.Fatal(err)
	}
	h, err := parseHandshakeV10(p)
	if err != nil || h.plugin != AuthNativePassword {
		t.Fatalf("greeting %+v, %v", h, err)
	}
	caps := backendCaps | ClientConnectWithDB | ClientPluginAuthLenencData
	_ = c.WritePacket(appendHandshakeResponse(nil, caps, 45, "app", nativeScramble("pw", h.nonce), "shop", AuthNativePassword))
	c.ResetSequence()
	_ = c.WritePacket([]byte{ComPing})
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	for i, what := range []string{"login OK", "ping OK"} {
		p, err := c.ReadPacket()
		if err != nil || !IsOK(p) {
			t.Fatalf("packet %d (%s): % x, %v", i, what, p, err)
		}
	}
}

// After login, an empty command packet gets an ERR and the connection
// goes on; DialBackend is the client (both auth methods, plain and TLS).
func TestAcceptEmptyCommandAndDialBackend(t *testing.T) {
	for _, method := range []string{AuthNativePassword, AuthCachingSha2Password} {
		t.Run(method, func(t *testing.T) {
			s := startTestServer(t, acceptConfig(method, &users{pw: map[string]string{"app": "pw"}}))
			for range 2 { // caching_sha2: full auth, then fast path
				b, err := DialBackend(t.Context(), BackendConfig{Addr: s.addr, User: "app", Password: "pw", Database: "shop"})
				if err != nil {
					t.Fatal(err)
				}
				if b.Capabilities&(ClientDeprecateEOF|ClientMultiStatements|ClientFoundRows) != 0 || b.Status&StatusAutocommit == 0 {
					t.Fatalf("backend caps 0x%08x status 0x%x", b.Capabilities, b.Status)
				}
				b.ResetSequence()
				_ = b.WritePacket(nil)
				_ = b.Flush()
				p, err := b.ReadPacket()
				if err != nil || !IsErr(p) || ParseError(p).Code != ErUnknownCommand {
					t.Fatalf("empty command: % x, %v", p, err)
				}
				if _, err := b.Simple("SELECT 1"); err != nil {
					t.Fatalf("after empty command: %v", err)
				}
				b.Close()
			}
			_, err := DialBackend(t.Context(), BackendConfig{Addr: s.addr, User: "app", Password: "bad", Database: "shop"})
			var e *Error
			if !errors.As(err, &e) || e.Code != ErAccessDenied || e.State != "28000" ||
				!strings.Contains(e.Message, "'app'@'127.0.0.1'") {
				t.Fatalf("wrong password: %v", err)
			}
		})
	}
}

// Hostile handshakes end in an error, never a panic, and quickly.
func TestAcceptMalformedHandshake(t *testing.T) {
	s := startTestServer(t, acceptConfig(AuthNativePassword, &users{pw: map[string]string{"app": "pw"}}))
	for _, tc := range []struct {
		name string
		raw  []byte
	}{
		{"oversized header", []byte{0xff, 0xff, 0xff, 1}},
		{"tiny response", []byte{2, 0, 0, 1, 0, 2}},
		{"truncated attributes", packet(1, handshakeWithAttrs([]byte{0xfc, 1}))},
		{"attributes past the end", packet(1, handshakeWithAttrs([]byte{0x20, 1, 'k'}))},
		{"garbage", bytes.Repeat([]byte{0xab}, 100)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
			c := NewConn(nc)
			if _, err := c.ReadPacket(); err != nil {
				t.Fatal(err)
			}
			_, _ = nc.Write(tc.raw)
			// The server answers with an ERR or just closes; either way
			// the connection ends.
			for {
				if _, err := c.ReadPacket(); err != nil {
					break
				}
			}
			waitFor(t, func() bool { return s.lastErr() != nil })
			t.Logf("Accept: %v", s.lastErr())
			s.mu.Lock()
			s.errs = nil
			s.mu.Unlock()
		})
	}
}

// packet frames payload with sequence id seq.
func packet(seq byte, payload []byte) []byte {
	n := len(payload)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}, payload...)
}

// handshakeWithAttrs is a native-password handshake response for user
// "app" (wrong scramble) whose connection attributes are attrs.
func handshakeWithAttrs(attrs []byte) []byte {
	caps := ClientProtocol41 | ClientSecureConnection | ClientPluginAuth | ClientConnectAttrs | ClientPluginAuthLenencData
	p := appendHandshakeResponse(nil, caps, 45, "app", make([]byte, 20), "", AuthNativePassword)
	return append(p, attrs...)
}

// A client that says nothing is dropped after HandshakeTimeout.
func TestAcceptHandshakeTimeout(t *testing.T) {
	cfg := acceptConfig(AuthNativePassword, &users{pw: map[string]string{}})
	cfg.HandshakeTimeout = 100 * time.Millisecond
	s := startTestServer(t, cfg)
	nc, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	waitFor(t, func() bool { return s.lastErr() != nil })
	if err := s.lastErr(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Accept: %v, want os.ErrDeadlineExceeded", err)
	}
}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
