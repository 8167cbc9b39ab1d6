package pgserver

import (
	"errors"
	"os"
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

// armIdleTx sets or clears the deadline of the wait for the next message.
func (s *session) armIdleTx() {
	var deadline time.Time
	if len(s.tx.parts) > 0 {
		if db, ok := s.srv.store.Current().Database(topology.Postgres, s.dbName); ok && db.IdleTransactionTimeout > 0 {
			deadline = time.Now().Add(db.IdleTransactionTimeout)
		}
	}
	if deadline.IsZero() && !s.idleTxArmed {
		return
	}
	_ = s.nc.SetReadDeadline(deadline)
	s.idleTxArmed = !deadline.IsZero()
}

// disarmIdleTx clears the deadline once a message came: a statement's run
// is not idle time (and the disconnect watcher reads the socket).
func (s *session) disarmIdleTx() {
	if s.idleTxArmed {
		_ = s.nc.SetReadDeadline(time.Time{})
		s.idleTxArmed = false
	}
}

// idleTxExpired reports whether a failed read is the deadline's.
func (s *session) idleTxExpired(err error) bool {
	return s.idleTxArmed && errors.Is(err, os.ErrDeadlineExceeded)
}
