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
// (Options.PGTLS), for clients that verify it.
func (c *Cluster) CAFile() string { return filepath.Join(c.Dir, "ca.pem") }

// pgWriteTLS writes a CA (to CAFile) and a server certificate for
// 127.0.0.1 signed by it into a primary's data directory; replicas copy
// them with the rest of it.
func (c *Cluster) pgWriteTLS(n *Node) error {
	c.caOnce.Do(func() { c.ca, c.caKey, c.caErr = c.newCA() })
	if c.caErr != nil {
		return c.caErr
	}
	ca, caKey, now := c.ca, c.caKey, time.Now()
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
		{filepath.Join(n.DataDir, "server.crt"), &pem.Block{Type: "CERTIFICATE", Bytes: der}, 0o600},
		{filepath.Join(n.DataDir, "server.key"), &pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}, 0o600},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, pem.EncodeToMemory(f.block), f.mode); err != nil {
			return fmt.Errorf("localcluster: %w", err)
		}
		if cred := c.cred; cred != nil && f.mode == 0o600 {
			if err := os.Chown(f.path, int(cred.Uid), int(cred.Gid)); err != nil {
				return fmt.Errorf("localcluster: %w", err)
			}
		}
	}
	return nil
}

// newCA makes the cluster's CA and writes its certificate to CAFile.
func (c *Cluster) newCA() (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "shardgate localcluster CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(c.CAFile(), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, nil, fmt.Errorf("localcluster: %w", err)
	}
	return ca, key, nil
}
