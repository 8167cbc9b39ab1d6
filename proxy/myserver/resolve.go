package myserver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shardgate/shardgate/proxy/twophase"
	"github.com/shardgate/shardgate/topology"
)

// preparedSeen remembers when the resolver first saw each XA transaction
// prepared: XA RECOVER does not say how old one is.
type preparedSeen struct {
	mu    sync.Mutex
	first map[string]time.Time
}

// age records the names seen now and returns how long each has been
// seen; names no longer seen are forgotten.
func (p *preparedSeen) age(db string, names []string, now time.Time) map[string]time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.first == nil {
		p.first = map[string]time.Time{}
	}
	prefix := twophase.DBPrefix(db)
	seen := make(map[string]bool, len(names))
	out := make(map[string]time.Duration, len(names))
	for _, n := range names {
		seen[n] = true
		t, ok := p.first[n]
		if !ok {
			t = now
			p.first[n] = now
		}
		out[n] = now.Sub(t)
	}
	for n := range p.first {
		if strings.HasPrefix(n, prefix) && !seen[n] {
			delete(p.first, n)
		}
	}
	return out
}

// ResolvePrepared finishes (by the rule of package twophase) the XA
// transactions that two-phase commits left prepared on the servers of
// every two_phase database, once this proxy has seen all of a
// transaction's parts prepared for olderThan: a live proxy finishes its
// own within milliseconds. It returns how many parts it committed or
// rolled back.
func (s *Server) ResolvePrepared(ctx context.Context, olderThan time.Duration) (int, error) {
	return twophase.ResolveAll(s.store.Current(), topology.MySQL, func(db *topology.DB) (int, error) {
		return s.resolveDB(ctx, db, olderThan)
	})
}

func (s *Server) resolveDB(ctx context.Context, db *topology.DB, olderThan time.Duration) (int, error) {
	leases := make([]lease, len(db.Shards))
	broken := make([]bool, len(db.Shards))
	defer func() {
		for i, l := range leases {
			if l.conn == nil {
				continue
			}
			if broken[i] {
				l.pool.Discard(l.conn)
			} else {
				l.pool.Release(l.conn)
			}
		}
	}()
	found := make([][]string, len(db.Shards))
	var all []string
	for i, sh := range db.Shards {
		p := s.back.poolFor(db, sh.Primary)
		c, err := p.Acquire(ctx, 0)
		if err != nil {
			return 0, fmt.Errorf("shard %s: %w", sh.Name, err)
		}
		leases[i] = lease{conn: c, pool: p, addr: sh.Primary}
		if found[i], err = xaRecover(c, twophase.DBPrefix(db.Name)); err != nil {
			broken[i] = true
			return 0, fmt.Errorf("shard %s: XA RECOVER: %w", sh.Name, err)
		}
		all = append(all, found[i]...)
	}
	ages := s.prepared.age(db.Name, all, time.Now())
	done := 0
	var errs []error
	for _, r := range twophase.Plan(found) {
		if youngest(r, ages) < olderThan {
			continue
		}
		verb := "XA ROLLBACK "
		if r.Commit {
			verb = "XA COMMIT "
		}
		for _, p := range r.Parts {
			if _, err := leases[p.Shard].conn.Simple(verb + quoteString(p.GID)); err != nil {
				broken[p.Shard] = !isServerError(err)
				errs = append(errs, fmt.Errorf("%s%s on shard %s: %w", verb, p.GID, db.Shards[p.Shard].Name, err))
				break // the rest wait for the next round, in order
			}
			done++
			s.metrics.PreparedResolved(db.Name, r.Commit)
			s.log.Warn("finished an XA transaction left prepared by an interrupted two-phase commit",
				"database", db.Name, "shard", db.Shards[p.Shard].Name, "xid", p.GID, "commit", r.Commit)
		}
	}
	return done, errors.Join(errs...)
}

// youngest is how long the most recently seen part of a transaction has
// been seen prepared.
func youngest(r twophase.Resolution, ages map[string]time.Duration) time.Duration {
	min := time.Duration(1<<63 - 1)
	for _, p := range r.Parts {
		if a := ages[p.GID]; a < min {
			min = a
		}
	}
	return min
}

// xaRecover lists the prepared XA transactions on a server whose names
// start with prefix.
func xaRecover(c *backendConn, prefix string) ([]string, error) {
	_, rows, err := c.Query("XA RECOVER")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, row := range rows {
		// formatID, gtrid_length, bqual_length, data (gtrid then bqual)
		if len(row) < 4 {
			continue
		}
		n, err := strconv.Atoi(string(row[1]))
		if err != nil || n > len(row[3]) {
			continue
		}
		if gtrid := string(row[3][:n]); strings.HasPrefix(gtrid, prefix) {
			out = append(out, gtrid)
		}
	}
	return out, nil
}

// quoteString is a MySQL string literal.
func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
