package mysqlwire

import (
	"encoding/binary"
	"strconv"
)

// OK is an OK packet (CLIENT_PROTOCOL_41 layout).
type OK struct {
	AffectedRows, LastInsertID uint64
	Status, Warnings           uint16
	Info                       string // "Rows matched: 1  Changed: 1  Warnings: 0"
}

// IsOK reports whether p, the first packet of a response, is an OK. A
// binary-protocol row starts with 0x00 too: ask only where an OK can be.
func IsOK(p []byte) bool { return len(p) >= 7 && p[0] == headerOK }

// IsErr reports whether p is an ERR packet. No other packet starts with
// 0xff (it is not a valid length-encoded integer), so this holds anywhere.
func IsErr(p []byte) bool { return len(p) > 0 && p[0] == headerErr }

// IsEOF reports whether p is an EOF packet: 0xfe and shorter than 9
// bytes. A text row whose first value is 16 MiB or longer starts with
// 0xfe too, but it is never that short.
func IsEOF(p []byte) bool { return len(p) > 0 && len(p) < 9 && p[0] == headerEOF }

// ParseOK decodes an OK packet (0x00, or 0xfe for the OK that ends a
// result set under CLIENT_DEPRECATE_EOF). Info is read as a
// length-encoded string, which is what MySQL and MariaDB send even
// without CLIENT_SESSION_TRACK (the documentation's string<EOF> is not
// what servers do); session-state changes after it are ignored, as the
// proxy never asks backends for CLIENT_SESSION_TRACK.
func ParseOK(p []byte) (OK, error) {
	r := reader{b: p, what: "OK packet"}
	if h := r.u8(); r.err == nil && h != headerOK && h != headerEOF {
		r.fail("header 0x%02x", h)
	}
	var ok OK
	ok.AffectedRows = r.lenEncInt()
	ok.LastInsertID = r.lenEncInt()
	ok.Status = r.u16()
	ok.Warnings = r.u16()
	if r.err == nil && r.left() > 0 {
		rest := r.rest()
		s, null, _, err := ReadLenEncString(rest)
		if err != nil || null {
			s = rest // not length-encoded after all: take it as it is
		}
		ok.Info = string(s)
	}
	return ok, r.err
}

// AppendOK appends an OK packet's payload. Info is written
// length-encoded, which parses both with and without
// CLIENT_SESSION_TRACK (there, with no state change flagged, nothing may
// follow it).
func AppendOK(dst []byte, ok OK) []byte {
	dst = append(dst, headerOK)
	dst = AppendLenEncInt(dst, ok.AffectedRows)
	dst = AppendLenEncInt(dst, ok.LastInsertID)
	dst = binary.LittleEndian.AppendUint16(dst, ok.Status&^StatusSessionStateChanged)
	dst = binary.LittleEndian.AppendUint16(dst, ok.Warnings)
	if ok.Info != "" {
		dst = appendLenEncStr(dst, ok.Info)
	}
	return dst
}

// ParseEOF decodes an EOF packet.
func ParseEOF(p []byte) (warnings, status uint16, err error) {
	r := reader{b: p, what: "EOF packet"}
	if !IsEOF(p) {
		r.fail("not an EOF packet (%d bytes)", len(p))
	}
	r.u8()
	warnings, status = r.u16(), r.u16()
	return warnings, status, r.err
}

// AppendEOF appends an EOF packet's payload.
func AppendEOF(dst []byte, warnings, status uint16) []byte {
	dst = append(dst, headerEOF)
	dst = binary.LittleEndian.AppendUint16(dst, warnings)
	return binary.LittleEndian.AppendUint16(dst, status)
}

// Error is a MySQL error (an ERR packet): what a server answered, kept
// whole so the proxy can relay it, or what the proxy answers itself.
type Error struct {
	Code    uint16
	State   string // SQLSTATE, 5 characters
	Message string
}

// Error codes the package itself uses.
const (
	ErAccessDenied   uint16 = 1045 // SQLSTATE 28000
	ErBadDB          uint16 = 1049 // SQLSTATE 42000
	ErUnknownCommand uint16 = 1047 // SQLSTATE 08S01
	ErUnknown        uint16 = 1105 // SQLSTATE HY000
	ErHandshake      uint16 = 1043 // SQLSTATE 08S01
)

// Error formats like the mysql command-line client does.
func (e *Error) Error() string {
	return "ERROR " + strconv.Itoa(int(e.Code)) + " (" + e.State + "): " + e.Message
}

// ParseError decodes an ERR packet. Malformed input gives a 1105 HY000
// Error saying so, never a panic, so a caller can always relay something.
func ParseError(p []byte) *Error {
	if len(p) < 3 || p[0] != headerErr {
		return &Error{Code: ErUnknown, State: "HY000", Message: "malformed ERR packet of " + strconv.Itoa(len(p)) + " bytes"}
	}
	e := &Error{Code: binary.LittleEndian.Uint16(p[1:]), State: "HY000"}
	rest := p[3:]
	if len(rest) >= 6 && rest[0] == '#' {
		e.State, rest = string(rest[1:6]), rest[6:]
	}
	e.Message = string(rest)
	return e
}

// AppendError appends an ERR packet's payload. A State that is not 5
// bytes long is sent as HY000 (clients read exactly 5).
func AppendError(dst []byte, e *Error) []byte {
	dst = append(dst, headerErr)
	dst = binary.LittleEndian.AppendUint16(dst, e.Code)
	state := e.State
	if len(state) != 5 {
		state = "HY000"
	}
	dst = append(dst, '#')
	dst = append(dst, state...)
	return append(dst, e.Message...)
}
