package pgserver

import (
	"context"
	"maps"
	"strings"

	"github.com/jackc/pgproto3/v2"

	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
)

// local handles what the router leaves to the session: transaction
// control and session settings, which under transaction pooling must not
// stick to one backend connection.
func (s *session) local(ctx context.Context, db *topology.DB, plan *router.Plan, sql string) error {
	st := plan.Statement
	if st.ExportSnapshot {
		return s.exportSnapshot(ctx, db, sql)
	}
	switch st.Kind {
	case router.KindBegin:
		if s.tx.implicit {
			// BEGIN in a pipeline makes its implicit transaction the
			// client's own, as in PostgreSQL.
			s.tx.implicit = false
			if len(s.tx.parts) == 0 {
				s.tx.deferred[0] = sql
				s.tx.readOnly = s.declaredReadOnly(db, st.ReadOnly)
			}
			return s.complete("BEGIN")
		}
		if s.tx.open {
			s.w.Send(&pgproto3.NoticeResponse{Severity: "WARNING", Code: "25001", Message: "there is already a transaction in progress"})
		} else {
			s.tx = txState{open: true, deferred: []string{sql}, savedSettings: maps.Clone(s.settings), readOnly: s.declaredReadOnly(db, st.ReadOnly)}
		}
		return s.complete("BEGIN")
	case router.KindCommit, router.KindRollback:
		return s.finishTx(sql, st.Kind == router.KindCommit)
	case router.KindSavepoint:
		return s.inTx(ctx, db, sql)
	case router.KindSet:
		return s.set(ctx, db, plan, sql)
	case router.KindPrepare:
		return s.sqlPrepared(ctx, db, plan, sql)
	}
	return s.complete(strings.ToUpper(st.Kind.String()))
}

// declaredReadOnly reports whether a transaction BEGIN starts is READ
// ONLY: as its BEGIN says (mode, router.Statement.ReadOnly), else as the
// session's default_transaction_read_only (SET, SET SESSION
// CHARACTERISTICS AS TRANSACTION, the startup packet) makes every
// transaction. The servers get that setting on every connection the
// session uses, so they enforce it.
func (s *session) declaredReadOnly(db *topology.DB, mode int8) bool {
	if mode != 0 {
		return mode > 0
	}
	sql, ok := s.settings["default_transaction_read_only"]
	if !ok {
		return false
	}
	p, err := s.srv.router.Route(router.Request{DB: db, SQL: sql})
	return err == nil && p.Statement.SessionReadOnly > 0
}

// complete sends a CommandComplete for a statement answered locally.
func (s *session) complete(tag string) error {
	s.w.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	return nil
}

// set records a session setting so every backend connection the session
// later uses gets it; SET LOCAL belongs to the transaction.
func (s *session) set(ctx context.Context, db *topology.DB, plan *router.Plan, sql string) error {
	st := plan.Statement
	if plan.SessionSQL != "" {
		sql = plan.SessionSQL // set_config() with the client's parameters written in
	}
	reset := strings.EqualFold(firstWord(sql), "RESET")
	if st.SetLocal {
		if st.SetConfig != nil && s.tx.open && len(s.tx.parts) == 0 {
			// SELECT set_config(..., true) answers a row: the transaction
			// takes its first shard to run it, and later ones replay it.
			err := s.single(ctx, db, router.Target{Shard: db.Unsharded, Role: router.RolePrimary}, &work{sql: sql})
			if err == nil {
				s.tx.deferred = append(s.tx.deferred, sql)
			}
			return err
		}
		if st.ImportSnapshot != "" {
			if done, err := s.importSnapshot(db, st.ImportSnapshot); done {
				return err
			}
		}
		if st.ReadOnly != 0 && s.tx.open && len(s.tx.parts) == 0 {
			s.tx.readOnly = st.ReadOnly > 0 // SET TRANSACTION READ ONLY / READ WRITE
		}
		return s.inTx(ctx, db, sql)
	}
	// A real server validates the setting (and reports ParameterStatus)
	// on the connection the session would use next; that connection must
	// then remember it, or it would leak to the next client.
	target := router.Target{Shard: db.Unsharded, Role: router.RolePrimary}
	if sh := s.tx.pinned(); sh != nil {
		target.Shard = sh
	}
	l, err := s.acquire(ctx, db, target)
	if err != nil {
		return err
	}
	status, err := s.relay(l.conn, &work{sql: sql}, router.Target{})
	_, lost := err.(*backendError)
	name := st.Object
	if err == nil {
		switch {
		case reset && (name == "all" || name == ""):
			s.resetAllSettings()
		case reset:
			s.resetSetting(name)
		case len(st.SessionSets) > 0:
			// SET SESSION CHARACTERISTICS: kept as the settings it
			// changes, which a later SET or RESET of one replaces.
			for _, set := range st.SessionSets {
				s.settings[set[0]] = set[1]
			}
		default:
			s.settings[name] = sql
		}
		if s.tx.open {
			s.tx.dirtySets = true
		} else {
			l.conn.sets = maps.Clone(s.settings)
		}
	}
	l.release(lost || (!s.tx.open && status != 'I'))
	if lost {
		return &clientError{code: "08006", msg: err.Error()}
	}
	if err == nil && s.tx.open {
		// The transaction's other shards follow, so all of it sees the setting.
		err = s.onEveryPart(sql, 1)
	}
	return err
}
