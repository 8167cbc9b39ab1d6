package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgproto3/v2"
)

// Client authentication methods (pg_hba.conf names).
const (
	AuthSCRAM = "scram-sha-256"
	AuthMD5   = "md5"
	AuthTrust = "trust"
)

// ServerAuth authenticates a client after its StartupMessage: method is
// "scram-sha-256" (also ""), "md5" or "trust"; password is the user's
// plain password from the topology; userKnown is false when no such user
// exists.
//
// On success AuthenticationOk is buffered, not flushed: the caller adds
// ParameterStatus, BackendKeyData and ReadyForQuery and flushes once, and
// the Reader is back in PhaseClientQuery.
//
// On a wrong password, an unknown user or an empty configured password it
// sends FATAL 28P01 `password authentication failed for user "x"` and
// returns ErrAuthFailed. An unknown user goes through the same exchange
// (SCRAM with a throw-away password, or an md5 challenge) and gets the
// same text, so user names cannot be probed. A malformed exchange gets
// FATAL 08P01 (0A000 for channel binding) and ErrProtocol/ErrUnsupported.
// ctx bounds the exchange when r and w wrap a net.Conn.
func ServerAuth(ctx context.Context, r *Reader, w *Writer, method, user, password string, userKnown bool) error {
	release := bindContext(ctx, r.readDeadline(), w.writeDeadline())
	defer release()

	// PostgreSQL never accepts an empty password; neither do we, and the
	// user is then treated as unknown so the answer stays the same.
	known := userKnown && password != ""
	var err error
	switch method {
	case AuthSCRAM, "":
		r.SetPhase(PhaseClientAuth)
		err = serverSCRAM(r, w, password, known)
	case AuthMD5:
		r.SetPhase(PhaseClientAuth)
		err = serverMD5(r, w, user, password, known)
	case AuthTrust:
		if !userKnown {
			err = fmt.Errorf("%w: unknown user", ErrAuthFailed)
		}
	default:
		return fmt.Errorf("%w: authentication method %q", ErrUnsupported, method)
	}
	if err != nil {
		return ctxErr(ctx, refuse(w, user, err))
	}
	r.SetPhase(PhaseClientQuery)
	return w.Send(&pgproto3.AuthenticationOk{})
}

// refuse tells the client why it is turned away, when the connection can
// still carry a message, and returns err.
func refuse(w *Writer, user string, err error) error {
	var msg *pgproto3.ErrorResponse
	switch {
	case errors.Is(err, ErrAuthFailed):
		msg = ErrorResponse("FATAL", CodeInvalidPassword, `password authentication failed for user "`+user+`"`)
	case errors.Is(err, ErrUnsupported):
		msg = ErrorResponse("FATAL", CodeFeatureUnsupported, err.Error())
	case errors.Is(err, ErrProtocol), errors.Is(err, ErrTooLarge):
		msg = ErrorResponse("FATAL", CodeProtocolViolation, err.Error())
	default:
		return err // I/O: the client is gone or timed out
	}
	if werr := w.Send(msg); werr == nil {
		_ = w.Flush() // best effort: the error to return is err
	}
	return err
}

// serverSCRAM runs the SASL exchange. For an unknown user the password
// is random, so the proof fails at the same point as a wrong one.
func serverSCRAM(r *Reader, w *Writer, password string, known bool) error {
	if !known {
		password = randomNonce()
	}
	srv, err := NewScramServer(password, DefaultScramIterations)
	if err != nil {
		return err
	}
	if err := sendFlush(w, &pgproto3.AuthenticationSASL{AuthMechanisms: []string{ScramMechanism}}); err != nil {
		return err
	}
	body, err := readAuthResponse(r)
	if err != nil {
		return err
	}
	first, err := DecodeSASLInitialResponse(body)
	if err != nil {
		return err
	}
	if first.AuthMechanism != ScramMechanism {
		return fmt.Errorf("%w: client selected an invalid SASL authentication mechanism %q",
			ErrProtocol, truncate(first.AuthMechanism, 32))
	}
	serverFirst, err := srv.ClientFirst(first.Data)
	if err != nil {
		return err
	}
	if err := sendFlush(w, &pgproto3.AuthenticationSASLContinue{Data: serverFirst}); err != nil {
		return err
	}
	body, err = readAuthResponse(r)
	if err != nil {
		return err
	}
	final, err := DecodeSASLResponse(body)
	if err != nil {
		return err
	}
	serverFinal, err := srv.ClientFinal(final.Data)
	switch {
	case err != nil:
		return err
	case !known:
		return fmt.Errorf("%w: unknown user or empty password", ErrAuthFailed)
	}
	return w.Send(&pgproto3.AuthenticationSASLFinal{Data: serverFinal})
}

// serverMD5 sends a random salt and compares the answer in constant time.
func serverMD5(r *Reader, w *Writer, user, password string, known bool) error {
	var salt [4]byte
	_, _ = rand.Read(salt[:])
	if err := sendFlush(w, &pgproto3.AuthenticationMD5Password{Salt: salt}); err != nil {
		return err
	}
	body, err := readAuthResponse(r)
	if err != nil {
		return err
	}
	pm, err := DecodePasswordMessage(body)
	if err != nil {
		return err
	}
	want := MD5Password(user, password, salt)
	match := subtle.ConstantTimeCompare([]byte(pm.Password), []byte(want)) == 1
	switch {
	case !known:
		return fmt.Errorf("%w: unknown user or empty password", ErrAuthFailed)
	case !match:
		return fmt.Errorf("%w: wrong md5 password", ErrAuthFailed)
	}
	return nil
}

// readAuthResponse returns the body of the client's next 'p' message.
func readAuthResponse(r *Reader) ([]byte, error) {
	typ, body, err := r.ReadRaw()
	if err != nil {
		if errors.Is(err, io.EOF) {
			// libpq hangs up here when it has no password to offer.
			return nil, fmt.Errorf("pgwire: client closed the connection during authentication: %w", err)
		}
		return nil, err
	}
	if typ == 'X' {
		return nil, fmt.Errorf("pgwire: client terminated during authentication: %w", io.EOF)
	}
	return body, nil
}

func sendFlush(w *Writer, msg pgproto3.Message) error {
	if err := w.Send(msg); err != nil {
		return err
	}
	return w.Flush()
}
