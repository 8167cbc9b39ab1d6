package mysqlwire

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// Authentication plugin names.
const (
	AuthNativePassword      = "mysql_native_password"
	AuthCachingSha2Password = "caching_sha2_password"
)

// caching_sha2_password AuthMoreData codes.
const (
	sha2FastAuthOK    = 0x03
	sha2FullAuth      = 0x04
	sha2RequestPubKey = 0x02
	scrambleLen       = 20
)

// nativeScramble is mysql_native_password's answer to a 20-byte nonce:
// SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password))). An empty
// password answers with nothing.
func nativeScramble(password string, nonce []byte) []byte {
	if password == "" {
		return nil
	}
	h1 := sha1.Sum([]byte(password))
	h2 := sha1.Sum(h1[:])
	h := sha1.New()
	h.Write(nonce)
	h.Write(h2[:])
	out := h.Sum(nil)
	for i := range out {
		out[i] ^= h1[i]
	}
	return out
}

// sha2Scramble is caching_sha2_password's fast-path answer:
// SHA256(password) XOR SHA256(SHA256(SHA256(password)) + nonce).
func sha2Scramble(password string, nonce []byte) []byte {
	if password == "" {
		return nil
	}
	h1 := sha256.Sum256([]byte(password))
	h2 := sha256.Sum256(h1[:])
	h := sha256.New()
	h.Write(h2[:])
	h.Write(nonce)
	out := h.Sum(nil)
	for i := range out {
		out[i] ^= h1[i]
	}
	return out
}

// scrambleFor answers nonce for plugin.
func scrambleFor(plugin, password string, nonce []byte) ([]byte, error) {
	switch plugin {
	case AuthNativePassword:
		return nativeScramble(password, nonce), nil
	case AuthCachingSha2Password:
		return sha2Scramble(password, nonce), nil
	}
	return nil, fmt.Errorf("%w: authentication plugin %q", ErrUnsupported, plugin)
}

// rsaEncryptPassword is caching_sha2_password's full authentication over
// a connection without TLS: the NUL-terminated password XOR the nonce
// (repeated), encrypted with the server's public key (RSA-OAEP, SHA-1).
func rsaEncryptPassword(password string, nonce, pubPEM []byte) ([]byte, error) {
	block, _ := pem.Decode(pubPEM)
	if block == nil {
		return nil, fmt.Errorf("%w: server sent no PEM public key", ErrProtocol)
	}
	var pub *rsa.PublicKey
	if k, err := x509.ParsePKIXPublicKey(block.Bytes); err == nil {
		pub, _ = k.(*rsa.PublicKey)
	} else if k, err := x509.ParsePKCS1PublicKey(block.Bytes); err == nil {
		pub = k
	}
	if pub == nil {
		return nil, fmt.Errorf("%w: server public key is not an RSA key", ErrProtocol)
	}
	if len(nonce) == 0 {
		return nil, fmt.Errorf("%w: empty nonce", ErrProtocol)
	}
	plain := make([]byte, len(password)+1)
	copy(plain, password)
	for i := range plain {
		plain[i] ^= nonce[i%len(nonce)]
	}
	return rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, plain, nil)
}
