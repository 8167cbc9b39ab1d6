package netcheck

import (
	"errors"
	"net"
	"os"
	"time"
)

// QuietFor is how long a pooled server connection may sit idle before it
// is checked with Dead when next used. A server that restarts takes longer
// than this, so connections used more recently are alive; checking only
// older ones keeps a syscall off the hot path.
const QuietFor = 500 * time.Millisecond

// IdleDeadline bounds the wait for a client's next command while the
// session holds something it should not hold for long (a transaction's
// server connections: idle_transaction_timeout). The deadline covers only
// that wait: Clear it once a command arrives, so a long statement is not
// cut and the Watcher can read the socket.
type IdleDeadline struct {
	conn  net.Conn
	armed bool
}

// NewIdleDeadline bounds waits on conn's reads.
func NewIdleDeadline(conn net.Conn) *IdleDeadline { return &IdleDeadline{conn: conn} }

// Arm sets the deadline of the coming wait d from now; d <= 0 means none.
func (i *IdleDeadline) Arm(d time.Duration) {
	if d <= 0 {
		i.Clear()
		return
	}
	_ = i.conn.SetReadDeadline(time.Now().Add(d))
	i.armed = true
}

// Clear removes the deadline (a no-op when none is set).
func (i *IdleDeadline) Clear() {
	if i.armed {
		_ = i.conn.SetReadDeadline(time.Time{})
		i.armed = false
	}
}

// Expired reports whether a failed read is the deadline's.
func (i *IdleDeadline) Expired(err error) bool {
	return i.armed && errors.Is(err, os.ErrDeadlineExceeded)
}
