// Package mysqlwire is the MySQL wire layer of the proxy:
//
//   - conn.go: packet framing with buffered I/O and sequence ids;
//   - codec.go, packets.go, column.go, textrow.go: length-encoded values,
//     OK/ERR/EOF, column definitions, text-protocol rows;
//   - binary.go, binvalue.go, temporal.go, floatfmt.go: binary-protocol
//     rows to and from the text the merge works on;
//   - stmt.go: prepared-statement commands and routing of bound values;
//   - accept*.go: the client-facing handshake, whose authentication is
//     go-mysql's server package (only that: the command phase is ours);
//   - backend*.go, scramble.go: logged-in connections to MySQL/MariaDB.
//
// Parsers never panic and never read past their input: truncated or
// malformed bytes are an error wrapping ErrMalformed. Parsed byte slices
// alias the input unless a doc comment says otherwise.
package mysqlwire

import "errors"

// Sentinel errors; the wrapped text says what exactly was wrong.
var (
	// ErrMalformed: a packet is truncated or does not follow its layout.
	ErrMalformed = errors.New("mysqlwire: malformed packet")
	// ErrTooLarge: a payload exceeds Conn.MaxPacket. The rest of it was not
	// read, so the connection must be closed.
	ErrTooLarge = errors.New("mysqlwire: packet too large")
	// ErrProtocol: the peer broke the protocol (out-of-order sequence ids,
	// an unexpected packet). Close the connection.
	ErrProtocol = errors.New("mysqlwire: protocol violation")
	// ErrUnsupported: a well-formed request for something not implemented
	// (an authentication plugin, a parameter type).
	ErrUnsupported = errors.New("mysqlwire: unsupported")
)

// Packet headers (first payload byte).
const (
	headerOK          = 0x00
	headerLocalInfile = 0xfb
	headerEOF         = 0xfe
	headerErr         = 0xff
	headerAuthMore    = 0x01
	headerAuthSwitch  = 0xfe
)

// Commands (first byte of a client's command packet).
const (
	ComQuit             = 0x01
	ComInitDB           = 0x02
	ComQuery            = 0x03
	ComFieldList        = 0x04
	ComPing             = 0x0e
	ComChangeUser       = 0x11
	ComStmtPrepare      = 0x16
	ComStmtExecute      = 0x17
	ComStmtSendLongData = 0x18
	ComStmtClose        = 0x19
	ComStmtReset        = 0x1a
	ComSetOption        = 0x1b
	ComStmtFetch        = 0x1c
	ComResetConnection  = 0x1f
)

// Server status flags (OK and EOF packets).
const (
	StatusInTrans             uint16 = 0x0001
	StatusAutocommit          uint16 = 0x0002
	StatusMoreResults         uint16 = 0x0008
	StatusCursorExists        uint16 = 0x0040
	StatusLastRowSent         uint16 = 0x0080
	StatusInTransReadOnly     uint16 = 0x2000
	StatusSessionStateChanged uint16 = 0x4000
)

// Capability flags (the ones this package or its callers look at).
const (
	ClientLongPassword         uint32 = 0x00000001
	ClientFoundRows            uint32 = 0x00000002
	ClientLongFlag             uint32 = 0x00000004
	ClientConnectWithDB        uint32 = 0x00000008
	ClientCompress             uint32 = 0x00000020
	ClientLocalFiles           uint32 = 0x00000080
	ClientProtocol41           uint32 = 0x00000200
	ClientSSL                  uint32 = 0x00000800
	ClientTransactions         uint32 = 0x00002000
	ClientSecureConnection     uint32 = 0x00008000
	ClientMultiStatements      uint32 = 0x00010000
	ClientMultiResults         uint32 = 0x00020000
	ClientPSMultiResults       uint32 = 0x00040000
	ClientPluginAuth           uint32 = 0x00080000
	ClientConnectAttrs         uint32 = 0x00100000
	ClientPluginAuthLenencData uint32 = 0x00200000
	ClientSessionTrack         uint32 = 0x00800000
	ClientDeprecateEOF         uint32 = 0x01000000
	ClientQueryAttributes      uint32 = 0x08000000
)

// Column types (Column.Type, the low byte of Param.Type).
const (
	TypeDecimal    byte = 0x00
	TypeTiny       byte = 0x01
	TypeShort      byte = 0x02
	TypeLong       byte = 0x03
	TypeFloat      byte = 0x04
	TypeDouble     byte = 0x05
	TypeNull       byte = 0x06
	TypeTimestamp  byte = 0x07
	TypeLongLong   byte = 0x08
	TypeInt24      byte = 0x09
	TypeDate       byte = 0x0a
	TypeTime       byte = 0x0b
	TypeDateTime   byte = 0x0c
	TypeYear       byte = 0x0d
	TypeNewDate    byte = 0x0e
	TypeVarChar    byte = 0x0f
	TypeBit        byte = 0x10
	TypeTimestamp2 byte = 0x11
	TypeDateTime2  byte = 0x12
	TypeTime2      byte = 0x13
	TypeJSON       byte = 0xf5
	TypeNewDecimal byte = 0xf6
	TypeEnum       byte = 0xf7
	TypeSet        byte = 0xf8
	TypeTinyBlob   byte = 0xf9
	TypeMediumBlob byte = 0xfa
	TypeLongBlob   byte = 0xfb
	TypeBlob       byte = 0xfc
	TypeVarString  byte = 0xfd
	TypeString     byte = 0xfe
	TypeGeometry   byte = 0xff
)

// Column flags (Column.Flags).
const (
	FlagNotNull  uint16 = 0x0001
	FlagPriKey   uint16 = 0x0002
	FlagBlob     uint16 = 0x0010
	FlagUnsigned uint16 = 0x0020
	FlagZerofill uint16 = 0x0040
	FlagBinary   uint16 = 0x0080
)

// ParamUnsigned is set in Param.Type for an unsigned integer parameter
// (the 0x80 flag byte of COM_STMT_EXECUTE's type pairs).
const ParamUnsigned uint16 = 0x8000

// maxPayload is the largest payload of one physical packet; a logical
// payload of this length or more continues in the next packet.
const maxPayload = 0xffffff
