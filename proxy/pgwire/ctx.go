package pgwire

import (
	"context"
	"fmt"
	"time"
)

// bindContext makes ctx govern I/O through the given deadline setters (a
// net.Conn's SetReadDeadline / SetWriteDeadline; nil entries are skipped):
// ctx's deadline becomes the I/O deadline, and cancelling ctx interrupts a
// blocked read or write. The returned release undoes both; it waits for a
// concurrent interruption to finish so that the deadline it clears cannot
// be set again behind its back.
func bindContext(ctx context.Context, setters ...func(time.Time) error) (release func()) {
	var set []func(time.Time) error
	for _, s := range setters {
		if s != nil {
			set = append(set, s)
		}
	}
	if len(set) == 0 {
		return func() {}
	}
	apply := func(t time.Time) {
		for _, s := range set {
			_ = s(t) // a closed conn fails here; its next I/O reports that
		}
	}
	if dl, ok := ctx.Deadline(); ok {
		apply(dl)
	}
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(done)
		apply(time.Unix(1, 0)) // in the past: blocked I/O returns at once
	})
	return func() {
		if !stop() {
			<-done // ctx ended and the interruption is running
		}
		apply(time.Time{})
	}
}

// ctxErr prefers ctx's own error when ctx ended an exchange: a timeout
// then reads as "context deadline exceeded" instead of an i/o timeout.
// The conn deadline and ctx's timer fire independently, so a deadline
// that has passed counts even before ctx reports it.
func ctxErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	cause := context.Cause(ctx)
	if dl, ok := ctx.Deadline(); ok && cause == nil && !time.Now().Before(dl) {
		cause = context.DeadlineExceeded
	}
	if cause == nil {
		return err
	}
	return fmt.Errorf("%w (%w)", cause, err)
}
