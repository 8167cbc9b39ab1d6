package myserver

import "time"

// idle_transaction_timeout: a client that leaves a transaction open and
// goes quiet would hold its server connections, and their locks, for
// good. While a transaction holds server connections, the wait for the
// client's next command has a deadline; at it the session ends (the
// connection closes, as MariaDB's idle_transaction_timeout does) and the
// transaction is rolled back.

// idleTxTimeout is the deadline of the wait for the next command: the
// database's idle_transaction_timeout while a transaction holds server
// connections, else none.
func (s *session) idleTxTimeout() time.Duration {
	if len(s.tx.parts) == 0 {
		return 0
	}
	if db, err := s.db(); err == nil {
		return db.IdleTransactionTimeout
	}
	return 0
}
