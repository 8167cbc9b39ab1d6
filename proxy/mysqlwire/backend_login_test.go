package mysqlwire

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// greeting is a HandshakeV10 from a server whose default plugin is plugin.
func greeting(plugin string, nonce []byte) []byte {
	caps := uint32(backendCaps | ClientConnectWithDB | ClientPluginAuthLenencData)
	p := []byte{10}
	p = append(p, "8.0.36\x00"...)
	p = append(p, 9, 0, 0, 0)
	p = append(p, nonce[:8]...)
	p = append(p, 0, byte(caps), byte(caps>>8), 45, 2, 0, byte(caps>>16), byte(caps>>24), 21)
	p = append(p, make([]byte, 10)...)
	p = append(p, nonce[8:]...)
	p = append(p, 0)
	return append(append(p, plugin...), 0)
}

// scriptedLogin runs DialBackend against a server that plays script on
// its side of the connection.
func scriptedLogin(t *testing.T, script func(c *Conn) error) (*Backend, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		done <- script(NewConn(nc))
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	b, err := DialBackend(ctx, BackendConfig{Addr: ln.Addr().String(), User: "u", Password: "pw", Database: "db"})
	if serr := <-done; serr != nil {
		t.Fatalf("server script: %v", serr)
	}
	return b, err
}

// send writes one packet and flushes.
func send(c *Conn, p []byte) error {
	if err := c.WritePacket(p); err != nil {
		return err
	}
	return c.Flush()
}

func TestBackendLoginScripted(t *testing.T) {
	nonce := []byte("abcdefghijklmnopqrst")
	nonce2 := []byte("ABCDEFGHIJKLMNOPQRST")
	for _, tc := range []struct {
		name    string
		script  func(c *Conn) error
		wantErr func(error) bool
	}{
		{
			name: "auth switch to native",
			script: func(c *Conn) error {
				_ = send(c, greeting(AuthCachingSha2Password, nonce))
				resp, err := c.ReadPacket()
				if err != nil {
					return err
				}
				if !strings.Contains(string(resp), "db\x00"+AuthCachingSha2Password) {
					return errors.New("response lacks database or plugin")
				}
				_ = send(c, append(append([]byte{0xfe}, AuthNativePassword+"\x00"...), append(nonce2, 0)...))
				p, err := c.ReadPacket()
				if err != nil {
					return err
				}
				if string(p) != string(nativeScramble("pw", nonce2)) {
					return errors.New("wrong native scramble after the switch")
				}
				return send(c, AppendOK(nil, OK{Status: StatusAutocommit}))
			},
			wantErr: func(err error) bool { return err == nil },
		},
		{
			name: "switch to an unknown plugin",
			script: func(c *Conn) error {
				_ = send(c, greeting(AuthNativePassword, nonce))
				if _, err := c.ReadPacket(); err != nil {
					return err
				}
				return send(c, append([]byte{0xfe}, "client_ed25519\x00xyz"...))
			},
			wantErr: func(err error) bool { return errors.Is(err, ErrUnsupported) },
		},
		{
			name: "refused at the greeting",
			script: func(c *Conn) error {
				return send(c, AppendError(nil, &Error{Code: 1040, State: "08004", Message: "Too many connections"}))
			},
			wantErr: func(err error) bool { var e *Error; return errors.As(err, &e) && e.Code == 1040 },
		},
		{
			name: "unknown greeting plugin: native answer",
			script: func(c *Conn) error {
				_ = send(c, greeting("dialog", nonce))
				resp, err := c.ReadPacket()
				if err != nil {
					return err
				}
				if !strings.Contains(string(resp), string(nativeScramble("pw", nonce))) {
					return errors.New("no native scramble")
				}
				return send(c, AppendOK(nil, OK{}))
			},
			wantErr: func(err error) bool { return err == nil },
		},
		{
			name: "not a greeting",
			script: func(c *Conn) error {
				return send(c, []byte{9, 'x'})
			},
			wantErr: func(err error) bool { return errors.Is(err, ErrUnsupported) },
		},
		{
			name: "server hangs up",
			script: func(c *Conn) error {
				return send(c, greeting(AuthNativePassword, nonce))
				// and closes when the script returns
			},
			wantErr: func(err error) bool { return err != nil },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := scriptedLogin(t, tc.script)
			if !tc.wantErr(err) {
				t.Fatalf("err = %v", err)
			}
			if b != nil {
				b.Conn.Close()
			}
		})
	}
}

// The scrambles' correctness is proven by real logins (MariaDB for
// native, go-mysql's server for caching_sha2); these are the edges.
func TestScrambles(t *testing.T) {
	if nativeScramble("", []byte("x")) != nil || sha2Scramble("", []byte("x")) != nil {
		t.Fatal("an empty password must answer with nothing")
	}
	nonce := []byte("01234567890123456789")
	if n := nativeScramble("secret", nonce); len(n) != 20 {
		t.Fatalf("native scramble of %d bytes", len(n))
	}
	if s := sha2Scramble("secret", nonce); len(s) != 32 {
		t.Fatalf("sha2 scramble of %d bytes", len(s))
	}
	if _, err := scrambleFor("sha256_password", "x", nonce); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("sha256_password: %v", err)
	}
	if _, err := rsaEncryptPassword("x", nonce, []byte("not pem")); !errors.Is(err, ErrProtocol) {
		t.Fatalf("bad PEM: %v", err)
	}
}
