package drain

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Serve accepts connections on every listener of lns (a TCP port and a
// Unix socket, say) until ctx ends or one of them fails, running handle
// for each connection on its own goroutine (nc is closed when handle
// returns). Then it stops accepting everywhere and drains the group (see
// Drain) for up to timeout. handle's context outlives ctx: it ends only
// when the drain does, so transactions can finish. Serve returns once
// every handle has returned, with how many connections the drain had to
// cut.
func (g *Group) Serve(ctx context.Context, lns []net.Listener, timeout time.Duration, handle func(ctx context.Context, nc net.Conn, c *Conn)) (int, error) {
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	stop := context.AfterFunc(ctx, closeAll)
	defer stop()
	life, endLife := context.WithCancel(context.WithoutCancel(ctx))
	defer endLife()
	var handlers, accepting sync.WaitGroup
	var once sync.Once
	var err error
	for _, ln := range lns {
		accepting.Go(func() {
			for {
				nc, aerr := ln.Accept()
				if aerr != nil {
					if ctx.Err() == nil && !errors.Is(aerr, net.ErrClosed) {
						// A listener that fails ends the whole serve, as
						// a lone one would: close the others too.
						once.Do(func() { err = fmt.Errorf("accept: %w", aerr) })
						closeAll()
					}
					return
				}
				handlers.Go(func() {
					defer nc.Close()
					c, ok := g.Add(nc)
					if !ok {
						return // shutting down
					}
					defer c.Done()
					handle(life, nc, c)
				})
			}
		})
	}
	accepting.Wait()
	dctx, cancel := context.WithTimeout(context.Background(), timeout)
	forced := g.Drain(dctx)
	cancel()
	endLife()
	handlers.Wait()
	return forced, err
}
