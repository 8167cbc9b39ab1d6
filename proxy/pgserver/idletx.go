package pgserver

import (
	"time"

	"github.com/shardgate/shardgate/topology"
)

// idle_transaction_timeout: a client that leaves a transaction open and
// goes quiet (a leaked transaction in an application, a stopped debugger)
// would hold its server connections, and their locks, for good, and a
// full pool makes everyone else wait. While a transaction holds server
// connections, the wait for the client's next message has a deadline; at
// it the session ends with 25P03, as PostgreSQL's
// idle_in_transaction_session_timeout does, and the transaction is rolled
// back.

// idleTxTimeout is the deadline of the wait for the next message: the
// database's idle_transaction_timeout while a transaction holds server
// connections, else none.
func (s *session) idleTxTimeout() time.Duration {
	if len(s.tx.parts) == 0 {
		return 0
	}
	if db, ok := s.srv.store.Current().Database(topology.Postgres, s.dbName); ok {
		return db.IdleTransactionTimeout
	}
	return 0
}
