package pgwire

import (
	"context"
	"fmt"
	"maps"
	"net"
	"slices"

	"github.com/jackc/pgproto3/v2"
)

// BackendSession is what a server told us while we logged in.
type BackendSession struct {
	Params   map[string]string // ParameterStatus values: server_version, client_encoding...
	PID      uint32            // BackendKeyData, for CancelRequest
	Secret   uint32
	TxStatus byte // from the first ReadyForQuery: 'I' normally
}

// BackendLogin logs in to a PostgreSQL server over conn (already dialled,
// plain TCP or TLS): StartupMessage with user, database and params (which
// cannot override those two), then whatever authentication the server asks
// for among trust, cleartext, md5 and SCRAM-SHA-256, then ParameterStatus
// and BackendKeyData up to ReadyForQuery.
//
// A server's ErrorResponse comes back as *PgError (28P01 for a wrong
// password), unchanged so the proxy can relay it. A SCRAM server that
// cannot prove it knows the password is refused with ErrAuthFailed even if
// it says AuthenticationOk. ctx bounds the whole login (conn deadlines);
// conn has no deadline when BackendLogin returns. On error the caller
// closes conn. The returned Reader (in PhaseBackend, with PostgreSQL's own
// 1 GiB message limit) and Writer are the connection's from now on.
func BackendLogin(ctx context.Context, conn net.Conn, user, password, database string, params map[string]string) (*BackendSession, *Reader, *Writer, error) {
	release := bindContext(ctx, conn.SetDeadline)
	defer release()
	r := NewReader(conn, MaxBackendMessage)
	r.SetPhase(PhaseBackend)
	w := NewWriter(conn)
	sess, err := backendLogin(r, w, user, password, database, params)
	if err != nil {
		return nil, nil, nil, ctxErr(ctx, err)
	}
	return sess, r, w, nil
}

// login is the client side of one login exchange.
type login struct {
	w              *Writer
	user, password string
	authenticated  bool
	scram          *ScramClient // set once the server chose SCRAM
	scramVerified  bool         // the server proved it knows the password
}

func backendLogin(r *Reader, w *Writer, user, password, database string, params map[string]string) (*BackendSession, error) {
	startup := &pgproto3.StartupMessage{ProtocolVersion: protocol30, Parameters: maps.Clone(params)}
	if startup.Parameters == nil {
		startup.Parameters = map[string]string{}
	}
	startup.Parameters["user"] = user
	if database != "" {
		startup.Parameters["database"] = database
	}
	if err := sendFlush(w, startup); err != nil {
		return nil, err
	}

	l := &login{w: w, user: user, password: password}
	sess := &BackendSession{Params: map[string]string{}}
	for {
		typ, body, err := r.ReadRaw()
		if err != nil {
			return nil, fmt.Errorf("pgwire: backend login: %w", eofInside(err))
		}
		msg, err := DecodeBackend(typ, body)
		if err != nil {
			return nil, fmt.Errorf("pgwire: backend login: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.ErrorResponse:
			return nil, NewPgError(m)
		case *pgproto3.NoticeResponse:
			// Informational (e.g. a deprecation warning): nothing to do.
		case *pgproto3.ParameterStatus:
			sess.Params[m.Name] = m.Value
		case *pgproto3.BackendKeyData:
			sess.PID, sess.Secret = m.ProcessID, m.SecretKey
		case *pgproto3.ReadyForQuery:
			if !l.authenticated {
				return nil, fmt.Errorf("%w: ReadyForQuery before AuthenticationOk", ErrProtocol)
			}
			sess.TxStatus = m.TxStatus
			return sess, nil
		case pgproto3.AuthenticationResponseMessage:
			if err := l.answer(m); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%w: unexpected %s message during login", ErrProtocol, typeName(typ))
		}
	}
}

// answer handles one authentication message from the server.
func (l *login) answer(msg pgproto3.AuthenticationResponseMessage) error {
	if l.authenticated {
		return fmt.Errorf("%w: authentication message after AuthenticationOk", ErrProtocol)
	}
	switch m := msg.(type) {
	case *pgproto3.AuthenticationOk:
		if l.scram != nil && !l.scramVerified {
			return fmt.Errorf("%w: server ended SCRAM without proving it knows the password", ErrAuthFailed)
		}
		l.authenticated = true
		return nil
	case *pgproto3.AuthenticationCleartextPassword:
		return sendFlush(l.w, &pgproto3.PasswordMessage{Password: l.password})
	case *pgproto3.AuthenticationMD5Password:
		return sendFlush(l.w, &pgproto3.PasswordMessage{Password: MD5Password(l.user, l.password, m.Salt)})
	case *pgproto3.AuthenticationSASL:
		if l.scram != nil {
			return fmt.Errorf("%w: second SASL request", ErrProtocol)
		}
		if !slices.Contains(m.AuthMechanisms, ScramMechanism) {
			return fmt.Errorf("%w: SASL mechanisms %q (want %s)", ErrUnsupported, m.AuthMechanisms, ScramMechanism)
		}
		l.scram = NewScramClient(l.user, l.password)
		return sendFlush(l.w, &pgproto3.SASLInitialResponse{AuthMechanism: ScramMechanism, Data: l.scram.First()})
	case *pgproto3.AuthenticationSASLContinue:
		if l.scram == nil {
			return fmt.Errorf("%w: SASLContinue without SASL", ErrProtocol)
		}
		final, err := l.scram.Final(m.Data)
		if err != nil {
			return err
		}
		return sendFlush(l.w, &pgproto3.SASLResponse{Data: final})
	case *pgproto3.AuthenticationSASLFinal:
		if l.scram == nil {
			return fmt.Errorf("%w: SASLFinal without SASL", ErrProtocol)
		}
		if err := l.scram.Verify(m.Data); err != nil {
			return err
		}
		l.scramVerified = true
		return nil
	}
	return fmt.Errorf("%w: server asks for %T", ErrUnsupported, msg)
}
