package twophase

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/shardgate/shardgate/topology"
)

// ResolveAll runs resolve on every database of the protocol whose
// transactions mode is two_phase, adding up the parts it finished and
// joining its errors (each naming its database).
func ResolveAll(snap *topology.Snapshot, proto topology.Protocol, resolve func(*topology.DB) (int, error)) (int, error) {
	var errs []error
	total := 0
	for _, db := range snap.Databases() {
		if db.Protocol != proto || db.Transactions != topology.TwoPhase {
			continue
		}
		n, err := resolve(db)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("database %s: %w", db.Name, err))
		}
	}
	return total, errors.Join(errs...)
}

// Background runs resolve now and then every `every` until stop is
// called; stop returns once a running resolve has ended. Errors are
// logged.
func Background(every time.Duration, log *slog.Logger, resolve func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if err := resolve(ctx); err != nil && ctx.Err() == nil {
				log.Warn("resolving prepared transactions", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}
