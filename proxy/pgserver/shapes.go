package pgserver

// Simple-protocol statements as prepared statements (prepare_simple).
//
// PostgreSQL parses, analyzes and plans every Query message from scratch;
// a prepared statement skips that on each execution after the first. The
// router already reduces a statement to its shape (the text with literals
// replaced by $n), so the proxy runs a hot shape as a named statement on
// each backend connection and binds the literals: for pgbench -S that is
// about a third less server CPU per transaction.
//
// The answer must be the one the Query would have given. Literals are
// bound with the types PostgreSQL's parser gives constants: a whole number
// int4 or int8 by size (numeric past int8), any other number numeric, a
// plain quoted string unknown, resolved from its context as a quoted
// constant is. Where that resolution fails (SELECT 'x' has no context),
// the Parse fails before anything ran: the proxy sends the Query as
// written instead and remembers the shape as one that does not prepare.
// A shape is tried outside a transaction only, where a failed Parse aborts
// nothing; once it has prepared, it runs prepared in transactions too.
//
// Only shapes seen twice are prepared (a one-off statement would only take
// server memory), and each connection keeps at most maxStatementsPerConn
// statements, closing the oldest (see statementName). Other string forms (E'', B'', X'', U&'', N'')
// and a session with standard_conforming_strings off keep the text as is.

import (
	"encoding/binary"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgproto3/v2"

	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/sqltext"
)

const (
	// maxShapeVerdicts bounds the shapes the server remembers; past it the
	// book starts over (shapes are then learned again, nothing is lost).
	maxShapeVerdicts = 20000
)

// oidUnspecified leaves a parameter's type to the server, which infers
// it from context as it does for a quoted constant.
const oidUnspecified = 0

type shapeVerdict uint8

const (
	shapeSeen shapeVerdict = iota + 1 // seen once: not tried yet
	shapeGood                         // prepared on some connection
	shapeBad                          // its Parse failed: run as written
)

// shapeBook remembers, per shape (text and parameter types), whether it
// prepares. It is shared by every session of a Server.
type shapeBook struct {
	mu sync.RWMutex
	m  map[string]shapeVerdict
}

// get returns the verdict on a shape, noting it as seen if it is new.
func (b *shapeBook) get(key []byte) shapeVerdict {
	b.mu.RLock()
	v := b.m[string(key)] // no allocation for the lookup
	b.mu.RUnlock()
	if v == 0 {
		b.set(string(key), shapeSeen)
	}
	return v
}

func (b *shapeBook) set(key string, v shapeVerdict) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil || len(b.m) >= maxShapeVerdicts {
		b.m = map[string]shapeVerdict{}
	}
	b.m[key] = v
}

// shapeExec is a statement of the simple protocol to run as its prepared
// shape.
type shapeExec struct {
	text   string
	oids   []uint32
	values [][]byte
	key    []byte // the shape in the book, text and types (the session's scratch: good until its next statement)
	tried  bool   // the shape has not prepared yet: its Parse may fail
	arena  []byte // holds the values' bytes
}

// maxShapeArena is the most a session keeps of its last literals' bytes.
const maxShapeArena = 4 << 10

// Messages that never change, sent by pointer without allocating.
var (
	describePortal = &pgproto3.Describe{ObjectType: 'P'}
	executeAll     = &pgproto3.Execute{}
)

// preparedShape returns how to run a single-target plan as a prepared
// statement, or nil to send its text as it is.
func (s *session) preparedShape(plan *router.Plan) *shapeExec {
	switch plan.Statement.Kind {
	case router.KindSelect, router.KindInsert, router.KindUpdate, router.KindDelete:
	default:
		return nil
	}
	if plan.Shape == "" || plan.Statement.Explain || plan.Statement.Cursor || plan.Targets[0].SQL != "" {
		return nil
	}
	// The session's scratch: a statement runs to its end before the next
	// is routed, and this runs on every simple-protocol statement.
	if s.shape == nil {
		s.shape = &shapeExec{} // on first use: an idle client keeps none
	}
	x := s.shape
	if cap(x.arena) > maxShapeArena {
		x.arena = nil // an idle session keeps no big literal's copy
	}
	x.text, x.oids, x.values, x.arena, x.tried = plan.Shape, x.oids[:0], x.values[:0], x.arena[:0], false
	key := append(s.shapeKey[:0], plan.Shape...)
	for _, sl := range plan.Slots {
		oid, ok := literalType(sl)
		if !ok {
			return nil
		}
		n := len(x.arena)
		x.arena = append(x.arena, sl.Lit.Text...)
		x.oids, x.values = append(x.oids, oid), append(x.values, x.arena[n:len(x.arena):len(x.arena)])
		key = binary.BigEndian.AppendUint32(append(key, 0), oid)
	}
	s.shapeKey, x.key = key, key
	v := s.srv.shapes.get(key)
	if v == 0 || v == shapeBad || v == shapeSeen && s.tx.open {
		return nil
	}
	x.tried = v == shapeSeen
	return x
}

// literalType is the type PostgreSQL's parser gives a literal, and false
// for one that cannot be bound as a parameter of that type.
func literalType(sl sqltext.Slot) (uint32, bool) {
	if sl.Param != 0 || sl.Lit.Null || sl.Raw == "" {
		return 0, false
	}
	if sl.Lit.String {
		// A plain '...' or $$...$$ constant; the prefixed forms are
		// typed (bit strings, national characters) or escaped by rules
		// the value's bytes no longer show.
		return oidUnspecified, sl.Raw[0] == '\'' || sl.Raw[0] == '$'
	}
	t := sl.Lit.Text
	if t == "" || strings.ContainsFunc(t, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r == '.' || r == 'e' || r == 'E' || r == '+' || r == '-')
	}) {
		return 0, false // 0x1F, 1_000: PostgreSQL 16 forms, left to the server
	}
	if v, err := strconv.ParseInt(t, 10, 64); err == nil {
		if v == int64(int32(v)) {
			return oidInt4, true
		}
		return oidInt8, true
	}
	return oidNumeric, true
}

// send queues the shape's Parse (unless c has it), Bind, Describe,
// Execute and Sync: the answer is that of the Query, preceded by
// ParseComplete and BindComplete (and NoData for a statement without
// rows), which the relay drops.
func (x *shapeExec) send(c *backendConn) {
	name, key, ok := c.statementName(x.text, x.oids, 0)
	c.lastParsed = ""
	if !ok {
		c.w.Send(&pgproto3.Parse{Name: name, Query: x.text, ParameterOIDs: x.oids})
		c.lastParsed = key
	}
	c.bind = pgproto3.Bind{PreparedStatement: name, Parameters: x.values}
	c.w.Send(&c.bind)
	c.bind.Parameters = nil
	c.w.Send(describePortal)
	c.w.Send(executeAll)
	c.w.Send(&pgproto3.Sync{})
}

// forget drops the shape's statement from c after its Parse or Bind
// failed (a plan gone stale, say): the next use parses it anew.
func (x *shapeExec) forget(c *backendConn) {
	k := c.statementKey(x.text, x.oids)
	if st, ok := c.prepared[string(k)]; ok {
		delete(c.prepared, string(k))
		c.w.Send(&pgproto3.Close{ObjectType: 'S', Name: st.name})
	}
	c.lastParsed = ""
}

// conformingStrings reports whether the server reads '\' in '...' as
// itself, as the tokenizer does.
func (c *backendConn) conformingStrings() bool {
	return c.params["standard_conforming_strings"] != "off"
}
