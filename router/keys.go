package router

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/shardgate/shardgate/router/sqltext"
	"github.com/shardgate/shardgate/topology"
)

// ParamKind says how the wire delivered a bound parameter.
type ParamKind uint8

const (
	ParamText  ParamKind = iota // text format (PostgreSQL text, MySQL string types)
	ParamInt                    // an integer decoded from a binary format
	ParamBytes                  // raw bytes of a binary format (e.g. a 16-byte uuid)
	ParamNull
)

// Param is one bound parameter value, decoded by the proxy only as far as
// routing needs: integers from their binary forms, everything else as
// text or raw bytes.
type Param struct {
	Kind  ParamKind
	Int   int64
	Text  string
	Bytes []byte
}

var errNullKey = errors.New("sharding key is NULL")

// binder resolves the ValueRefs of a Statement for one execution: slot n
// is either a literal the tokenizer lifted out of the text or a bound
// parameter of the client.
type binder struct {
	slots  []sqltext.Slot // nil when the statement was analyzed un-normalized
	params []Param
	raw    bool // the statement was analyzed as written, not normalized
}

// keyspaceID reads the value as key type t and hashes it. It fails when
// the value is missing, NULL or not readable as t.
func (b binder) keyspaceID(t topology.KeyType, v ValueRef) (uint64, error) {
	if v.Lit != nil {
		return literalID(t, *v.Lit)
	}
	if v.Slot <= 0 {
		return 0, fmt.Errorf("%w: not a literal or a parameter", topology.ErrBadKey)
	}
	param := v.Slot
	if b.slots != nil {
		if v.Slot > len(b.slots) {
			return 0, fmt.Errorf("%w: placeholder %d out of range", topology.ErrBadKey, v.Slot)
		}
		s := b.slots[v.Slot-1]
		if s.Param == 0 {
			return literalID(t, s.Lit)
		}
		param = s.Param
	}
	if param > len(b.params) {
		return 0, fmt.Errorf("%w: parameter $%d is not bound", topology.ErrBadKey, param)
	}
	return paramID(t, b.params[param-1])
}

func literalID(t topology.KeyType, l Literal) (uint64, error) {
	if l.Null {
		return 0, errNullKey
	}
	return t.TextKeyspaceID(l.Text)
}

// ParamKeyspaceID is the keyspace id of a bound value as key type t (the
// proxies use it for keys they read outside a statement: COPY data).
func ParamKeyspaceID(t topology.KeyType, p Param) (uint64, error) { return paramID(t, p) }

func paramID(t topology.KeyType, p Param) (uint64, error) {
	switch p.Kind {
	case ParamNull:
		return 0, errNullKey
	case ParamText:
		return t.TextKeyspaceID(p.Text)
	case ParamInt:
		switch t {
		case topology.KeyInt:
			return topology.IntKeyspaceID(p.Int), nil
		case topology.KeyString:
			return topology.StringKeyspaceID(strconv.FormatInt(p.Int, 10)), nil
		}
	case ParamBytes:
		switch {
		case t == topology.KeyString:
			return topology.StringKeyspaceID(string(p.Bytes)), nil
		case t == topology.KeyUUID && len(p.Bytes) == 16:
			return topology.UUIDKeyspaceID([16]byte(p.Bytes)), nil
		}
	}
	return 0, fmt.Errorf("%w: a %v parameter cannot be a %v key", topology.ErrBadKey, p.Kind, t)
}

func (k ParamKind) String() string {
	switch k {
	case ParamText:
		return "text"
	case ParamInt:
		return "integer"
	case ParamBytes:
		return "binary"
	}
	return "NULL"
}
