package pgserver

import (
	"bytes"

	"github.com/jackc/pgproto3/v2"

	"github.com/shardgate/shardgate/router"
)

// A statement the proxy prepared on a server connection keeps the plan
// of the schema it was parsed under. After DDL that changes its result
// columns the server refuses it ("cached plan must not change result
// type", 0A000) until it is parsed again, as it does for a client's own
// statement; the client then prepares its statement again. But the proxy
// maps the client's text to the statement each connection already has,
// so a re-prepared statement would meet the stale one again, on every
// pooled connection. So the proxy counts schema epochs (DDL through the
// proxy, and each stale plan a server reports), each server statement
// remembers the epoch it was parsed in and each client statement the
// epoch it was prepared in; a server statement older than the client's
// is parsed anew (its Close goes in front). A client statement prepared
// before the change still runs on the old server statements, where the
// server decides, as it would directly, whether its plan went stale.

// checkPlan runs before a client statement prepared in an older schema
// epoch executes on c: the statement's columns there are compared with
// those the client was told at its Describe (a Parse+Describe round trip,
// once per statement and epoch). Where they differ, the client gets
// what the server gives a statement whose plan went stale, 0A000, and
// prepares it again; where they match, its view is current again.
func (s *session) checkPlan(c *backendConn, w *work, t router.Target) error {
	e := w.ext
	if e == nil || e.resume || t.SQL != "" || e.stmt.rowDesc == nil || e.stmt.epoch >= c.currentEpoch() {
		return nil
	}
	now := c.currentEpoch()
	name, key, prepared := c.statementName(w.sql, e.oids, e.stmt.epoch)
	c.lastParsed = ""
	if !prepared {
		c.w.Send(&pgproto3.Parse{Name: name, Query: w.sql, ParameterOIDs: e.oids})
		c.lastParsed = key
	}
	c.w.Send(&pgproto3.Describe{ObjectType: 'S', Name: name})
	c.w.Send(&pgproto3.Sync{})
	if err := c.w.Flush(); err != nil {
		return &backendError{c.addr, err}
	}
	desc := []byte{}
	var failure []byte
	for {
		typ, body, err := c.r.ReadRaw()
		if err != nil {
			return &backendError{c.addr, err}
		}
		switch typ {
		case 'T':
			desc = append(desc, body...)
		case 'E':
			if isFatal(body) {
				return sessionEnded(c, body)
			}
			c.failed(body)
			failure = append([]byte(nil), body...)
		case 'Z':
			switch {
			case failure != nil:
				s.forwarded++
				s.w.WriteRaw('E', failure)
				return errRelayed
			case !bytes.Equal(desc, e.stmt.rowDesc):
				return &clientError{code: "0A000", msg: "cached plan must not change result type"}
			}
			e.stmt.epoch = now
			return nil
		}
	}
}

// currentEpoch is the server's schema epoch (0 for a connection not
// dialled by a pool, in tests).
func (c *backendConn) currentEpoch() uint64 {
	if c.schema == nil {
		return 0
	}
	return c.schema.Load()
}

// forgetStale drops the statement the last send bound when the server's
// error says its plan went stale, and starts a new epoch: the client's
// next Parse of it must not meet an old one on another connection.
func (c *backendConn) forgetStale(errBody []byte) {
	if c.boundName == "" || !isStalePlan(errBody) {
		return
	}
	for key, st := range c.prepared {
		if st.name == c.boundName {
			delete(c.prepared, key)
			c.w.Send(&pgproto3.Close{ObjectType: 'S', Name: st.name})
			break
		}
	}
	c.boundName = ""
	if c.schema != nil {
		c.schema.Add(1)
	}
}

// isStalePlan reports whether an ErrorResponse body is PostgreSQL's
// "cached plan must not change result type".
func isStalePlan(body []byte) bool {
	var code, msg []byte
	for len(body) > 1 {
		field := body[0]
		end := bytes.IndexByte(body[1:], 0)
		if end < 0 {
			return false
		}
		switch field {
		case 'C':
			code = body[1 : 1+end]
		case 'M':
			msg = body[1 : 1+end]
		}
		body = body[2+end:]
	}
	return string(code) == "0A000" && bytes.HasPrefix(msg, []byte("cached plan must not change result type"))
}
