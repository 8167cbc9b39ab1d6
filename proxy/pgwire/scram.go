package pgwire

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it, without
// channel binding: only "SCRAM-SHA-256" is advertised and a client asking
// for binding ("p=...") is refused.
//
// Passwords are used as given. PostgreSQL runs SASLprep (NFKC) over them
// first, which changes nothing for ASCII; a non-ASCII password that is not
// already in NFKC would not match. SASLprep needs Unicode tables the
// standard library does not carry.

// ScramMechanism is the SASL mechanism name on the wire.
const ScramMechanism = "SCRAM-SHA-256"

// Iteration counts: PostgreSQL's default, and the most a server may ask of
// us (each iteration is an HMAC; a hostile server asking for 2^31 would
// pin a CPU for minutes).
const (
	DefaultScramIterations = 4096
	maxScramIterations     = 1_000_000
)

// Sizes as in PostgreSQL (SCRAM_DEFAULT_SALT_LEN, SCRAM_RAW_NONCE_LEN).
const (
	scramSaltLen  = 16
	scramNonceLen = 18
)

// ScramServer is the proxy's side of one client's SCRAM exchange, built
// from the plain password the topology holds. Use it once.
type ScramServer struct {
	salt       []byte
	iterations int
	storedKey  []byte
	serverKey  []byte
	// nonceSuffix is the server's part of the nonce; tests fix it.
	nonceSuffix string

	step            int // 0: want client-first, 1: want client-final, 2: done
	gs2Header       string
	clientFirstBare string
	serverFirst     string
	nonce           string
}

// NewScramServer derives the keys for password with a fresh random salt.
// iterations 0 means DefaultScramIterations.
func NewScramServer(password string, iterations int) (*ScramServer, error) {
	salt := make([]byte, scramSaltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (it crashes instead)
	return newScramServer(password, iterations, salt, randomNonce())
}

func newScramServer(password string, iterations int, salt []byte, nonceSuffix string) (*ScramServer, error) {
	if iterations == 0 {
		iterations = DefaultScramIterations
	}
	if iterations < 1 || iterations > maxScramIterations {
		return nil, fmt.Errorf("pgwire: SCRAM iteration count %d out of range 1..%d", iterations, maxScramIterations)
	}
	salted, err := saltedPassword(password, salt, iterations)
	if err != nil {
		return nil, err
	}
	return &ScramServer{
		salt:        salt,
		iterations:  iterations,
		storedKey:   sha256Sum(hmacSum(salted, "Client Key")),
		serverKey:   hmacSum(salted, "Server Key"),
		nonceSuffix: nonceSuffix,
	}, nil
}

// ClientFirst takes client-first-message (the SASLInitialResponse data)
// and returns server-first-message.
func (s *ScramServer) ClientFirst(msg []byte) ([]byte, error) {
	if s.step != 0 {
		return nil, fmt.Errorf("%w: SCRAM client-first-message out of order", ErrProtocol)
	}
	s.step = 2 // any failure ends the exchange
	gs2, bare, err := splitGS2(string(msg))
	if err != nil {
		return nil, err
	}
	attrs, err := scramAttrs(bare)
	if err != nil {
		return nil, err
	}
	// [m=...] is a mandatory extension we cannot know; the user name is
	// ignored, as PostgreSQL does: the startup packet's user counts.
	if len(attrs) < 2 || attrs[0].k != 'n' || attrs[1].k != 'r' {
		return nil, fmt.Errorf("%w: malformed SCRAM client-first-message", ErrProtocol)
	}
	clientNonce := attrs[1].v
	if !validNonce(clientNonce) {
		return nil, fmt.Errorf("%w: invalid SCRAM client nonce", ErrProtocol)
	}
	s.gs2Header = gs2
	s.clientFirstBare = bare
	s.nonce = clientNonce + s.nonceSuffix
	s.serverFirst = "r=" + s.nonce + ",s=" + base64.StdEncoding.EncodeToString(s.salt) +
		",i=" + strconv.Itoa(s.iterations)
	s.step = 1
	return []byte(s.serverFirst), nil
}

// ClientFinal takes client-final-message and, when the proof is right,
// returns server-final-message (the server's signature). A wrong proof
// is ErrAuthFailed.
func (s *ScramServer) ClientFinal(msg []byte) ([]byte, error) {
	if s.step != 1 {
		return nil, fmt.Errorf("%w: SCRAM client-final-message out of order", ErrProtocol)
	}
	s.step = 2
	text := string(msg)
	i := strings.LastIndex(text, ",p=")
	if i < 0 {
		return nil, fmt.Errorf("%w: SCRAM client-final-message without proof", ErrProtocol)
	}
	withoutProof := text[:i]
	proof, err := base64.StdEncoding.Strict().DecodeString(text[i+3:])
	if err != nil || len(proof) != sha256.Size {
		return nil, fmt.Errorf("%w: malformed SCRAM client proof", ErrProtocol)
	}
	attrs, err := scramAttrs(withoutProof)
	if err != nil {
		return nil, err
	}
	if len(attrs) < 2 || attrs[0].k != 'c' || attrs[1].k != 'r' {
		return nil, fmt.Errorf("%w: malformed SCRAM client-final-message", ErrProtocol)
	}
	// Without channel binding the cbind-input is the gs2 header itself.
	cbind, err := base64.StdEncoding.Strict().DecodeString(attrs[0].v)
	if err != nil || string(cbind) != s.gs2Header {
		return nil, fmt.Errorf("%w: SCRAM channel binding data does not match", ErrProtocol)
	}
	if attrs[1].v != s.nonce {
		return nil, fmt.Errorf("%w: SCRAM nonce does not match", ErrProtocol)
	}
	authMessage := s.clientFirstBare + "," + s.serverFirst + "," + withoutProof
	clientSignature := hmacSum(s.storedKey, authMessage)
	clientKey := make([]byte, sha256.Size)
	subtle.XORBytes(clientKey, proof, clientSignature)
	if subtle.ConstantTimeCompare(sha256Sum(clientKey), s.storedKey) != 1 {
		return nil, fmt.Errorf("%w: wrong SCRAM proof", ErrAuthFailed)
	}
	return []byte("v=" + base64.StdEncoding.EncodeToString(hmacSum(s.serverKey, authMessage))), nil
}

// splitGS2 separates "n,," / "y,," from client-first-message-bare.
func splitGS2(msg string) (gs2, bare string, err error) {
	switch {
	case strings.HasPrefix(msg, "p="):
		name, _, _ := strings.Cut(msg[2:], ",")
		return "", "", fmt.Errorf("%w: SCRAM channel binding (client requires %q); connect with channel_binding=prefer or disable",
			ErrUnsupported, name)
	case strings.HasPrefix(msg, "n,"), strings.HasPrefix(msg, "y,"):
	default:
		return "", "", fmt.Errorf("%w: malformed SCRAM gs2 header", ErrProtocol)
	}
	authzid, bare, ok := strings.Cut(msg[2:], ",")
	if !ok {
		return "", "", fmt.Errorf("%w: malformed SCRAM gs2 header", ErrProtocol)
	}
	if authzid != "" {
		return "", "", fmt.Errorf("%w: SCRAM authorization identity", ErrUnsupported)
	}
	return msg[:3], bare, nil
}

// scramAttr is one "k=v" of a SCRAM message.
type scramAttr struct {
	k byte
	v string
}

// scramAttrs splits a SCRAM message into its attributes, refusing a
// mandatory extension ("m=") and anything that is not k=v.
func scramAttrs(msg string) ([]scramAttr, error) {
	var attrs []scramAttr
	for part := range strings.SplitSeq(msg, ",") {
		if len(part) < 2 || part[1] != '=' || !isAlpha(part[0]) {
			return nil, fmt.Errorf("%w: malformed SCRAM attribute %q", ErrProtocol, truncate(part, 16))
		}
		if part[0] == 'm' {
			return nil, fmt.Errorf("%w: SCRAM mandatory extension", ErrUnsupported)
		}
		attrs = append(attrs, scramAttr{k: part[0], v: part[2:]})
	}
	return attrs, nil
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// validNonce: printable ASCII except ',' (RFC 5802), and not empty.
func validNonce(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < 0x21 || n[i] > 0x7e || n[i] == ',' {
			return false
		}
	}
	return true
}

// truncate keeps error messages short when a peer sends junk.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// randomNonce is 18 random bytes in base64, as PostgreSQL makes them.
func randomNonce() string {
	b := make([]byte, scramNonceLen)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func saltedPassword(password string, salt []byte, iterations int) ([]byte, error) {
	k, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("pgwire: SCRAM key derivation: %w", err)
	}
	return k, nil
}

func hmacSum(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
