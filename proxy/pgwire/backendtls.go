package pgwire

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// sslRequestCode is SSLRequest's protocol number (1234.5679).
const sslRequestCode = 80877103

// ErrNoServerTLS: the server answered an SSLRequest with 'N'.
var ErrNoServerTLS = errors.New("the server does not accept TLS (ssl = off)")

// StartTLS asks a server for TLS (SSLRequest) and, when it accepts,
// returns the connection wrapped in a TLS client that completed its
// handshake. A nil conf returns conn unchanged. Everything runs within
// ctx.
func StartTLS(ctx context.Context, conn net.Conn, conf *tls.Config) (net.Conn, error) {
	if conf == nil {
		return conn, nil
	}
	release := bindContext(ctx, conn.SetDeadline)
	defer release()
	var req [8]byte
	binary.BigEndian.PutUint32(req[0:], 8)
	binary.BigEndian.PutUint32(req[4:], sslRequestCode)
	if _, err := conn.Write(req[:]); err != nil {
		return nil, ctxErr(ctx, err)
	}
	var answer [1]byte
	if _, err := io.ReadFull(conn, answer[:]); err != nil {
		return nil, ctxErr(ctx, err)
	}
	switch answer[0] {
	case 'S':
	case 'N':
		return nil, ErrNoServerTLS
	default:
		return nil, fmt.Errorf("%w: SSLRequest answered with %q", ErrProtocol, answer[0])
	}
	tc := tls.Client(conn, conf)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("TLS handshake: %w", ctxErr(ctx, err))
	}
	return tc, nil
}
