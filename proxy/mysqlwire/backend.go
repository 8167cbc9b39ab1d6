package mysqlwire

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// BackendConfig says how to reach and log in to one MySQL/MariaDB server.
type BackendConfig struct {
	Addr, User, Password, Database string
	// Network is Addr's: "tcp" (the default when empty) or "unix".
	Network string
	// Collation of the connection; default "utf8mb4_general_ci".
	Collation string
	// DialTimeout bounds the connect (the login is bounded by ctx).
	DialTimeout time.Duration
	// TLS, when set, encrypts the connection (SSL request, then the TLS
	// handshake, then the login); a server that offers no TLS is refused.
	TLS *tls.Config
}

// DefaultCollation is BackendConfig.Collation's default.
const DefaultCollation = "utf8mb4_general_ci"

// handshakeCollations are collation ids that MySQL and MariaDB agree on,
// so the handshake byte alone sets them. Any other collation (MySQL 8's
// utf8mb4_0900_ai_ci is 255, unknown to MariaDB 10.11, which then falls
// back to latin1) is set with SET NAMES after login.
var handshakeCollations = map[string]uint8{
	"latin1_swedish_ci":  8,
	"utf8_general_ci":    33,
	"utf8mb3_general_ci": 33,
	"utf8mb4_general_ci": 45,
	"utf8mb4_bin":        46,
	"latin1_bin":         47,
	"binary":             63,
	"utf8_bin":           83,
	"utf8mb3_bin":        83,
	"utf8_unicode_ci":    192,
	"utf8mb3_unicode_ci": 192,
	"utf8mb4_unicode_ci": 224,
}

// Backend is a logged-in connection to a server.
type Backend struct {
	*Conn
	ConnectionID  uint32
	ServerVersion string // as the server announced it ("5.5.5-10.11.6-MariaDB...")
	Capabilities  uint32 // the flags in effect: those sent, all offered by the server
	Status        uint16 // from the login OK, then from each Simple
}

// DialBackend connects to cfg.Addr and logs in (mysql_native_password or
// caching_sha2_password, with auth switches), with the capabilities of
// backendCaps (no CLIENT_DEPRECATE_EOF, CLIENT_MULTI_STATEMENTS or
// CLIENT_FOUND_ROWS), and sets the collation explicitly. ctx bounds the
// whole exchange; the connection has no deadline when it is returned. A
// server's refusal (1045 access denied, 1049 unknown database...) is an
// *Error.
func DialBackend(ctx context.Context, cfg BackendConfig) (*Backend, error) {
	collation := cfg.Collation
	if collation == "" {
		collation = DefaultCollation
	}
	collID, inHandshake := handshakeCollations[strings.ToLower(collation)]
	if !inHandshake {
		if !validCollationName(collation) {
			return nil, fmt.Errorf("mysqlwire: invalid collation name %q", collation)
		}
		collID = handshakeCollations[DefaultCollation]
	}
	d := net.Dialer{Timeout: cfg.DialTimeout}
	network := cfg.Network
	if network == "" {
		network = "tcp"
	}
	nc, err := d.DialContext(ctx, network, cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("mysqlwire: dial %s: %w", cfg.Addr, err)
	}
	b, err := login(ctx, nc, cfg, collID)
	if err == nil && !inHandshake {
		cs, _, _ := strings.Cut(collation, "_")
		_, err = b.Simple("SET NAMES " + cs + " COLLATE " + collation)
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("mysqlwire: backend %s: %w", cfg.Addr, err)
	}
	return b, nil
}

func validCollationName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// login runs the handshake on nc under ctx.
func login(ctx context.Context, nc net.Conn, cfg BackendConfig, collID uint8) (*Backend, error) {
	release := bindContext(ctx, nc)
	defer release()
	c := NewConn(nc)
	p, err := c.ReadPacket()
	if err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("read greeting: %w", eofInside(err)))
	}
	if IsErr(p) { // too many connections, host blocked...
		return nil, ParseError(p)
	}
	h, err := parseHandshakeV10(p)
	if err != nil {
		return nil, err
	}
	if missing := backendRequiredCaps &^ h.caps; missing != 0 {
		return nil, fmt.Errorf("%w: server lacks capabilities 0x%08x", ErrUnsupported, missing)
	}
	caps := backendCaps | h.caps&ClientPluginAuthLenencData
	if cfg.Database != "" {
		if h.caps&ClientConnectWithDB == 0 {
			return nil, fmt.Errorf("%w: server cannot select a database at login", ErrUnsupported)
		}
		caps |= ClientConnectWithDB
	}
	caps &= h.caps | backendRequiredCaps
	if cfg.TLS != nil {
		if c, err = startTLS(ctx, c, nc, cfg.TLS, h.caps, caps|ClientSSL, collID); err != nil {
			return nil, err
		}
		caps |= ClientSSL
	}
	plugin := h.plugin
	auth, err := scrambleFor(plugin, cfg.Password, h.nonce)
	if errors.Is(err, ErrUnsupported) {
		// Answer with native: the server switches us to its plugin, which
		// may be one we know after all (the account's, not the default).
		plugin = AuthNativePassword
		auth = nativeScramble(cfg.Password, h.nonce)
	}
	if err := c.WritePacket(appendHandshakeResponse(nil, caps, collID, cfg.User, auth, cfg.Database, plugin)); err != nil {
		return nil, err
	}
	ok, err := clientLogin(c, h, plugin, cfg.Password)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	return &Backend{Conn: c, ConnectionID: h.connID, ServerVersion: h.version, Capabilities: caps, Status: ok.Status}, nil
}

// startTLS sends the SSL request (the first part of a handshake
// response) and runs the TLS handshake; the login goes on over the
// returned Conn with the next sequence id.
func startTLS(ctx context.Context, c *Conn, nc net.Conn, conf *tls.Config, serverCaps, caps uint32, collID uint8) (*Conn, error) {
	if serverCaps&ClientSSL == 0 {
		return nil, fmt.Errorf("%w: the server offers no TLS (have_ssl is off)", ErrUnsupported)
	}
	req := binary.LittleEndian.AppendUint32(nil, caps)
	req = binary.LittleEndian.AppendUint32(req, maxPayload)
	req = append(req, collID)
	req = append(req, make([]byte, 23)...)
	if err := c.WritePacket(req); err != nil {
		return nil, err
	}
	if err := c.Flush(); err != nil {
		return nil, err
	}
	tc := tls.Client(nc, conf)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("TLS handshake: %w", err))
	}
	next := NewConn(tc)
	next.seq = c.seq
	return next, nil
}

// Simple runs a text query that answers OK or ERR (SET, ROLLBACK...) and
// returns the OK; a server's ERR is an *Error and leaves the connection
// usable. A result set is read and discarded, and its final EOF's status
// and warnings are returned.
func (b *Backend) Simple(query string) (OK, error) {
	var ok OK
	err := b.query(query, func(*result) error { return nil }, &ok)
	return ok, err
}

// Query runs a text query and returns its first result set with every
// value copied (for health probes and tests: small results only). A
// statement that answers OK gives no columns and no rows.
func (b *Backend) Query(query string) (cols []Column, rows [][][]byte, err error) {
	first := true
	err = b.query(query, func(r *result) error {
		if !first {
			return nil
		}
		first = false
		cols = r.cols
		for {
			row, err := r.next()
			if row == nil || err != nil {
				return err
			}
			cp := make([][]byte, len(row))
			for i, v := range row {
				if v != nil {
					cp[i] = append([]byte{}, v...)
				}
			}
			rows = append(rows, cp)
		}
	}, nil)
	return cols, rows, err
}

// Close sends COM_QUIT, so that the server does not log an aborted
// connection, and closes the connection. The QUIT is skipped when a
// packet is half-written, and bounded by a short deadline so that a peer
// that stopped reading cannot hold Close.
func (b *Backend) Close() error {
	if b.Buffered() == 0 {
		_ = b.NetConn().SetWriteDeadline(time.Now().Add(quitTimeout))
		b.ResetSequence()
		if b.WritePacket([]byte{ComQuit}) == nil {
			_ = b.Flush()
		}
	}
	return b.Conn.Close()
}

const quitTimeout = 100 * time.Millisecond
