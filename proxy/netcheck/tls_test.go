//go:build unix

package netcheck

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// Dead sees through TLS: an idle TLS connection is alive until its peer
// closes it.
func TestDeadTLS(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, s := pair(t)
	server := tls.Server(s, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	client := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
	done := make(chan error, 1)
	go func() { done <- server.Handshake() }()
	if err := client.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A round trip, so that whatever the handshake left (session
	// tickets) is read, as on a pooled connection after its login.
	go func() {
		var b [1]byte
		server.Read(b[:])
		server.Write(b[:])
	}()
	client.Write([]byte("x"))
	var b [1]byte
	if _, err := client.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	if Dead(client) {
		t.Fatal("open idle TLS connection reported dead")
	}
	server.Close()
	deadline := time.Now().Add(5 * time.Second)
	for !Dead(client) {
		if time.Now().After(deadline) {
			t.Fatal("closed TLS peer not noticed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
