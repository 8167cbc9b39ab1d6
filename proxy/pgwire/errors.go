// Package pgwire holds the PostgreSQL wire-protocol building blocks the
// proxy is made of: message framing with limits (frame.go, writer.go),
// safe decoding (decode.go), SCRAM-SHA-256 and md5 (scram*.go, md5.go),
// and the authentication exchanges on both sides (auth.go, backend.go).
//
// Message types and encoding come from github.com/jackc/pgproto3/v2. That
// module is frozen and several of its decoders panic or loop forever on
// hostile input, so bytes never reach it unframed or unvalidated: see
// decode.go.
package pgwire

import (
	"errors"
	"fmt"
	"maps"

	"github.com/jackc/pgproto3/v2"
)

// Sentinel errors. Callers test them with errors.Is; the wrapped text
// says what exactly was wrong.
var (
	// ErrProtocol: the peer broke the protocol (bad length, a type not
	// allowed here, a malformed body). The stream cannot be trusted any
	// more: close the connection.
	ErrProtocol = errors.New("pgwire: protocol violation")
	// ErrTooLarge: a message is longer than the Reader's maximum. Its body
	// was not read, so the connection must be closed.
	ErrTooLarge = errors.New("pgwire: message too large")
	// ErrUnsupported: a well-formed request for something shardgate does
	// not implement (FunctionCall, GSSAPI, channel binding...).
	ErrUnsupported = errors.New("pgwire: unsupported")
	// ErrAuthFailed: a password did not match, or a server could not prove
	// that it knows the password.
	ErrAuthFailed = errors.New("pgwire: authentication failed")
)

// SQLSTATE codes the package itself uses.
const (
	CodeInvalidPassword    = "28P01" // invalid_password
	CodeInvalidAuthSpec    = "28000" // invalid_authorization_specification
	CodeProtocolViolation  = "08P01" // protocol_violation
	CodeFeatureUnsupported = "0A000" // feature_not_supported
)

// PgError is an ErrorResponse from a PostgreSQL server, kept whole so the
// proxy can relay it to its client unchanged.
type PgError struct {
	Severity            string
	SeverityUnlocalized string
	Code                string
	Message             string
	Detail              string
	Hint                string
	Position            int32
	InternalPosition    int32
	InternalQuery       string
	Where               string
	SchemaName          string
	TableName           string
	ColumnName          string
	DataTypeName        string
	ConstraintName      string
	File                string
	Line                int32
	Routine             string
	UnknownFields       map[byte]string
}

// NewPgError copies a decoded ErrorResponse (which may alias a Reader's
// buffer) into a PgError.
func NewPgError(m *pgproto3.ErrorResponse) *PgError {
	return &PgError{
		Severity: m.Severity, SeverityUnlocalized: m.SeverityUnlocalized,
		Code: m.Code, Message: m.Message, Detail: m.Detail, Hint: m.Hint,
		Position: m.Position, InternalPosition: m.InternalPosition,
		InternalQuery: m.InternalQuery, Where: m.Where,
		SchemaName: m.SchemaName, TableName: m.TableName, ColumnName: m.ColumnName,
		DataTypeName: m.DataTypeName, ConstraintName: m.ConstraintName,
		File: m.File, Line: m.Line, Routine: m.Routine,
		UnknownFields: maps.Clone(m.UnknownFields),
	}
}

// Error reads like libpq's and pgx's messages.
func (e *PgError) Error() string {
	return fmt.Sprintf("%s: %s (SQLSTATE %s)", e.Severity, e.Message, e.Code)
}

// Response turns the error back into the message the server sent.
func (e *PgError) Response() *pgproto3.ErrorResponse {
	return &pgproto3.ErrorResponse{
		Severity: e.Severity, SeverityUnlocalized: e.SeverityUnlocalized,
		Code: e.Code, Message: e.Message, Detail: e.Detail, Hint: e.Hint,
		Position: e.Position, InternalPosition: e.InternalPosition,
		InternalQuery: e.InternalQuery, Where: e.Where,
		SchemaName: e.SchemaName, TableName: e.TableName, ColumnName: e.ColumnName,
		DataTypeName: e.DataTypeName, ConstraintName: e.ConstraintName,
		File: e.File, Line: e.Line, Routine: e.Routine,
		UnknownFields: maps.Clone(e.UnknownFields),
	}
}

// ErrorResponse builds the proxy's own error message. The unlocalized
// severity (field V) is set too because clients such as pgx prefer it.
func ErrorResponse(severity, code, msg string) *pgproto3.ErrorResponse {
	return &pgproto3.ErrorResponse{
		Severity:            severity,
		SeverityUnlocalized: severity,
		Code:                code,
		Message:             msg,
	}
}
