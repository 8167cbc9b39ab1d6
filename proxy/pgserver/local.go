package pgserver

import (
	"context"
	"maps"
	"strings"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
)

// local handles what the router leaves to the session: transaction
// control and session settings, which under transaction pooling must not
// stick to one backend connection.
func (s *session) local(ctx context.Context, db *topology.DB, plan *router.Plan, sql string) error {
	st := plan.Statement
	switch st.Kind {
	case router.KindBegin:
		if s.tx.open {
			s.w.Send(&pgproto3.NoticeResponse{Severity: "WARNING", Code: "25001", Message: "there is already a transaction in progress"})
		} else {
			s.tx = txState{open: true, deferred: []string{sql}, savedSettings: maps.Clone(s.settings)}
		}
		return s.complete("BEGIN")
	case router.KindCommit, router.KindRollback:
		return s.finishTx(sql, st.Kind == router.KindCommit)
	case router.KindSavepoint:
		return s.inTx(ctx, db, sql, "SAVEPOINT")
	case router.KindSet:
		return s.set(ctx, db, plan, sql)
	}
	return s.complete(strings.ToUpper(st.Kind.String()))
}

// complete sends a CommandComplete for a statement answered locally.
func (s *session) complete(tag string) error {
	s.w.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	return nil
}

// finishTx ends the transaction: on its shard if it touched one, else
// locally. COMMIT of a failed transaction rolls back, as in PostgreSQL.
func (s *session) finishTx(sql string, commit bool) error {
	if !s.tx.open {
		s.w.Send(&pgproto3.NoticeResponse{Severity: "WARNING", Code: "25P01", Message: "there is no transaction in progress"})
		if commit {
			return s.complete("COMMIT")
		}
		return s.complete("ROLLBACK")
	}
	if s.tx.conn == nil {
		failed := s.tx.failed
		if !commit || failed {
			s.settings = s.tx.savedSettings
		}
		s.tx = txState{}
		if commit && !failed {
			return s.complete("COMMIT")
		}
		return s.complete("ROLLBACK")
	}
	status, err := s.relay(s.tx.conn, &work{sql: sql}, router.Target{})
	_, lost := err.(*backendError)
	if !commit || status != 'I' || err != nil {
		s.settings = s.tx.savedSettings // the SETs of a rolled back transaction are undone
	} else if s.tx.wrote {
		// Replicas replay the transaction's writes only from its commit on.
		s.recent.Wrote(s.tx.db, s.tx.shard, time.Now())
	}
	s.endTx(lost || status != 'I')
	if lost {
		return &clientError{code: "08006", msg: err.Error()}
	}
	return err
}

// inTx runs a statement that belongs to the open transaction: on its
// shard, or deferred until the transaction picks one.
func (s *session) inTx(ctx context.Context, db *topology.DB, sql, tag string) error {
	switch {
	case s.tx.conn != nil:
		return s.single(ctx, db, router.Target{Shard: s.tx.shard, Role: router.RolePrimary}, &work{sql: sql})
	case s.tx.open:
		s.tx.deferred = append(s.tx.deferred, sql)
		return s.complete(tag)
	}
	// Outside a transaction PostgreSQL refuses SAVEPOINT; let a server say so.
	return s.single(ctx, db, router.Target{Shard: db.Unsharded, Role: router.RolePrimary}, &work{sql: sql})
}

// set records a session setting so every backend connection the session
// later uses gets it; SET LOCAL belongs to the transaction.
func (s *session) set(ctx context.Context, db *topology.DB, plan *router.Plan, sql string) error {
	st := plan.Statement
	reset := strings.EqualFold(firstWord(sql), "RESET")
	if st.SetLocal {
		return s.inTx(ctx, db, sql, map[bool]string{true: "RESET", false: "SET"}[reset])
	}
	// A real server validates the setting (and reports ParameterStatus)
	// on the connection the session would use next; that connection must
	// then remember it, or it would leak to the next client.
	target := router.Target{Shard: db.Unsharded, Role: router.RolePrimary}
	if s.tx.shard != nil {
		target.Shard = s.tx.shard
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
			clear(s.settings)
		case reset:
			delete(s.settings, name)
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
	return err
}
