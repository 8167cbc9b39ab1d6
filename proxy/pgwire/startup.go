package pgwire

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/jackc/pgproto3/v2"
)

// Startup-phase request codes (the int32 after the length).
const (
	protocol30        = 3 << 16 // 196608, the only version served
	codeCancelRequest = 80877102
	codeSSLRequest    = 80877103
	codeGSSENCRequest = 80877104
)

// maxStartupPacket is PostgreSQL's MAX_STARTUP_PACKET_LENGTH.
const maxStartupPacket = 10000

// ReadStartup reads the first message of a client connection, which has
// no type byte: a *pgproto3.StartupMessage (protocol 3.0), or an
// *pgproto3.SSLRequest, *pgproto3.GSSEncRequest or *pgproto3.CancelRequest.
// After an SSL or GSSENC request the caller answers 'S' or 'N' and calls
// ReadStartup again (over a new Reader if it upgraded the connection).
//
// Parameters are parsed here rather than by pgproto3, which refuses a
// startup packet without parameters and whose loop accepts stray bytes.
// Checking that "user" is present is the caller's business (PostgreSQL
// answers 28000 when it is missing).
func (r *Reader) ReadStartup() (pgproto3.FrontendMessage, error) {
	r.borrow()
	var hdr [4]byte
	if _, err := io.ReadFull(r.br, hdr[:]); err != nil {
		return nil, err
	}
	length := int64(int32(binary.BigEndian.Uint32(hdr[:])))
	if length < 8 || length > maxStartupPacket {
		return nil, fmt.Errorf("%w: invalid length of startup packet: %d", ErrProtocol, length)
	}
	body := make([]byte, length-4)
	if _, err := io.ReadFull(r.br, body); err != nil {
		return nil, eofInside(err)
	}
	code := binary.BigEndian.Uint32(body)
	switch code {
	case codeSSLRequest, codeGSSENCRequest:
		name := "SSLRequest"
		var msg pgproto3.FrontendMessage = &pgproto3.SSLRequest{}
		if code == codeGSSENCRequest {
			name, msg = "GSSENCRequest", &pgproto3.GSSEncRequest{}
		}
		if length != 8 {
			return nil, fmt.Errorf("%w: %s of length %d", ErrProtocol, name, length)
		}
		// Bytes pipelined behind the request would be read as if they had
		// come over the encrypted channel (CVE-2021-23214): refuse them.
		if r.br.Buffered() > 0 {
			return nil, fmt.Errorf("%w: received unencrypted data after %s", ErrProtocol, name)
		}
		return msg, nil
	case codeCancelRequest:
		if length != 16 {
			return nil, fmt.Errorf("%w: CancelRequest of length %d", ErrProtocol, length)
		}
		return &pgproto3.CancelRequest{
			ProcessID: binary.BigEndian.Uint32(body[4:]),
			SecretKey: binary.BigEndian.Uint32(body[8:]),
		}, nil
	case protocol30:
		params, err := parseStartupParams(body[4:])
		if err != nil {
			return nil, err
		}
		return &pgproto3.StartupMessage{ProtocolVersion: code, Parameters: params}, nil
	}
	return nil, fmt.Errorf("%w: frontend protocol %d.%d (this server supports 3.0)",
		ErrUnsupported, code>>16, code&0xffff)
}

// parseStartupParams reads name\0value\0 pairs ended by an empty name.
func parseStartupParams(b []byte) (map[string]string, error) {
	params := make(map[string]string)
	for {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return nil, fmt.Errorf("%w: startup packet parameters are not terminated", ErrProtocol)
		}
		if i == 0 {
			if len(b) != 1 {
				return nil, fmt.Errorf("%w: %d bytes after the startup packet's terminator", ErrProtocol, len(b)-1)
			}
			return params, nil
		}
		name := string(b[:i])
		b = b[i+1:]
		j := bytes.IndexByte(b, 0)
		if j < 0 {
			return nil, fmt.Errorf("%w: startup parameter %q has no value", ErrProtocol, name)
		}
		params[name] = string(b[:j])
		b = b[j+1:]
	}
}
