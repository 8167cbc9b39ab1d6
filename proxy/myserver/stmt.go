package myserver

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/shardgate/shardgate/proxy/console"
	"github.com/shardgate/shardgate/proxy/mysqlwire"
	"github.com/shardgate/shardgate/router"
)

// maxLongData bounds what COM_STMT_SEND_LONG_DATA may accumulate for one
// statement.
const maxLongData = 64 << 20

// maxSessionStatements bounds the statements one client keeps prepared
// (MariaDB's default max_prepared_stmt_count, which it applies to the
// whole server): a client that never closes them would otherwise grow the
// proxy's memory without end. A variable for tests.
var maxSessionStatements = 16382

// clientStmt is a statement the client prepared: a proxy-side id for a
// text that is prepared lazily on each backend connection that runs it.
type clientStmt struct {
	id      uint32
	sql     string
	params  int
	columns int
	// types are the parameter types of the last execute that bound them:
	// clients send them only when they change (new-params-bound-flag).
	types    []uint16
	longData map[int][]byte
	longSize int
	prep     *router.Prepared // the text tokenized once for routing
}

// stmtPrepare answers COM_STMT_PREPARE with the definitions a server
// gives for the text (the transaction's, or the unsharded shard's
// primary, which holds every table) under a proxy-side statement id.
func (s *session) stmtPrepare(ctx context.Context, sql string) error {
	if console.IsCommand(sql) {
		// The server would call it a syntax error: say what it is.
		return &mysqlwire.Error{Code: 1295, State: "HY000", Message: "SHOW SHARDGATE is answered by the proxy as a text query only, not as a prepared statement"}
	}
	db, err := s.db()
	if err != nil {
		return err
	}
	if len(s.stmts) >= maxSessionStatements {
		return &mysqlwire.Error{Code: 1461, State: "42000", Message: fmt.Sprintf(
			"Can't create more than max_prepared_stmt_count statements (current value: %d): shardgate's limit per client; close statements you no longer use", maxSessionStatements)}
	}
	key := s.defsKey(sql)
	kept, epoch := s.srv.defs.get(key)
	if kept != nil {
		return s.answerPrepare(sql, kept)
	}
	var l lease
	if len(s.tx.parts) > 0 {
		l = lease{conn: s.tx.parts[0].lease.conn, pinned: true}
	} else if l, err = s.connect(ctx, db, router.Target{Shard: db.Unsharded, Role: router.RolePrimary}); err != nil {
		return err
	}
	d, err := s.prepareOn(l.conn, sql)
	s.release(l, !isClean(err))
	if err == nil && key != "" {
		s.srv.defs.put(key, d, epoch)
	}
	return err
}

// prepareOn prepares sql on c and relays the definitions to the client,
// keeping the statement prepared on c for later executes there. It
// returns the server's answer, for the cache (see stmtdefs.go).
func (s *session) prepareOn(c *backendConn, sql string) (*stmtDefs, error) {
	cmd := append(append(s.cmd[:0], comStmtPrepare), sql...)
	s.cmd = cmd
	if err := c.send(cmd); err != nil {
		return nil, &backendError{c.addr, err}
	}
	p, err := c.ReadPacket()
	if err != nil {
		return nil, &backendError{c.addr, err}
	}
	if mysqlwire.IsErr(p) {
		return nil, s.forward(p)
	}
	ok, err := mysqlwire.ParsePrepareOK(p)
	if err != nil {
		return nil, &backendError{c.addr, err}
	}
	st := s.newClientStmt(sql, ok)
	c.remember(sql, &backendStmt{id: ok.StatementID, params: st.params, columns: st.columns})
	mine := ok
	mine.StatementID = st.id
	s.out = mysqlwire.AppendPrepareOK(s.out[:0], mine)
	if err := s.forward(s.out); err != nil {
		return nil, err
	}
	d := &stmtDefs{ok: ok}
	for _, n := range []int{st.params, st.columns} {
		if n == 0 {
			continue
		}
		for i := 0; i <= n; i++ { // n definitions and an EOF
			p, err := c.ReadPacket()
			if err != nil {
				return nil, &backendError{c.addr, err}
			}
			d.packets = append(d.packets, append([]byte(nil), p...))
			if mysqlwire.IsEOF(p) {
				s.patchStatus(p, false)
			}
			if err := s.forward(p); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

// newClientStmt registers a statement the client prepared, under the
// next proxy-side id.
func (s *session) newClientStmt(sql string, ok mysqlwire.PrepareOK) *clientStmt {
	s.nextStmtID++
	st := &clientStmt{id: s.nextStmtID, sql: sql, params: int(ok.Params), columns: int(ok.Columns), prep: s.srv.router.Prepare(sql)}
	s.stmts[st.id] = st
	return st
}

// stmtExecute runs COM_STMT_EXECUTE: the parameters are decoded (with the
// types bound by an earlier execute when the client does not repeat
// them), the statement is routed by them and executed on each target's
// connection under that connection's own statement id.
func (s *session) stmtExecute(ctx context.Context, p []byte) error {
	st, err := s.stmtFor(p, "mysqld_stmt_execute")
	if err != nil {
		return err
	}
	ex, err := mysqlwire.ParseStmtExecute(p, st.params, st.types, st.longData)
	st.longData, st.longSize = nil, 0
	if err != nil {
		return &mysqlwire.Error{Code: 1210, State: "HY000", Message: "Incorrect arguments to mysqld_stmt_execute: " + err.Error()}
	}
	if ex.Flags&0x07 != 0 {
		return &mysqlwire.Error{Code: erNotSupported, State: "42000", Message: "shardgate: server-side cursors (COM_STMT_FETCH) are not supported"}
	}
	if len(ex.Params) > 0 {
		st.types = st.types[:0]
		for _, prm := range ex.Params {
			st.types = append(st.types, prm.Type)
		}
	}
	// The session's scratch (a statement runs to its end before the next
	// packet is read), emptied after so an idle client keeps no packet.
	w := &s.execWork
	*w = work{sql: st.sql, prep: st.prep, binary: true, params: ex.Params, rparams: w.rparams[:0]}
	for _, prm := range ex.Params {
		w.rparams = append(w.rparams, mysqlwire.RouterParam(prm))
	}
	err = s.execute(ctx, w)
	*w = work{rparams: w.rparams[:0]}
	if cap(w.rparams) > 64 {
		w.rparams = nil
	}
	return err
}

// stmtFor finds the statement a COM_STMT_* packet names.
func (s *session) stmtFor(p []byte, command string) (*clientStmt, error) {
	if len(p) < 5 {
		return nil, &mysqlwire.Error{Code: 1210, State: "HY000", Message: "Incorrect arguments to " + command}
	}
	id := binary.LittleEndian.Uint32(p[1:5])
	st, ok := s.stmts[id]
	if !ok {
		return nil, &mysqlwire.Error{Code: 1243, State: "HY000", Message: fmt.Sprintf("Unknown prepared statement handler (%d) given to %s", id, command)}
	}
	return st, nil
}

// stmtSendLongData keeps a chunk of a parameter's value for the next
// execute. The command has no answer; a bad one is remembered by the
// execute failing.
func (s *session) stmtSendLongData(p []byte) {
	id, param, data, err := mysqlwire.ParseLongData(p)
	if err != nil {
		return
	}
	st, ok := s.stmts[id]
	if !ok || param < 0 || param >= st.params || st.longSize+len(data) > maxLongData {
		return
	}
	if st.longData == nil {
		st.longData = map[int][]byte{}
	}
	st.longData[param] = append(st.longData[param], data...)
	st.longSize += len(data)
}

// stmtClose forgets a statement (no answer). Backend connections keep
// their copies until evicted: another session may prepare the same text.
func (s *session) stmtClose(p []byte) {
	if len(p) >= 5 {
		delete(s.stmts, binary.LittleEndian.Uint32(p[1:5]))
	}
}

// stmtReset drops the long data sent for a statement.
func (s *session) stmtReset(p []byte) error {
	st, err := s.stmtFor(p, "mysqld_stmt_reset")
	if err != nil {
		return err
	}
	st.longData, st.longSize = nil, 0
	return s.sendOK(0, 0, false)
}
