package myserver

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/shardgate/shardgate/proxy/mysqlwire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/sqltext"
)

// query runs a COM_QUERY: one statement, or several when the client
// enabled multi-statements. Every statement's result but the last says
// more results follow; an error ends the batch, as in MySQL.
func (s *session) query(ctx context.Context, text string) error {
	if !s.multiStatements || strings.IndexByte(text, ';') < 0 {
		// One statement (the router refuses a second one with a clear
		// error): no split, so the text is tokenized once.
		if strings.TrimSpace(text) == "" {
			return &mysqlwire.Error{Code: 1065, State: "42000", Message: "Query was empty"}
		}
		return s.execute(ctx, &work{sql: text})
	}
	stmts, err := sqltext.Split(sqltext.MySQL, text)
	if err != nil {
		return fmt.Errorf("%w: %v", router.ErrSyntax, err)
	}
	if len(stmts) == 0 {
		return &mysqlwire.Error{Code: 1065, State: "42000", Message: "Query was empty"}
	}
	for i, sql := range stmts {
		if err := s.execute(ctx, &work{sql: sql, more: i < len(stmts)-1}); err != nil {
			return err
		}
	}
	return nil
}

// fieldList answers COM_FIELD_LIST (the mariadb client's column
// completion) from a server holding the table.
func (s *session) fieldList(ctx context.Context, p []byte) error {
	db, err := s.db()
	if err != nil {
		return err
	}
	table, _, _ := bytes.Cut(p, []byte{0})
	t := router.Target{Shard: db.Unsharded, Role: router.RoleReplica}
	if _, listed := db.Table(string(table)); listed {
		t.Shard = db.Shards[0]
	}
	if sh := s.tx.pinned(); sh != nil {
		t.Shard = sh
	}
	l, err := s.acquire(ctx, db, t)
	if err != nil {
		return err
	}
	cmd := append(append(s.cmd[:0], comFieldList), p...)
	s.cmd = cmd
	if err := l.conn.send(cmd); err != nil {
		s.release(l, true)
		return &backendError{l.conn.addr, err}
	}
	for {
		pk, err := l.conn.ReadPacket()
		if err != nil {
			s.release(l, true)
			return &backendError{l.conn.addr, err}
		}
		end := mysqlwire.IsEOF(pk) || mysqlwire.IsErr(pk)
		if mysqlwire.IsEOF(pk) {
			s.patchStatus(pk, false)
		}
		if err := s.forward(pk); err != nil || end {
			s.release(l, !isClean(err))
			return err
		}
	}
}
