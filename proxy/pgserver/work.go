package pgserver

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/jackc/pgproto3/v2"

	"github.com/shardgate/shardgate/router"
)

// work is one statement to execute: its text, and for the extended
// protocol the bound portal.
type work struct {
	sql  string
	prep *router.Prepared // a named statement's text, tokenized once
	ext  *extExec         // nil for the simple protocol
	// shape, for the simple protocol: run the statement as its prepared
	// shape (nil: send the text).
	shape *shapeExec
	// advisory: the statement may take or release a session-level
	// advisory lock (see advisory.go).
	advisory bool
}

// extExec is an Execute of a bound portal.
type extExec struct {
	oids     []uint32 // parameter types (declared at Parse or learned by Describe)
	bind     *pgproto3.Bind
	describe bool // the client asked for the portal's RowDescription
	maxRows  uint32
	// portal is the server portal of a row-limited Execute in a
	// transaction ("": the unnamed one); resume: it is open on the
	// server already, and bound: this Execute bound it (see portals.go).
	portal        string
	resume, bound bool
	stmt          *preparedStmt // the client's statement
	// shardFormats are the result formats a merge asks the shards for
	// (nil: all text; see shardFormats).
	shardFormats []int16
}

// Parameter type OIDs routing decodes in binary format.
const (
	oidText    = 25
	oidVarchar = 1043
	oidUUID    = 2950
)

// routeParams decodes the bound parameters as far as routing needs.
func (w *work) routeParams() []router.Param {
	if w.ext == nil {
		return nil
	}
	b := w.ext.bind
	out := make([]router.Param, len(b.Parameters))
	for i, v := range b.Parameters {
		var oid uint32
		if i < len(w.ext.oids) {
			oid = w.ext.oids[i]
		}
		out[i] = decodeParam(v, formatOf(b.ParameterFormatCodes, i), oid)
	}
	return out
}

func formatOf(codes []int16, i int) int16 {
	switch {
	case len(codes) == 0:
		return 0
	case len(codes) == 1:
		return codes[0]
	case i < len(codes):
		return codes[i]
	}
	return 0
}

// decodeParam reads one parameter: text as is, binary integers by their
// width, binary floats, numerics and booleans as text, other binary values as raw
// bytes (a 16-byte uuid).
func decodeParam(v []byte, format int16, oid uint32) router.Param {
	switch {
	case v == nil:
		return router.Param{Kind: router.ParamNull}
	case format == 0:
		return router.Param{Kind: router.ParamText, Text: string(v)}
	}
	switch oid {
	case oidInt2:
		if len(v) == 2 {
			return router.Param{Kind: router.ParamInt, Int: int64(int16(binary.BigEndian.Uint16(v)))}
		}
	case oidInt4:
		if len(v) == 4 {
			return router.Param{Kind: router.ParamInt, Int: int64(int32(binary.BigEndian.Uint32(v)))}
		}
	case oidInt8:
		if len(v) == 8 {
			return router.Param{Kind: router.ParamInt, Int: int64(binary.BigEndian.Uint64(v))}
		}
	case oidFloat4:
		// As text (a HAVING compares it; an int key reads a whole one).
		if len(v) == 4 {
			return router.Param{Kind: router.ParamText, Text: strconv.FormatFloat(float64(math.Float32frombits(binary.BigEndian.Uint32(v))), 'g', -1, 32)}
		}
	case oidFloat8:
		if len(v) == 8 {
			return router.Param{Kind: router.ParamText, Text: strconv.FormatFloat(math.Float64frombits(binary.BigEndian.Uint64(v)), 'g', -1, 64)}
		}
	case oidNumeric:
		if text, ok := numericText(v); ok {
			return router.Param{Kind: router.ParamText, Text: text}
		}
	case oidText, oidVarchar:
		return router.Param{Kind: router.ParamText, Text: string(v)}
	case oidBool: // set_config's is_local
		if len(v) == 1 {
			return router.Param{Kind: router.ParamText, Text: strconv.FormatBool(v[0] != 0)}
		}
	}
	return router.Param{Kind: router.ParamBytes, Bytes: v}
}

// send queues Parse (unless the connection has the statement), Bind,
// Describe, Execute and Sync for one target. params, when not nil, picks
// and orders the client's parameters for a rewritten text. For a merge
// the shard answers in text with its row description, whatever formats
// the client asked for: the merge works on text and encodes at the end.
func (e *extExec) send(c *backendConn, text string, params []int, merge bool) {
	if e.resume {
		e.sendResume(c)
		return
	}
	oids := e.oids
	b := *e.bind
	if params != nil {
		oids = make([]uint32, len(params))
		b.Parameters = make([][]byte, len(params))
		b.ParameterFormatCodes = make([]int16, len(params))
		for i, p := range params {
			if p-1 < len(e.oids) {
				oids[i] = e.oids[p-1]
			}
			if p-1 < len(e.bind.Parameters) {
				b.Parameters[i] = e.bind.Parameters[p-1]
			}
			b.ParameterFormatCodes[i] = formatOf(e.bind.ParameterFormatCodes, p-1)
		}
	}
	name, key, ok := c.statementName(text, oids, e.stmt.epoch)
	c.lastParsed = ""
	if !ok {
		c.w.Send(&pgproto3.Parse{Name: name, Query: text, ParameterOIDs: oids})
		c.lastParsed = key
	}
	b.DestinationPortal, b.PreparedStatement = e.portal, name
	e.bound = e.portal != ""
	if merge {
		b.ResultFormatCodes = e.shardFormats
	}
	c.w.Send(&b)
	if merge || e.describe {
		c.w.Send(&pgproto3.Describe{ObjectType: 'P', Name: e.portal})
	}
	c.w.Send(&pgproto3.Execute{Portal: e.portal, MaxRows: e.maxRows})
	c.w.Send(&pgproto3.Sync{})
}

// maxStatementsPerConn bounds the statements one backend connection keeps
// prepared, as PgBouncer's max_prepared_statements does: an application
// that sends many distinct texts (IN lists of every length, literals in
// the text) would otherwise fill the server's memory with plans (a
// variable for tests).
var maxStatementsPerConn = 500

// statementName returns the connection's name for a statement text (and
// parameter types), and whether it is already prepared there. Names are
// per connection, so a client's statements survive transaction pooling:
// whichever connection runs them prepares them once. A new one makes the
// oldest go when the connection has maxStatementsPerConn: its Close is
// queued in front of the caller's Parse (every reader of the answer skips
// CloseComplete).
//
// since is the schema epoch the client prepared its statement in: one
// prepared here before it is parsed anew (see staleplans.go).
func (c *backendConn) statementName(text string, oids []uint32, since uint64) (name, key string, ok bool) {
	k := c.statementKey(text, oids)
	if st, ok := c.prepared[string(k)]; ok { // no allocation for the lookup
		if st.epoch >= since {
			c.boundName = st.name
			return st.name, "", true
		}
		delete(c.prepared, string(k)) // older than the client's: parse it again
		c.w.Send(&pgproto3.Close{ObjectType: 'S', Name: st.name})
	}
	if c.prepared == nil {
		c.prepared = map[string]serverStmt{}
	}
	for len(c.order) >= maxStatementsPerConn {
		old := c.order[0]
		c.order = append(c.order[:0], c.order[1:]...)
		if st, ok := c.prepared[old]; ok {
			delete(c.prepared, old)
			c.w.Send(&pgproto3.Close{ObjectType: 'S', Name: st.name})
		}
	}
	c.nextStmt++
	name, key = "sg"+strconv.Itoa(c.nextStmt), string(k)
	c.prepared[key] = serverStmt{name: name, epoch: c.currentEpoch()}
	c.order = append(c.order, key)
	c.boundName = name
	return name, key, false
}

// serverStmt is a statement prepared on a server connection, with the
// schema epoch it was parsed in.
type serverStmt struct {
	name  string
	epoch uint64
}

// statementKey is the key of c.prepared for a text and parameter types,
// in c's scratch buffer (valid until the next call).
func (c *backendConn) statementKey(text string, oids []uint32) []byte {
	k := append(c.keyBuf[:0], text...)
	for _, o := range oids {
		k = binary.BigEndian.AppendUint32(append(k, 0), o)
	}
	c.keyBuf = k
	return k
}

// failed handles a server error for the statement the last send ran: one
// whose Parse may have failed, or whose plan went stale (errBody says,
// see staleplans.go), is forgotten, so it is parsed again (under a new
// name) next time.
func (c *backendConn) failed(errBody []byte) {
	if c.lastParsed != "" {
		delete(c.prepared, c.lastParsed)
		c.lastParsed = ""
	}
	c.forgetStale(errBody)
}
