package myserver

import (
	"github.com/shardgate/shardgate/router"
)

// ddlOutsideTx gives DDL (and LOCK TABLES) in a transaction MySQL's meaning: it commits the
// open transaction first and then runs on its own, autocommitted (as with
// autocommit off). So a migration tool that runs its DDL inside a
// transaction (knex, Laravel) works whatever the transactions mode:
// otherwise DDL over every shard would be a second shard for a
// single_shard transaction. plan and err are the routing within the
// transaction; a statement that is not DDL keeps them. done, when not
// nil, restores the session's autocommit after the statement.
func (s *session) ddlOutsideTx(w *work, req router.Request, plan *router.Plan, err error) (*router.Plan, func(), error) {
	req.Session = router.Session{}
	alone, aerr := s.route(w, req)
	if aerr != nil || alone.Statement.Kind != router.KindDDL && alone.Statement.Kind != router.KindLock {
		return plan, nil, err
	}
	if s.tx.open {
		if err := s.commitNow(); err != nil {
			return nil, nil, err
		}
	}
	autocommit := s.autocommit
	s.autocommit = true // the DDL runs on its own, not in a transaction of the session's making
	return alone, func() { s.autocommit = autocommit }, nil
}
