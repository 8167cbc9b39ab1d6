package myserver

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/topology"
)

// ownerCount is how many rows with this id the shard that owns it has,
// and fails if another shard has any.
func (f *fixture) ownerCount(t *testing.T, table string, id int64) int64 {
	t.Helper()
	var n int64
	for s := range f.cluster.Shards {
		c := queryInt(t, f.shardDB(t, s), "SELECT COUNT(*) FROM "+table+" WHERE id = ?", id)
		if c != 0 && s != f.ownerOf(id) {
			t.Errorf("%s id %d found on shard %d, which does not own it", table, id, s)
		}
		n += c
	}
	return n
}

// TestMultiStatements: with CLIENT_MULTI_STATEMENTS one COM_QUERY carries
// several statements; each is routed on its own, results come back in
// order, and the first error ends the batch with that error.
func TestMultiStatements(t *testing.T) {
	f := startFixture(t, 0)
	db := f.open(t, map[string]string{"multiStatements": "true", "interpolateParams": "true"})
	c := conn(t, db)
	ctx := t.Context()
	ins := func(id int64) string {
		return fmt.Sprintf("INSERT INTO users (id, name, score) VALUES (%d, 'm%d', %d)", id, id, id)
	}
	// Exec: two inserts (on their own shards) and a scatter update.
	if _, err := c.ExecContext(ctx, ins(101)+"; "+ins(102)+";\nUPDATE users SET score = score + 1000 WHERE id IN (101, 102)"); err != nil {
		t.Fatalf("multi-statement Exec: %v", err)
	}
	for _, id := range []int64{101, 102} {
		if n := f.ownerCount(t, "users", id); n != 1 {
			t.Errorf("id %d: %d rows on its shard, want 1", id, n)
		}
		if s := queryInt(t, f.shardDB(t, f.ownerOf(id)), "SELECT score FROM users WHERE id = ?", id); s != id+1000 {
			t.Errorf("id %d: score %d after the batch's UPDATE, want %d", id, s, id+1000)
		}
	}
	// Query: inserts, then a point select and a merged scatter select.
	rows, err := c.QueryContext(ctx, ins(103)+"; "+ins(104)+"; SELECT name FROM users WHERE id = 103; SELECT id FROM users WHERE id BETWEEN 101 AND 104 ORDER BY id DESC")
	if err != nil {
		t.Fatalf("multi-statement Query: %v", err)
	}
	var sets [][]string
	for {
		cols, _ := rows.Columns() // before Next: the last set's end closes rows
		var got []string
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		if len(cols) > 0 {
			sets = append(sets, got)
		}
		if !rows.NextResultSet() {
			break
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("multi-statement Query: %v", err)
	}
	rows.Close()
	if got, want := fmt.Sprint(sets), "[[m103] [104 103 102 101]]"; got != want {
		t.Errorf("result sets of the batch: %s, want %s", got, want)
	}
	if n := f.ownerCount(t, "users", 104); n != 1 {
		t.Errorf("id 104: %d rows, want 1", n)
	}

	// A server's error in the middle: 1062 (duplicate key); the statement
	// after it never runs.
	_, err = c.ExecContext(ctx, ins(105)+"; "+ins(101)+"; "+ins(106))
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1062 {
		t.Errorf("duplicate key in the middle: %v, want 1062", err)
	}
	if n := f.ownerCount(t, "users", 105); n != 1 {
		t.Errorf("statement before the error: %d rows, want 1", n)
	}
	if n := f.ownerCount(t, "users", 106); n != 0 {
		t.Errorf("statement after the error ran: %d rows", n)
	}
	// The proxy's own refusal in the middle (INSERT without the key).
	_, err = c.ExecContext(ctx, ins(107)+"; INSERT INTO users (name) VALUES ('nokey'); "+ins(108))
	if !errors.As(err, &me) || me.Number != erNotSupported {
		t.Errorf("refused statement in the middle: %v, want %d", err, erNotSupported)
	}
	if a, b := f.ownerCount(t, "users", 107), f.ownerCount(t, "users", 108); a != 1 || b != 0 {
		t.Errorf("around the refused statement: %d and %d rows, want 1 and 0", a, b)
	}
	// The session is still in step with the client.
	if got := connRow(t, c, "SELECT COUNT(*) FROM users WHERE id BETWEEN 101 AND 108"); got != "6" {
		t.Errorf("after the failed batches: %s rows, want 6", got)
	}
	// A transaction inside one batch.
	if _, err := c.ExecContext(ctx, "BEGIN; "+ins(109)+"; UPDATE users SET name = 'tx' WHERE id = 109; COMMIT"); err != nil {
		t.Fatalf("transaction in a batch: %v", err)
	}
	if got := connRow(t, c, "SELECT name FROM users WHERE id = 109"); got != "tx" {
		t.Errorf("transaction in a batch: name %q, want tx", got)
	}
}

// writeSelfSigned writes a certificate for 127.0.0.1 and its key.
func writeSelfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "shardgate test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// recordingConn keeps every byte the client writes.
type recordingConn struct {
	net.Conn
	mu     *sync.Mutex
	writes *[][]byte
}

func (c recordingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	*c.writes = append(*c.writes, bytes.Clone(p))
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// TestTLS: a client asking for TLS gets it and logs in with
// caching_sha2_password's full authentication (the password sent inside
// TLS), then the fast path; a client without TLS still logs in.
func TestTLS(t *testing.T) {
	certFile, keyFile := writeSelfSigned(t)
	f := startFixture(t, 0, func(c *topology.Config) { c.TLS = topology.TLSConfig{Cert: certFile, Key: keyFile} })
	var mu sync.Mutex
	var writes [][]byte
	network := "sgtest-record-" + t.Name()
	mysql.RegisterDialContext(network, func(ctx context.Context, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return recordingConn{nc, &mu, &writes}, nil
	})
	for round := range 2 { // full authentication, then the cached fast path
		cfg := mysql.NewConfig()
		cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = "app", "app-secret", network, f.addr, "shop"
		cfg.TLSConfig = "skip-verify"
		cfg.Timeout = 10 * time.Second
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		if n := queryInt(t, db, "SELECT COUNT(*) FROM users"); n != 0 {
			t.Errorf("round %d: query over TLS: %d", round, n)
		}
		db.Close()
	}
	mu.Lock()
	all := bytes.Join(writes, nil)
	tlsRecord := false
	for _, w := range writes {
		tlsRecord = tlsRecord || len(w) > 2 && w[0] == 0x16 && w[1] == 0x03 // TLS handshake record
	}
	mu.Unlock()
	if !tlsRecord {
		t.Error("the client never started a TLS handshake")
	}
	if bytes.Contains(all, []byte("app-secret")) || bytes.Contains(all, []byte("COUNT(*)")) {
		t.Error("password or query text went over the wire in clear")
	}
	// Without TLS: caching_sha2 over the RSA key exchange.
	plain := f.open(t, map[string]string{"tls": "false"})
	if n := queryInt(t, plain, "SELECT 7"); n != 7 {
		t.Errorf("plain connection next to TLS: %d", n)
	}
}
