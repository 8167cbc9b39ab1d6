package pgserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shardgate/shardgate/topology"
)

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
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

// With tls: configured, clients that ask get TLS; others still connect.
func TestProxyTLS(t *testing.T) {
	certFile, keyFile := writeSelfSigned(t)
	f := startFixture(t, func(c *topology.Config) { c.TLS = topology.TLSConfig{Cert: certFile, Key: keyFile} })
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, f.dsn("app", "app-secret")[:len(f.dsn("app", "app-secret"))-len("?sslmode=disable")]+"?sslmode=require")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, ok := conn.PgConn().Conn().(*tls.Conn); !ok {
		t.Errorf("sslmode=require connection is %T, not TLS", conn.PgConn().Conn())
	}
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Errorf("query over TLS: %v", err)
	}
	plain := f.connect(t)
	if _, err := plain.Exec(ctx, "SELECT 1"); err != nil {
		t.Errorf("plain connection next to TLS: %v", err)
	}
}

// Without a certificate, sslmode=require is refused and prefer falls back.
func TestProxyNoTLS(t *testing.T) {
	f := startFixture(t)
	dsn := f.dsn("app", "app-secret")
	base := dsn[:len(dsn)-len("?sslmode=disable")]
	if _, err := pgx.Connect(t.Context(), base+"?sslmode=require"); err == nil {
		t.Error("sslmode=require succeeded without a certificate")
	}
	conn, err := pgx.Connect(t.Context(), base+"?sslmode=prefer")
	if err != nil {
		t.Fatalf("sslmode=prefer: %v", err)
	}
	conn.Close(t.Context())
}
