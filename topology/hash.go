package topology

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// KeyType is the declared type of a sharding key. It decides the canonical
// bytes that are hashed, so one value hashes alike however it is written.
type KeyType uint8

const (
	KeyInt KeyType = iota + 1
	KeyString
	KeyUUID
)

// ErrBadKey is returned for a key value that cannot be read as its type.
var ErrBadKey = errors.New("bad sharding key value")

// ParseKeyType reads a type name from the topology file.
func ParseKeyType(s string) (KeyType, error) {
	switch s {
	case "int":
		return KeyInt, nil
	case "string":
		return KeyString, nil
	case "uuid":
		return KeyUUID, nil
	}
	return 0, fmt.Errorf("unknown key type %q (want int, string or uuid)", s)
}

func (t KeyType) String() string {
	switch t {
	case KeyInt:
		return "int"
	case KeyString:
		return "string"
	case KeyUUID:
		return "uuid"
	}
	return "KeyType(" + strconv.Itoa(int(t)) + ")"
}

// KeyspaceID hashes canonical key bytes. This is the placement function of
// every sharded row: changing it moves data, so hash_vectors pins it.
func KeyspaceID(canonical []byte) uint64 { return xxhash.Sum64(canonical) }

// IntKeyspaceID is the keyspace id of an int key: xxhash64 of the value as
// 8 big-endian bytes. It does not allocate.
func IntKeyspaceID(v int64) uint64 {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	return xxhash.Sum64(b[:])
}

// StringKeyspaceID is the keyspace id of a string key: its UTF-8 bytes as is.
func StringKeyspaceID(s string) uint64 { return xxhash.Sum64String(s) }

// UUIDKeyspaceID is the keyspace id of a uuid key: its 16 raw bytes.
func UUIDKeyspaceID(u [16]byte) uint64 { return xxhash.Sum64(u[:]) }

// TextKeyspaceID reads a key written as text (a SQL literal's value, a
// text-format parameter, a command-line argument) as type t and hashes it.
func (t KeyType) TextKeyspaceID(s string) (uint64, error) {
	switch t {
	case KeyInt:
		v, err := ParseIntKey(s)
		if err != nil {
			return 0, err
		}
		return IntKeyspaceID(v), nil
	case KeyString:
		return StringKeyspaceID(s), nil
	case KeyUUID:
		u, err := ParseUUID(s)
		if err != nil {
			return 0, err
		}
		return UUIDKeyspaceID(u), nil
	}
	return 0, fmt.Errorf("%w: unknown key type %v", ErrBadKey, t)
}

// ParseIntKey reads a decimal int64, allowing the surrounding blanks both
// PostgreSQL and MySQL allow in '42'-style string literals of an int column.
func ParseIntKey(s string) (int64, error) {
	v, err := strconv.ParseInt(strings.Trim(s, " \t\n\r"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a 64-bit integer", ErrBadKey, s)
	}
	return v, nil
}

// ParseUUID reads the forms PostgreSQL's uuid input accepts: canonical
// 8-4-4-4-12, 32 plain hex digits, optionally in braces, in any case.
func ParseUUID(s string) ([16]byte, error) {
	var u [16]byte
	in := s
	if strings.HasPrefix(in, "{") && strings.HasSuffix(in, "}") {
		in = in[1 : len(in)-1]
	}
	if len(in) == 36 {
		if in[8] != '-' || in[13] != '-' || in[18] != '-' || in[23] != '-' {
			return u, fmt.Errorf("%w: %q is not a uuid", ErrBadKey, s)
		}
		in = in[:8] + in[9:13] + in[14:18] + in[19:23] + in[24:]
	}
	if len(in) != 32 {
		return u, fmt.Errorf("%w: %q is not a uuid", ErrBadKey, s)
	}
	if _, err := hex.Decode(u[:], []byte(in)); err != nil {
		return u, fmt.Errorf("%w: %q is not a uuid", ErrBadKey, s)
	}
	return u, nil
}
