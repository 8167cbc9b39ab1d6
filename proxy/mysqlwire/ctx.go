package mysqlwire

import (
	"context"
	"fmt"
	"net"
	"time"
)

// bindContext makes ctx govern I/O on nc until release is called: ctx's
// deadline becomes nc's, and cancelling ctx unblocks a pending read or
// write at once. release clears the deadline, after waiting for a
// cancellation in flight so it cannot set one again behind its back.
func bindContext(ctx context.Context, nc net.Conn) (release func()) {
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(done)
		_ = nc.SetDeadline(time.Unix(1, 0)) // in the past
	})
	return func() {
		if !stop() {
			<-done
		}
		_ = nc.SetDeadline(time.Time{})
	}
}

// ctxErr names ctx's end as the cause when it interrupted I/O, so that a
// timeout reads "context deadline exceeded" rather than "i/o timeout".
func ctxErr(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	return fmt.Errorf("%w (%w)", context.Cause(ctx), err)
}
