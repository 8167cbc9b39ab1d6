package localcluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// CAFile is the PEM file of the CA that signed the servers' certificate
// (Options.TLS), for clients that verify it.
func (c *Cluster) CAFile() string { return filepath.Join(c.Dir, "ca.pem") }

// serverCert and serverKey are the servers' certificate (for 127.0.0.1
// and localhost) and key, shared by every node.
func (c *Cluster) serverCert() string { return filepath.Join(c.Dir, "server.crt") }
func (c *Cluster) serverKey() string  { return filepath.Join(c.Dir, "server.key") }

// writeTLS makes a CA and a server certificate signed by it (Options.TLS).
// The key belongs to the servers' OS user: PostgreSQL insists.
func (c *Cluster) writeTLS() error {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "shardgate localcluster CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	files := []struct {
		path  string
		block *pem.Block
		mode  os.FileMode
	}{
		{c.CAFile(), &pem.Block{Type: "CERTIFICATE", Bytes: caDER}, 0o644},
		{c.serverCert(), &pem.Block{Type: "CERTIFICATE", Bytes: der}, 0o644},
		{c.serverKey(), &pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}, 0o600},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, pem.EncodeToMemory(f.block), f.mode); err != nil {
			return fmt.Errorf("localcluster: %w", err)
		}
		if cred := c.cred; cred != nil {
			if err := os.Chown(f.path, int(cred.Uid), int(cred.Gid)); err != nil {
				return fmt.Errorf("localcluster: %w", err)
			}
		}
	}
	return nil
}
