package pgwire

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// ScramClient is the proxy's side of a SCRAM exchange with a PostgreSQL
// server: First, Final, Verify, once each, in that order.
type ScramClient struct {
	user, password string
	clientNonce    string

	step            int // 0: First, 1: Final, 2: Verify, 3: done
	clientFirstBare string
	serverSignature []byte
}

// NewScramClient prepares an exchange with a fresh random nonce.
func NewScramClient(user, password string) *ScramClient {
	return newScramClient(user, password, randomNonce())
}

func newScramClient(user, password, nonce string) *ScramClient {
	return &ScramClient{user: user, password: password, clientNonce: nonce}
}

// First returns client-first-message ("n,," and no channel binding). The
// user name is sent for the record; PostgreSQL uses the startup packet's.
func (c *ScramClient) First() []byte {
	c.clientFirstBare = "n=" + scramEscape(c.user) + ",r=" + c.clientNonce
	c.step = 1
	return []byte("n,," + c.clientFirstBare)
}

// Final takes server-first-message and returns client-final-message. It
// refuses a nonce that does not extend ours and iteration counts above
// one million.
func (c *ScramClient) Final(serverFirst []byte) ([]byte, error) {
	if c.step != 1 {
		return nil, fmt.Errorf("%w: SCRAM server-first-message out of order", ErrProtocol)
	}
	c.step = 3
	attrs, err := scramAttrs(string(serverFirst))
	if err != nil {
		return nil, err
	}
	if len(attrs) < 3 || attrs[0].k != 'r' || attrs[1].k != 's' || attrs[2].k != 'i' {
		return nil, fmt.Errorf("%w: malformed SCRAM server-first-message", ErrProtocol)
	}
	nonce := attrs[0].v
	if len(nonce) <= len(c.clientNonce) || !strings.HasPrefix(nonce, c.clientNonce) || !validNonce(nonce) {
		return nil, fmt.Errorf("%w: SCRAM server nonce does not extend the client's", ErrProtocol)
	}
	salt, err := base64.StdEncoding.Strict().DecodeString(attrs[1].v)
	if err != nil || len(salt) == 0 {
		return nil, fmt.Errorf("%w: malformed SCRAM salt", ErrProtocol)
	}
	iterations, err := strconv.Atoi(attrs[2].v)
	if err != nil || iterations < 1 {
		return nil, fmt.Errorf("%w: malformed SCRAM iteration count %q", ErrProtocol, truncate(attrs[2].v, 16))
	}
	if iterations > maxScramIterations {
		return nil, fmt.Errorf("%w: SCRAM iteration count %d (limit %d)", ErrUnsupported, iterations, maxScramIterations)
	}
	salted, err := saltedPassword(c.password, salt, iterations)
	if err != nil {
		return nil, err
	}
	withoutProof := "c=" + base64.StdEncoding.EncodeToString([]byte("n,,")) + ",r=" + nonce
	authMessage := c.clientFirstBare + "," + string(serverFirst) + "," + withoutProof
	clientKey := hmacSum(salted, "Client Key")
	proof := make([]byte, sha256.Size)
	subtle.XORBytes(proof, clientKey, hmacSum(sha256Sum(clientKey), authMessage))
	c.serverSignature = hmacSum(hmacSum(salted, "Server Key"), authMessage)
	c.step = 2
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// Verify checks server-final-message. A server that cannot produce the
// signature does not know the password (it may be an impostor that would
// accept any proof), so it fails with ErrAuthFailed even if it is about
// to say AuthenticationOk.
func (c *ScramClient) Verify(serverFinal []byte) error {
	if c.step != 2 {
		return fmt.Errorf("%w: SCRAM server-final-message out of order", ErrProtocol)
	}
	c.step = 3
	attrs, err := scramAttrs(string(serverFinal))
	if err != nil {
		return err
	}
	switch attrs[0].k {
	case 'e':
		return fmt.Errorf("%w: server reported SCRAM error %q", ErrAuthFailed, truncate(attrs[0].v, 64))
	case 'v':
		sig, err := base64.StdEncoding.Strict().DecodeString(attrs[0].v)
		if err != nil || !hmac.Equal(sig, c.serverSignature) {
			return fmt.Errorf("%w: the server's SCRAM signature is wrong: it does not know the password", ErrAuthFailed)
		}
		return nil
	}
	return fmt.Errorf("%w: malformed SCRAM server-final-message", ErrProtocol)
}

// scramEscape encodes a SCRAM saslname: ',' and '=' are escaped.
func scramEscape(s string) string {
	if !strings.ContainsAny(s, ",=") {
		return s
	}
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}
