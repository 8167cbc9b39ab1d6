// Package probe holds the real health.Probers: Postgres for PostgreSQL
// and MySQL for MariaDB (and MySQL). Each keeps one probe connection per
// server open across rounds, logged in with the database's backend
// credentials, and runs one or two cheap queries per probe: whether the
// server is in recovery / read-only, its replication position, and for a
// replica how far behind its primary it is.
package probe

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/shardgate/shardgate/topology/health"
)

// applicationName marks probe sessions in pg_stat_activity and the MariaDB
// processlist, so that a DBA can tell them from the application.
const applicationName = "shardgate-health"

// value is one column of a result row: its text, or NULL.
type value struct {
	s    string
	null bool
}

// bind makes ctx govern I/O on conn: ctx's deadline becomes the conn's,
// and cancelling ctx interrupts a blocked read or write. release undoes
// both, waiting for a concurrent interruption so that it cannot re-arm a
// deadline behind the next probe's back.
func bind(ctx context.Context, conn net.Conn) (release func()) {
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl) // a closed conn fails its next I/O instead
	}
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(done)
		_ = conn.SetDeadline(time.Unix(1, 0)) // in the past: blocked I/O returns now
	})
	return func() {
		if !stop() {
			<-done
		}
		_ = conn.SetDeadline(time.Time{})
	}
}

// ioError reports err as the probe's failure, preferring ctx's reason when
// ctx ended the exchange ("context deadline exceeded" rather than an i/o
// timeout, so that the cause reads plainly in /topology).
func ioError(ctx context.Context, addr string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("probe %s: %w (%v)", addr, cerr, err)
	}
	return fmt.Errorf("probe %s: %w", addr, err)
}

// Both probers are health.Probers that forget removed servers.
var (
	_ health.Prober    = (*Postgres)(nil)
	_ health.Forgetter = (*Postgres)(nil)
	_ health.Prober    = (*MySQL)(nil)
	_ health.Forgetter = (*MySQL)(nil)
)
