package drain

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Serve accepts connections on ln until ctx ends, running handle for each
// on its own goroutine (nc is closed when handle returns). Then it stops
// accepting and drains the group (see Drain) for up to timeout. handle's
// context outlives ctx: it ends only when the drain does, so transactions
// can finish. Serve returns once every handle has returned, with how many
// connections the drain had to cut.
func (g *Group) Serve(ctx context.Context, ln net.Listener, timeout time.Duration, handle func(ctx context.Context, nc net.Conn, c *Conn)) (int, error) {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	life, endLife := context.WithCancel(context.WithoutCancel(ctx))
	defer endLife()
	var wg sync.WaitGroup
	var err error
	for {
		nc, aerr := ln.Accept()
		if aerr != nil {
			if ctx.Err() == nil && !errors.Is(aerr, net.ErrClosed) {
				err = fmt.Errorf("accept: %w", aerr)
			}
			break
		}
		wg.Go(func() {
			defer nc.Close()
			c, ok := g.Add(nc)
			if !ok {
				return // shutting down
			}
			defer c.Done()
			handle(life, nc, c)
		})
	}
	dctx, cancel := context.WithTimeout(context.Background(), timeout)
	forced := g.Drain(dctx)
	cancel()
	endLife()
	wg.Wait()
	return forced, err
}
