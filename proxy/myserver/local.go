package myserver

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/shardgate/shardgate/proxy/mysqlwire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
)

// setting is one SET statement of the session, re-applied in order on
// every backend connection the session uses.
type setting struct {
	name, sql string
	// single: the SET assigns one variable from constants, so a later
	// single SET of the same variable may replace it.
	single bool
	// readOnly is what the SET says of the access mode of the session's
	// transactions (router.Statement.SessionReadOnly).
	readOnly int8
}

// local handles what the router leaves to the session: transaction
// control, USE and session settings, which under transaction pooling must
// not stick to one backend connection.
func (s *session) local(ctx context.Context, db *topology.DB, plan *router.Plan, w *work) error {
	st := plan.Statement
	switch st.Kind {
	case router.KindBegin:
		if s.tx.open {
			// MySQL commits the open transaction before starting another.
			if err := s.commitNow(); err != nil {
				return err
			}
		}
		s.openTx([]string{w.sql}, st.ReadOnly)
		return s.sendOK(0, 0, w.more)
	case router.KindCommit, router.KindRollback:
		return s.finishTx(ctx, w, st.Kind == router.KindCommit)
	case router.KindSavepoint:
		return s.inTx(ctx, db, w)
	case router.KindSet:
		return s.set(ctx, db, st, w)
	case router.KindUse:
		if err := s.useDatabase(st.Object); err != nil {
			return err
		}
		return s.sendOK(0, 0, w.more)
	}
	return s.sendOK(0, 0, w.more)
}

// errLostTx: the transaction's connection to its server broke, so the
// server rolled it back.
var errLostTx = &mysqlwire.Error{Code: erUnknown, State: "HY000",
	Message: "shardgate: the transaction was rolled back: its connection to the server was lost"}

// lostTx answers statements of a transaction whose connection broke:
// ROLLBACK ends it, COMMIT ends it with an error, anything else is
// refused until then.
func (s *session) lostTx(kind router.Kind, w *work) error {
	switch kind {
	case router.KindRollback:
		s.tx = txState{}
		return s.sendOK(0, 0, w.more)
	case router.KindCommit:
		s.tx = txState{}
		return errLostTx
	}
	return &mysqlwire.Error{Code: erUnknown, State: "HY000",
		Message: "shardgate: the transaction was rolled back when its connection to the server was lost; end it with ROLLBACK"}
}

// isClean reports whether a statement's error left its connection usable
// (none, or the server's own error).
func isClean(err error) bool {
	return err == nil || err == errRelayed || isServerError(err)
}

// set runs a SET. autocommit and SET TRANSACTION are the session's own;
// anything else is checked by a server (the transaction's, or the
// unsharded shard's primary) and then remembered, so every connection
// the session later uses gets it.
func (s *session) set(ctx context.Context, db *topology.DB, st *router.Statement, w *work) error {
	if st.SetGlobal {
		return &mysqlwire.Error{Code: erNotSupported, State: "42000",
			Message: "shardgate: SET GLOBAL through the proxy would reach one server only; set it on every server"}
	}
	if st.Autocommit != "" {
		// autocommit among other variables: the session's part first,
		// then the rest as an ordinary SET (whose OK the client gets).
		if err := s.autocommitTo(st.Autocommit); err != nil {
			return err
		}
		rest := *w
		rest.sql = st.SetRest
		w = &rest
	}
	switch st.Object {
	case "autocommit":
		return s.setAutocommit(w)
	case "transaction":
		switch {
		case len(s.tx.parts) > 0:
			return s.single(ctx, db, router.Target{Shard: s.tx.pinned(), Role: router.RolePrimary}, w)
		case s.tx.open:
			s.tx.deferred = append(s.tx.deferred, w.sql)
		default:
			s.nextTx = append(s.nextTx, w.sql)
			if st.ReadOnly != 0 {
				s.nextReadOnly = st.ReadOnly // SET TRANSACTION READ ONLY / READ WRITE
			}
		}
		return s.sendOK(0, 0, w.more)
	}
	var l lease
	if len(s.tx.parts) > 0 {
		l = lease{conn: s.tx.parts[0].lease.conn, pinned: true}
	} else {
		var err error
		if l, err = s.connect(ctx, db, router.Target{Shard: db.Unsharded, Role: router.RolePrimary}); err != nil {
			return err
		}
	}
	_, err := s.relay(ctx, l.conn, w, router.Target{})
	if err == nil {
		s.addSetting(st.Object, w.sql)
		s.sets[len(s.sets)-1].readOnly = st.SessionReadOnly
		l.conn.sets = slices.Clone(s.sets)
		l.conn.owner, l.conn.version = s, s.stateVersion
	}
	s.release(l, !isClean(err) || s.killed.Load())
	if err == nil && len(s.tx.parts) > 1 {
		// The transaction's other shards follow, so all of it sees the setting.
		if err = s.onEveryPart(w.sql, 1); err == nil {
			for _, p := range s.tx.parts[1:] {
				p.lease.conn.sets = slices.Clone(s.sets)
				p.lease.conn.owner, p.lease.conn.version = s, s.stateVersion
			}
		}
	}
	return err
}

// addSetting records a SET. Replaying s.sets in order must rebuild the
// session, so a SET replaces an earlier one of the same variable only
// when both assign that variable alone from constants and no SET after
// the earlier one may have read it (SET @n = @n + 1, SET sql_mode =
// CONCAT(@@sql_mode, ...), SET @a = 1, @b = 2 are appended).
func (s *session) addSetting(name, sql string) {
	single := selfContained(sql)
	if single {
		i := len(s.sets)
		for i > 0 && s.sets[i-1].single {
			i--
		}
		tail := slices.DeleteFunc(s.sets[i:], func(x setting) bool { return x.name == name })
		s.sets = s.sets[:i+len(tail)]
	}
	s.sets = append(s.sets, setting{name: name, sql: sql, single: single})
	s.stateVersion++
}

// selfContained reports whether a SET assigns one variable from
// constants: no comma and no variable read after the first '=' outside
// quotes. SET NAMES x counts as one.
func selfContained(sql string) bool {
	seenEq := false
	var quote byte
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case quote != 0:
			if c == '\\' && quote != '`' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == ',':
			return false
		case c == '=':
			seenEq = true
		case c == '@' && seenEq:
			return false
		}
	}
	return true
}

var autocommitValue = regexp.MustCompile(`(?is)^\s*set\s+(?:session\s+|local\s+|@@session\.|@@local\.|@@)?autocommit\s*:?=\s*'?(\w+)'?\s*;?\s*$`)

// setAutocommit handles SET autocommit: backends always autocommit, and
// with autocommit off the session runs every statement in a transaction
// of its own making. Turning it on commits the open transaction, as in
// MySQL.
func (s *session) setAutocommit(w *work) error {
	m := autocommitValue.FindStringSubmatch(w.sql)
	if m == nil {
		return &mysqlwire.Error{Code: erNotSupported, State: "42000",
			Message: "shardgate: SET autocommit = 0|1 (a value, not an expression)"}
	}
	if err := s.autocommitTo(m[1]); err != nil {
		return err
	}
	return s.sendOK(0, 0, w.more)
}

// autocommitTo sets autocommit to a value as written (1, ON, 'off', ...).
func (s *session) autocommitTo(value string) error {
	var on bool
	switch strings.ToUpper(strings.Trim(value, "`'\"")) {
	case "1", "ON", "TRUE":
		on = true
	case "0", "OFF", "FALSE":
	default:
		return &mysqlwire.Error{Code: 1231, State: "42000", Message: "Variable 'autocommit' can't be set to the value of '" + value + "'"}
	}
	if on && !s.autocommit && s.tx.open {
		if err := s.commitNow(); err != nil {
			return err
		}
	}
	s.autocommit = on
	return nil
}

var lastInsertIDPattern = regexp.MustCompile(`(?is)^\s*select\s+last_insert_id\s*\(\s*\)\s*(?:as\s+` + "`?" + `(\w+)` + "`?" + `)?\s*;?\s*$`)

// lastInsertIDQuery recognises SELECT LAST_INSERT_ID(): the id belongs to
// the backend connection that ran the INSERT, which the pool may since
// have given to someone else, so the session answers it from the OK
// packets it relayed.
func lastInsertIDQuery(sql string) (alias string, ok bool) {
	if len(sql) > 80 || !containsFold(sql, "last_insert_id") {
		return "", false
	}
	m := lastInsertIDPattern.FindStringSubmatch(sql)
	if m == nil {
		return "", false
	}
	if m[1] == "" {
		return "LAST_INSERT_ID()", true
	}
	return m[1], true
}

func (s *session) sendLastInsertID(alias string, w *work) error {
	col := mysqlwire.Column{Catalog: "def", Name: alias, Charset: 63, Length: 21, Type: typeLongLong, Flags: flagNotNull | flagUnsigned | flagBinary}
	row := [][]byte{strconv.AppendUint(nil, s.lastInsertID, 10)}
	return s.sendRows([]mysqlwire.Column{col}, [][][]byte{row}, w)
}

// Column types and flags of results the session makes itself.
const (
	typeLongLong = 0x08
	flagNotNull  = 0x0001
	flagUnsigned = 0x0020
	flagBinary   = 0x0080
)

// sendRows writes a whole small result set made by the session.
func (s *session) sendRows(cols []mysqlwire.Column, rows [][][]byte, w *work) error {
	out := mysqlwire.AppendLenEncInt(s.out[:0], uint64(len(cols)))
	if err := s.c.WritePacket(out); err != nil {
		return &fatalError{err}
	}
	for _, c := range cols {
		if err := s.c.WritePacket(mysqlwire.AppendColumn(out[:0], c)); err != nil {
			return &fatalError{err}
		}
	}
	if err := s.c.WritePacket(mysqlwire.AppendEOF(out[:0], 0, s.status())); err != nil {
		return &fatalError{err}
	}
	for _, r := range rows {
		var err error
		if w.binary {
			out, err = mysqlwire.AppendBinaryRow(out[:0], cols, r)
			if err != nil {
				return err
			}
		} else {
			out = mysqlwire.AppendTextRow(out[:0], r)
		}
		if err := s.c.WritePacket(out); err != nil {
			return &fatalError{err}
		}
	}
	st := s.status()
	if w.more {
		st |= statusMoreResults
	}
	s.out = out
	if err := s.c.WritePacket(mysqlwire.AppendEOF(out[:0], 0, st)); err != nil {
		return &fatalError{err}
	}
	return nil
}
