package myserver

import (
	"errors"
	"os"
	"time"
)

// idle_transaction_timeout: a client that leaves a transaction open and
// goes quiet would hold its server connections, and their locks, for
// good. While a transaction holds server connections, the wait for the
// client's next command has a deadline; at it the session ends (the
// connection closes, as MariaDB's idle_transaction_timeout does) and the
// transaction is rolled back.

// armIdleTx sets or clears the deadline of the wait for the next command.
func (s *session) armIdleTx() {
	var deadline time.Time
	if len(s.tx.parts) > 0 {
		if db, err := s.db(); err == nil && db.IdleTransactionTimeout > 0 {
			deadline = time.Now().Add(db.IdleTransactionTimeout)
		}
	}
	if deadline.IsZero() && !s.idleTxArmed {
		return
	}
	_ = s.raw.SetReadDeadline(deadline)
	s.idleTxArmed = !deadline.IsZero()
}

// disarmIdleTx clears the deadline once a command came: a statement's run
// is not idle time (and the disconnect watcher reads the socket).
func (s *session) disarmIdleTx() {
	if s.idleTxArmed {
		_ = s.raw.SetReadDeadline(time.Time{})
		s.idleTxArmed = false
	}
}

// idleTxExpired reports whether a failed read is the deadline's.
func (s *session) idleTxExpired(err error) bool {
	return s.idleTxArmed && errors.Is(err, os.ErrDeadlineExceeded)
}
