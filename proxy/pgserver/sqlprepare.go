package pgserver

// SQL-level PREPARE and EXECUTE (pg_dump prepares its catalog queries so).
//
// Under transaction pooling a statement prepared on one server connection
// is gone on the next, and left on a pooled connection its name would
// clash with the next client's. So PREPARE is kept by the session, as the
// protocol's statements are, and EXECUTE routes the prepared query with
// its arguments, prepares it on the connection it runs on under a name of
// the proxy's (shared by every client with the same text, like protocol
// statements: see statementName) and executes it there.

import (
	"context"
	"fmt"
	"strings"

	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/sqltext"
	"github.com/shardgate/shardgate/topology"
)

// sqlStatement is a statement the client prepared with PREPARE.
type sqlStatement struct {
	rest  string // the PREPARE text after its name: "[(types)] AS query"
	query string // the query after AS
	epoch uint64 // the schema epoch it was prepared in (see staleplans.go)
}

// sqlPrepared answers PREPARE, EXECUTE and DEALLOCATE.
func (s *session) sqlPrepared(ctx context.Context, db *topology.DB, plan *router.Plan, sql string) error {
	toks := significant(sql)
	if len(toks) < 2 {
		return &clientError{code: "42601", msg: "shardgate: cannot read the statement's name"}
	}
	name := plan.Statement.Object
	switch strings.ToUpper(toks[0].Text(sql)) {
	case "PREPARE":
		return s.sqlPrepare(name, sql, toks)
	case "EXECUTE":
		return s.sqlExecute(ctx, db, name, sql, toks)
	}
	_, err := s.sessionCommand(sql) // DEALLOCATE
	return err
}

func (s *session) sqlPrepare(name, sql string, toks []sqltext.Token) error {
	if _, ok := s.ext.stmts[name]; ok {
		return &clientError{code: "42P05", msg: fmt.Sprintf("prepared statement %q already exists", name)}
	}
	if _, ok := s.sqlStmts[name]; ok {
		return &clientError{code: "42P05", msg: fmt.Sprintf("prepared statement %q already exists", name)}
	}
	if len(s.ext.stmts)+len(s.sqlStmts) >= maxSessionStatements {
		return &clientError{code: "53400", msg: fmt.Sprintf("shardgate: a client may keep at most %d prepared statements; DEALLOCATE the ones no longer used", maxSessionStatements)}
	}
	rest := strings.TrimLeft(sql[toks[1].End:], " \t\r\n")
	i := 2
	if i < len(toks) && toks[i].Text(sql) == "(" { // the parameter types
		for i < len(toks) && !(toks[i].Text(sql) == ")" && toks[i].Depth == 1) {
			i++
		}
		i++
	}
	if i >= len(toks) || !strings.EqualFold(toks[i].Text(sql), "AS") || i+1 >= len(toks) {
		return &clientError{code: "42601", msg: "shardgate: cannot read the query of PREPARE"}
	}
	if s.sqlStmts == nil {
		s.sqlStmts = map[string]sqlStatement{}
	}
	s.sqlStmts[name] = sqlStatement{rest: strings.TrimRight(rest, " \t\r\n;"), query: strings.TrimRight(sql[toks[i+1].Start:], " \t\r\n;"),
		epoch: s.srv.back.schemaEpoch.Load()}
	return s.complete("PREPARE")
}

func (s *session) sqlExecute(ctx context.Context, db *topology.DB, name, sql string, toks []sqltext.Token) error {
	ps, ok := s.sqlStmts[name]
	if !ok {
		return &clientError{code: "26000", msg: fmt.Sprintf("prepared statement %q does not exist", name)}
	}
	args := strings.TrimRight(sql[toks[1].End:], " \t\r\n;")
	req := router.Request{DB: db, SQL: ps.query, Params: executeArgs(args),
		Session: router.Session{InTransaction: s.tx.open, Pinned: s.tx.pinned(), ReadOnly: s.tx.open && s.tx.readOnly}}
	if !s.tx.open {
		req.Session.Pinned = s.heldShard(db)
	}
	qplan, err := s.srv.router.Route(req)
	if err != nil {
		return classify(err)
	}
	if qplan.Route == router.RouteLocal || len(qplan.Targets) != 1 || qplan.Targets[0].SQL != "" {
		return &clientError{code: "0A000", msg: "shardgate: EXECUTE of a statement that needs several shards (or is handled by the session); run its query directly, or prepare it with the protocol"}
	}
	t := qplan.Targets[0]
	l, err := s.acquire(ctx, db, t)
	if err != nil {
		return err
	}
	c := l.conn
	// A statement prepared again after DDL through the proxy is parsed
	// anew on each connection, as the protocol's are.
	server, key, prepared := c.statementName("\x00PREPARE\x00"+ps.rest, nil, ps.epoch)
	if !prepared {
		if err := c.simple("PREPARE " + server + " " + ps.rest); err != nil {
			delete(c.prepared, key)
			l.release(lostBackend(err) != nil || !s.tx.open && c.lastStatus != 'I')
			if s.tx.open {
				s.tx.failed = true
			}
			return classify(err)
		}
	}
	status, err := s.relay(c, &work{sql: "EXECUTE " + server + args}, t)
	l.release(lostBackend(err) != nil || (!s.tx.open && status != 'I'))
	if err == nil && qplan.Write {
		s.wrote(db, qplan.Targets)
	}
	return err
}

// executeArgs reads EXECUTE's arguments, "(1, 'x', NULL)", as the
// parameters of its query, so that it routes as they would; nil unless
// every argument is one constant.
func executeArgs(args string) []router.Param {
	inner := strings.TrimSpace(args)
	if !strings.HasPrefix(inner, "(") || !strings.HasSuffix(inner, ")") {
		return nil
	}
	n, err := sqltext.Normalize(sqltext.Postgres, "SELECT "+inner[1:len(inner)-1])
	if err != nil || len(n.Slots) == 0 {
		return nil
	}
	commas := 0
	for _, t := range significant(inner) {
		if t.Depth == 1 && t.Text(inner) == "," {
			commas++
		}
	}
	if len(n.Slots) != commas+1 {
		return nil // an argument is an expression
	}
	params := make([]router.Param, len(n.Slots))
	for i, sl := range n.Slots {
		if sl.Lit.Null {
			params[i] = router.Param{Kind: router.ParamNull}
		} else {
			params[i] = router.Param{Kind: router.ParamText, Text: sl.Lit.Text}
		}
	}
	return params
}

// significant returns sql's tokens other than spaces and comments.
func significant(sql string) []sqltext.Token {
	toks, err := sqltext.Tokens(sqltext.Postgres, sql)
	if err != nil {
		return nil
	}
	out := toks[:0]
	for _, t := range toks {
		if t.Kind != sqltext.TokSpace && t.Kind != sqltext.TokComment {
			out = append(out, t)
		}
	}
	return out
}
