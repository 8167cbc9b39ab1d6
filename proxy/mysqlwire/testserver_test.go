package mysqlwire

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

// testServer accepts clients with an Acceptor on a loopback listener and
// answers a minimal command set (see serve), recording what it saw.
type testServer struct {
	t    *testing.T
	acc  *Acceptor
	addr string

	mu       sync.Mutex
	clients  []*Client
	errs     []error // Accept failures
	queries  []string
	executes []StmtExecute
	wrote    []*bytes.Buffer // per connection: what the handshake wrote
}

func startTestServer(t *testing.T, cfg AcceptConfig) *testServer {
	t.Helper()
	acc, err := NewAcceptor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, acc: acc, addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.handle(nc) })
		}
	})
	return s
}

func (s *testServer) handle(nc net.Conn) {
	rec := &recordConn{Conn: nc}
	cl, err := s.acc.Accept(rec)
	s.mu.Lock()
	s.wrote = append(s.wrote, &rec.wrote)
	if err != nil {
		s.errs = append(s.errs, err)
		s.mu.Unlock()
		return
	}
	s.clients = append(s.clients, cl)
	s.mu.Unlock()
	rec.stop()
	defer cl.Close()
	if err := s.serve(cl); err != nil && !errors.Is(err, net.ErrClosed) {
		s.t.Logf("test server: %v", err)
	}
}

// serve answers COM_QUERY with a one-row result "1", COM_PING and
// COM_INIT_DB with OK, COM_STMT_PREPARE with as many parameters as the
// query has '?', COM_STMT_EXECUTE (decoded and recorded) with OK, and
// anything else with ERR 1047.
func (s *testServer) serve(cl *Client) error {
	types := map[uint32][]uint16{}
	params := map[uint32]int{}
	var out []byte
	var nextID uint32
	for {
		p, err := cl.ReadPacket()
		if err != nil {
			return nil // the client hung up
		}
		out = out[:0]
		var cmd byte
		if len(p) > 0 {
			cmd = p[0]
		}
		switch {
		case len(p) > 0 && cmd == ComQuit:
			return nil
		case len(p) > 0 && (cmd == ComPing || cmd == ComInitDB):
			err = cl.WritePacket(AppendOK(out, OK{Status: StatusAutocommit}))
		case len(p) > 0 && cmd == ComQuery:
			s.mu.Lock()
			s.queries = append(s.queries, string(p[1:]))
			s.mu.Unlock()
			err = writeResult(cl.Conn, []Column{{Name: "1", Type: TypeLongLong, Charset: 63, Length: 1, Flags: FlagNotNull | FlagBinary}},
				[][][]byte{{[]byte("1")}})
		case len(p) > 0 && cmd == ComStmtPrepare:
			nextID++
			n := bytes.Count(p[1:], []byte("?"))
			params[nextID] = n
			if err = cl.WritePacket(AppendPrepareOK(out, PrepareOK{StatementID: nextID, Params: uint16(n)})); err == nil && n > 0 {
				for range n {
					_ = cl.WritePacket(AppendColumn(nil, Column{Name: "?", Type: TypeVarString, Charset: 63}))
				}
				err = cl.WritePacket(AppendEOF(nil, 0, StatusAutocommit))
			}
		case len(p) > 0 && cmd == ComStmtExecute && len(p) >= 5:
			id := uint32(p[1]) | uint32(p[2])<<8 | uint32(p[3])<<16 | uint32(p[4])<<24
			ex, perr := ParseStmtExecute(p, params[id], types[id], nil)
			if perr != nil {
				err = cl.WritePacket(AppendError(out, &Error{Code: ErUnknown, State: "HY000", Message: perr.Error()}))
				break
			}
			types[id] = ex.Types()
			for i := range ex.Params { // the packet buffer is reused
				ex.Params[i].Value = bytes.Clone(ex.Params[i].Value)
			}
			s.mu.Lock()
			s.executes = append(s.executes, ex)
			s.mu.Unlock()
			err = cl.WritePacket(AppendOK(out, OK{Status: StatusAutocommit}))
		case len(p) > 0 && cmd == ComStmtClose:
			continue // no answer
		default:
			err = cl.WritePacket(AppendError(out, &Error{Code: ErUnknownCommand, State: "08S01", Message: "Unknown command"}))
		}
		if err == nil {
			err = cl.Flush()
		}
		if err != nil {
			return err
		}
	}
}

// writeResult writes a text result set (with EOF packets).
func writeResult(c *Conn, cols []Column, rows [][][]byte) error {
	_ = c.WritePacket(AppendLenEncInt(nil, uint64(len(cols))))
	for _, col := range cols {
		_ = c.WritePacket(AppendColumn(nil, col))
	}
	_ = c.WritePacket(AppendEOF(nil, 0, StatusAutocommit))
	for _, r := range rows {
		_ = c.WritePacket(AppendTextRow(nil, r))
	}
	return c.WritePacket(AppendEOF(nil, 0, StatusAutocommit))
}

func (s *testServer) lastClient() *Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.clients) == 0 {
		return nil
	}
	return s.clients[len(s.clients)-1]
}

func (s *testServer) lastErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) == 0 {
		return nil
	}
	return s.errs[len(s.errs)-1]
}

// recordConn keeps a copy of what the server wrote until stop.
type recordConn struct {
	net.Conn
	mu      sync.Mutex
	wrote   bytes.Buffer
	stopped bool
}

func (r *recordConn) Write(p []byte) (int, error) {
	r.mu.Lock()
	if !r.stopped {
		r.wrote.Write(p)
	}
	r.mu.Unlock()
	return r.Conn.Write(p)
}

func (r *recordConn) stop() {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
}

// selfSignedTLS is a server TLS config with a fresh self-signed
// certificate for 127.0.0.1.
func selfSignedTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "shardgate-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}
