package myserver

import (
	"fmt"
	"regexp"

	"github.com/shardgate/shardgate/proxy/mysqlwire"
)

// A transaction's START TRANSACTION is deferred until its first statement
// picks a shard; it is then written in front of that statement, in one
// write, and its answer is read (and dropped) before the statement's.
// MySQL runs pipelined commands one after the other whatever the first
// answered, so if START TRANSACTION failed, the statement would run on
// its own, in autocommit. Only openings that cannot fail on a clean
// pooled connection go that way (safeOpening); any other (SET
// TRANSACTION, XA START, a BEGIN with comments or READ WRITE, which a
// read-only server refuses) runs first, in its own round trip.

// safeOpening matches the deferred statements that cannot fail on a
// connection with no transaction open.
var safeOpening = regexp.MustCompile("(?i)^\\s*(?:begin(?:\\s+work)?|start\\s+transaction(?:\\s+read\\s+only|\\s+with\\s+consistent\\s+snapshot)?|savepoint\\s+(?:\\w+|`[^`]+`)|set\\s+session\\s+innodb_lock_wait_timeout\\s*=\\s*\\d+)\\s*;?\\s*$")

// canOpenWith reports whether a transaction's deferred statements may go
// in front of its first statement.
func canOpenWith(deferred []string) bool {
	for _, q := range deferred {
		if !safeOpening.MatchString(q) {
			return false
		}
	}
	return len(deferred) > 0
}

// openingError: an opening statement sent in front of a statement failed
// on the server. What the statement did is unknown (it may have run
// outside the transaction), so the connection is discarded unread and
// the transaction is lost.
type openingError struct {
	addr string
	err  *mysqlwire.Error
}

func (e *openingError) Error() string {
	return fmt.Sprintf("the transaction could not start on %s (%d: %s); the statement sent with it may have run outside it", e.addr, e.err.Code, e.err.Message)
}

// sendAfterOpening writes the pending opening statements and then the
// command, and flushes once.
func (c *backendConn) sendAfterOpening(cmd []byte) error {
	if len(c.opening) == 0 {
		return c.send(cmd)
	}
	for _, q := range c.opening {
		c.ResetSequence()
		if err := c.WritePacket(append([]byte{comQuery}, q...)); err != nil {
			return err
		}
	}
	c.opening = c.opening[:0]
	return c.send(cmd)
}

// opened reads the answers to n opening statements sent in front of a
// statement: each must be OK.
func (c *backendConn) opened(n int) error {
	for range n {
		p, err := c.ReadPacket()
		switch {
		case err != nil:
			return &backendError{c.addr, err}
		case mysqlwire.IsErr(p):
			return &openingError{c.addr, mysqlwire.ParseError(p)}
		case !mysqlwire.IsOK(p):
			return &backendError{c.addr, fmt.Errorf("%w: answer to START TRANSACTION is not OK or ERR", mysqlwire.ErrProtocol)}
		}
	}
	return nil
}

// begin runs the pending opening statements now, in their own round
// trips (before a statement that is not sent at once after them).
func (c *backendConn) begin() error {
	for len(c.opening) > 0 {
		q := c.opening[0]
		c.opening = c.opening[1:]
		if _, err := c.Simple(q); err != nil {
			c.opening = nil
			if me, ok := err.(*mysqlwire.Error); ok {
				return &openingError{c.addr, me}
			}
			return &backendError{c.addr, err}
		}
	}
	return nil
}
