package pgwire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jackc/pgproto3/v2"
)

// Decoding. pgproto3's decoders are used only behind two guards:
//
//   - validation first, for the inputs known to break them: Bind and
//     DataRow with a length below -1, NotificationResponse shorter than
//     its pid, and an empty Query, CopyFail or CommandComplete slice out
//     of range (panic); AuthenticationSASL without its terminator loops
//     forever; SASLInitialResponse without its length slices out of
//     range. FunctionCall (which panics on NULL or truncated
//     arguments) is refused outright.
//   - recover() around every call, so a panic nobody has found yet becomes
//     ErrProtocol for one connection instead of crashing the process.
//
// Every decoded message may alias body: it is valid as long as body is
// (for a Reader's body, until the next ReadRaw).

// errDecoderPanic marks an error made from a recovered decoder panic, so
// the fuzz targets can tell a crash that was caught from a clean refusal.
var errDecoderPanic = errors.New("decoder panic")

// DecodeFrontend decodes a message from a client. FunctionCall ('F') is
// refused with ErrUnsupported. A password message ('p') depends on the
// authentication exchange under way, so it is refused here: use
// DecodePasswordMessage, DecodeSASLInitialResponse or DecodeSASLResponse.
func DecodeFrontend(typ byte, body []byte) (pgproto3.FrontendMessage, error) {
	var msg pgproto3.FrontendMessage
	switch typ {
	case 'Q':
		if err := validCString(body, "Query"); err != nil {
			return nil, err
		}
		msg = &pgproto3.Query{}
	case 'P':
		msg = &pgproto3.Parse{}
	case 'B':
		if err := validBind(body); err != nil {
			return nil, err
		}
		msg = &pgproto3.Bind{}
	case 'D':
		msg = &pgproto3.Describe{}
	case 'E':
		msg = &pgproto3.Execute{}
	case 'C':
		msg = &pgproto3.Close{}
	case 'S':
		msg = &pgproto3.Sync{}
	case 'H':
		msg = &pgproto3.Flush{}
	case 'X':
		msg = &pgproto3.Terminate{}
	case 'd':
		msg = &pgproto3.CopyData{}
	case 'c':
		msg = &pgproto3.CopyDone{}
	case 'f':
		if err := validCString(body, "CopyFail"); err != nil {
			return nil, err
		}
		msg = &pgproto3.CopyFail{}
	case 'F':
		return nil, fmt.Errorf("%w: FunctionCall messages", ErrUnsupported)
	case 'p':
		return nil, fmt.Errorf("%w: a password message ('p') outside an authentication exchange", ErrProtocol)
	default:
		return nil, fmt.Errorf("%w: unknown frontend message type %s", ErrProtocol, typeName(typ))
	}
	if err := safeDecode(msg, typ, body); err != nil {
		return nil, err
	}
	return msg, nil
}

// DecodePasswordMessage decodes 'p' as the answer to a cleartext or md5
// password request.
func DecodePasswordMessage(body []byte) (*pgproto3.PasswordMessage, error) {
	i := bytes.IndexByte(body, 0)
	if i < 0 || i != len(body)-1 {
		return nil, fmt.Errorf("%w: malformed password message", ErrProtocol)
	}
	return &pgproto3.PasswordMessage{Password: string(body[:i])}, nil
}

// DecodeSASLInitialResponse decodes 'p' as the first SASL message:
// mechanism\0, int32 length (-1: no data), data.
func DecodeSASLInitialResponse(body []byte) (*pgproto3.SASLInitialResponse, error) {
	i := bytes.IndexByte(body, 0)
	if i < 0 || len(body)-i-1 < 4 {
		return nil, fmt.Errorf("%w: malformed SASLInitialResponse", ErrProtocol)
	}
	mech := string(body[:i])
	rest := body[i+1:]
	n := int32(binary.BigEndian.Uint32(rest))
	rest = rest[4:]
	switch {
	case n == -1 && len(rest) == 0:
		rest = nil
	case n < 0 || int(n) != len(rest):
		return nil, fmt.Errorf("%w: SASLInitialResponse data length %d, %d bytes follow", ErrProtocol, n, len(rest))
	}
	return &pgproto3.SASLInitialResponse{AuthMechanism: mech, Data: rest}, nil
}

// DecodeSASLResponse decodes 'p' as a later SASL message: all data.
func DecodeSASLResponse(body []byte) (*pgproto3.SASLResponse, error) {
	return &pgproto3.SASLResponse{Data: body}, nil
}

// DecodeBackend decodes a message from a PostgreSQL server. Authentication
// requests ('R') come back as their specific types; SSPI, SCM credentials
// and NegotiateProtocolVersion (absent from pgproto3/v2) are ErrUnsupported.
func DecodeBackend(typ byte, body []byte) (pgproto3.BackendMessage, error) {
	var msg pgproto3.BackendMessage
	switch typ {
	case '1':
		msg = &pgproto3.ParseComplete{}
	case '2':
		msg = &pgproto3.BindComplete{}
	case '3':
		msg = &pgproto3.CloseComplete{}
	case 'A':
		if len(body) < 4 {
			return nil, fmt.Errorf("%w: malformed NotificationResponse", ErrProtocol)
		}
		msg = &pgproto3.NotificationResponse{}
	case 'c':
		msg = &pgproto3.CopyDone{}
	case 'C':
		if err := validCString(body, "CommandComplete"); err != nil {
			return nil, err
		}
		msg = &pgproto3.CommandComplete{}
	case 'd':
		msg = &pgproto3.CopyData{}
	case 'D':
		if err := validDataRow(body); err != nil {
			return nil, err
		}
		msg = &pgproto3.DataRow{}
	case 'E':
		msg = &pgproto3.ErrorResponse{}
	case 'G':
		msg = &pgproto3.CopyInResponse{}
	case 'H':
		msg = &pgproto3.CopyOutResponse{}
	case 'I':
		msg = &pgproto3.EmptyQueryResponse{}
	case 'K':
		msg = &pgproto3.BackendKeyData{}
	case 'n':
		msg = &pgproto3.NoData{}
	case 'N':
		msg = &pgproto3.NoticeResponse{}
	case 'R':
		return decodeAuthentication(body)
	case 's':
		msg = &pgproto3.PortalSuspended{}
	case 'S':
		msg = &pgproto3.ParameterStatus{}
	case 't':
		msg = &pgproto3.ParameterDescription{}
	case 'T':
		msg = &pgproto3.RowDescription{}
	case 'v':
		return nil, fmt.Errorf("%w: NegotiateProtocolVersion", ErrUnsupported)
	case 'V':
		msg = &pgproto3.FunctionCallResponse{}
	case 'W':
		msg = &pgproto3.CopyBothResponse{}
	case 'Z':
		msg = &pgproto3.ReadyForQuery{}
	default:
		return nil, fmt.Errorf("%w: unknown backend message type %s", ErrProtocol, typeName(typ))
	}
	if err := safeDecode(msg, typ, body); err != nil {
		return nil, err
	}
	return msg, nil
}

// decodeAuthentication picks the 'R' variant by its int32 subtype.
func decodeAuthentication(body []byte) (pgproto3.BackendMessage, error) {
	if len(body) < 4 {
		return nil, fmt.Errorf("%w: authentication request too short", ErrProtocol)
	}
	var msg pgproto3.BackendMessage
	switch t := binary.BigEndian.Uint32(body); t {
	case pgproto3.AuthTypeOk:
		msg = &pgproto3.AuthenticationOk{}
	case pgproto3.AuthTypeCleartextPassword:
		msg = &pgproto3.AuthenticationCleartextPassword{}
	case pgproto3.AuthTypeMD5Password:
		msg = &pgproto3.AuthenticationMD5Password{}
	case pgproto3.AuthTypeGSS:
		msg = &pgproto3.AuthenticationGSS{}
	case pgproto3.AuthTypeGSSCont:
		msg = &pgproto3.AuthenticationGSSContinue{}
	case pgproto3.AuthTypeSASL:
		return decodeAuthenticationSASL(body[4:])
	case pgproto3.AuthTypeSASLContinue:
		msg = &pgproto3.AuthenticationSASLContinue{}
	case pgproto3.AuthTypeSASLFinal:
		msg = &pgproto3.AuthenticationSASLFinal{}
	default:
		return nil, fmt.Errorf("%w: authentication method %d", ErrUnsupported, t)
	}
	if err := safeDecode(msg, 'R', body); err != nil {
		return nil, err
	}
	return msg, nil
}

// decodeAuthenticationSASL parses the mechanism list itself: pgproto3's
// loop never ends on a list without its final empty name.
func decodeAuthenticationSASL(b []byte) (*pgproto3.AuthenticationSASL, error) {
	msg := &pgproto3.AuthenticationSASL{}
	for {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return nil, fmt.Errorf("%w: unterminated SASL mechanism list", ErrProtocol)
		}
		if i == 0 {
			if len(b) != 1 {
				return nil, fmt.Errorf("%w: bytes after the SASL mechanism list", ErrProtocol)
			}
			return msg, nil
		}
		msg.AuthMechanisms = append(msg.AuthMechanisms, string(b[:i]))
		b = b[i+1:]
	}
}

// QueryText decodes a Query message's body to its text: DecodeFrontend's
// answer for 'Q' without the message value around it.
func QueryText(body []byte) (string, error) {
	if err := validCString(body, "Query"); err != nil {
		return "", err
	}
	return string(body[:len(body)-1]), nil
}

// validCString checks a body that is one NUL-terminated string: on an
// empty body pgproto3 slices [:-1].
func validCString(b []byte, name string) error {
	if i := bytes.IndexByte(b, 0); i < 0 || i != len(b)-1 {
		return fmt.Errorf("%w: malformed %s", ErrProtocol, name)
	}
	return nil
}

// Built once: the validators run on every Bind and merged DataRow.
var (
	errMalformedBind    = fmt.Errorf("%w: malformed Bind", ErrProtocol)
	errMalformedDataRow = fmt.Errorf("%w: malformed DataRow", ErrProtocol)
)

// validBind walks a Bind body: pgproto3 slices with a negative length
// when a parameter's length is below -1.
func validBind(b []byte) error {
	bad := errMalformedBind
	for range 2 { // portal, statement
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return bad
		}
		b = b[i+1:]
	}
	if len(b) < 2 {
		return bad
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b) < 2+2*n+2 {
		return bad
	}
	b = b[2+2*n:]
	rest, err := walkValues(b, bad)
	if err != nil {
		return err
	}
	if len(rest) < 2 {
		return bad
	}
	n = int(binary.BigEndian.Uint16(rest))
	if len(rest) != 2+2*n {
		return bad
	}
	return nil
}

// validDataRow walks a DataRow body: a column length below -1 makes
// pgproto3 slice with a negative length.
func validDataRow(b []byte) error {
	bad := errMalformedDataRow
	rest, err := walkValues(b, bad)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return bad
	}
	return nil
}

// walkValues skips an int16 count of (int32 length, bytes) values, where
// -1 is NULL, and returns what follows.
func walkValues(b []byte, bad error) ([]byte, error) {
	if len(b) < 2 {
		return nil, bad
	}
	n := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	for range n {
		if len(b) < 4 {
			return nil, bad
		}
		l := int64(int32(binary.BigEndian.Uint32(b)))
		b = b[4:]
		if l == -1 {
			continue
		}
		if l < 0 || l > int64(len(b)) {
			return nil, bad
		}
		b = b[l:]
	}
	return b, nil
}

// safeDecode runs msg.Decode, turning its errors and panics into
// ErrProtocol.
func safeDecode(msg pgproto3.Message, typ byte, body []byte) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: malformed %T (%w: %v)", ErrProtocol, msg, errDecoderPanic, p)
		}
	}()
	if err := msg.Decode(body); err != nil {
		return fmt.Errorf("%w: malformed %s message %T: %v", ErrProtocol, typeName(typ), msg, err)
	}
	return nil
}
