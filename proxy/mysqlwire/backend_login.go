package mysqlwire

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"fmt"
)

// backendCaps are the capabilities the proxy asks of a backend. Results
// are relayed raw to clients, so the backend must speak what every client
// understands: EOF packets (no CLIENT_DEPRECATE_EOF), real affected-row
// counts (no CLIENT_FOUND_ROWS), one statement per COM_QUERY (no
// CLIENT_MULTI_STATEMENTS: the router plans one statement at a time) and
// OK packets without session-state data (no CLIENT_SESSION_TRACK).
// CLIENT_LOCAL_FILES is off: a LOAD DATA LOCAL request would read a file
// from the proxy.
const backendCaps = ClientLongPassword | ClientLongFlag | ClientProtocol41 | ClientTransactions |
	ClientSecureConnection | ClientMultiResults | ClientPSMultiResults | ClientPluginAuth

// backendRequiredCaps must be offered by the server.
const backendRequiredCaps = ClientProtocol41 | ClientSecureConnection | ClientPluginAuth

// handshakeV10 is what a server's greeting tells a client.
type handshakeV10 struct {
	version string
	connID  uint32
	caps    uint32
	status  uint16
	nonce   []byte // 20 bytes, copied
	plugin  string
}

// parseHandshakeV10 decodes Protocol::HandshakeV10.
func parseHandshakeV10(p []byte) (handshakeV10, error) {
	r := reader{b: p, what: "server handshake"}
	var h handshakeV10
	if v := r.u8(); r.err == nil && v != 10 {
		return h, fmt.Errorf("%w: protocol version %d (want 10)", ErrUnsupported, v)
	}
	h.version = string(r.nulString())
	h.connID = r.u32()
	nonce := append([]byte(nil), r.bytes(8)...)
	r.u8() // filler
	h.caps = uint32(r.u16())
	r.u8() // server collation: the proxy sends its own
	h.status = r.u16()
	h.caps |= uint32(r.u16()) << 16
	authLen := int(r.u8())
	r.bytes(10) // reserved (MariaDB's extended capabilities: not used)
	if r.err != nil {
		return h, r.err
	}
	if h.caps&ClientSecureConnection != 0 {
		n := max(13, authLen-8)
		part := r.bytes(min(n, r.left()))
		// The second part is NUL-terminated in practice; the nonce is 20
		// bytes in every server that matters.
		part = bytes.TrimRight(part, "\x00")
		nonce = append(nonce, part...)
	}
	if h.caps&ClientPluginAuth != 0 && r.left() > 0 {
		name := r.rest()
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		h.plugin = string(name)
	}
	if h.plugin == "" {
		h.plugin = AuthNativePassword
	}
	h.nonce = nonce
	return h, r.err
}

// appendHandshakeResponse appends Protocol::HandshakeResponse41.
func appendHandshakeResponse(dst []byte, caps uint32, collation uint8, user string, auth []byte, db, plugin string) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, caps)
	dst = binary.LittleEndian.AppendUint32(dst, maxPayload) // max packet we send
	dst = append(dst, collation)
	dst = append(dst, make([]byte, 23)...)
	dst = append(dst, user...)
	dst = append(dst, 0)
	if caps&ClientPluginAuthLenencData != 0 {
		dst = AppendLenEncString(dst, auth)
	} else {
		dst = append(dst, byte(len(auth)))
		dst = append(dst, auth...)
	}
	if caps&ClientConnectWithDB != 0 {
		dst = append(dst, db...)
		dst = append(dst, 0)
	}
	dst = append(dst, plugin...)
	return append(dst, 0)
}

// clientLogin is the client side of the authentication exchange on c,
// once the greeting h has been read and the response sent with plugin's
// answer. It returns the final OK.
func clientLogin(c *Conn, h handshakeV10, plugin, password string) (OK, error) {
	nonce := h.nonce
	for {
		if err := c.Flush(); err != nil {
			return OK{}, err
		}
		p, err := c.ReadPacket()
		if err != nil {
			return OK{}, fmt.Errorf("mysqlwire: login: %w", eofInside(err))
		}
		switch {
		case len(p) == 0:
			return OK{}, fmt.Errorf("%w: empty packet during login", ErrProtocol)
		case p[0] == headerOK:
			return ParseOK(p)
		case p[0] == headerErr:
			return OK{}, ParseError(p)
		case p[0] == headerAuthSwitch:
			// AuthSwitchRequest: plugin name, then a new nonce.
			r := reader{b: p[1:], what: "auth switch request"}
			name := string(r.nulString())
			if r.err != nil {
				return OK{}, fmt.Errorf("%w (a pre-4.1 auth switch is not supported)", r.err)
			}
			nonce = bytes.TrimRight(append([]byte(nil), r.rest()...), "\x00")
			plugin = name
			auth, err := scrambleFor(plugin, password, nonce)
			if err != nil {
				return OK{}, err
			}
			if err := c.WritePacket(auth); err != nil {
				return OK{}, err
			}
		case p[0] == headerAuthMore && plugin == AuthCachingSha2Password:
			if err := sha2More(c, p[1:], password, nonce); err != nil {
				return OK{}, err
			}
		default:
			return OK{}, fmt.Errorf("%w: unexpected packet 0x%02x during %s login", ErrProtocol, p[0], plugin)
		}
	}
}

// sha2More answers a caching_sha2_password AuthMoreData packet.
func sha2More(c *Conn, data []byte, password string, nonce []byte) error {
	switch {
	case len(data) == 1 && data[0] == sha2FastAuthOK:
		return nil // the OK follows
	case len(data) == 1 && data[0] == sha2FullAuth:
		if _, ok := c.NetConn().(*tls.Conn); ok {
			return c.WritePacket(append([]byte(password), 0))
		}
		// No TLS: ask for the server's public key, the answer is the next
		// AuthMoreData.
		if err := c.WritePacket([]byte{sha2RequestPubKey}); err != nil {
			return err
		}
		if err := c.Flush(); err != nil {
			return err
		}
		p, err := c.ReadPacket()
		if err != nil {
			return fmt.Errorf("mysqlwire: login: %w", eofInside(err))
		}
		if IsErr(p) {
			return ParseError(p)
		}
		if len(p) < 2 || p[0] != headerAuthMore {
			return fmt.Errorf("%w: expected the server's public key", ErrProtocol)
		}
		enc, err := rsaEncryptPassword(password, nonce, p[1:])
		if err != nil {
			return err
		}
		return c.WritePacket(enc)
	}
	return fmt.Errorf("%w: caching_sha2_password: unexpected AuthMoreData % x", ErrProtocol, data)
}
