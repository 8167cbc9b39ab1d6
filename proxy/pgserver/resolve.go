package pgserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shardgate/shardgate/proxy/twophase"
	"github.com/shardgate/shardgate/topology"
)

// ResolvePrepared finishes (by the rule of package twophase) the
// transactions that two-phase commits left
// prepared on the servers of every two_phase database (a proxy died, or
// lost a server, mid-commit), if prepared more than olderThan ago: a live
// proxy finishes its own within milliseconds. It returns how many
// prepared parts it committed or rolled back.
func (s *Server) ResolvePrepared(ctx context.Context, olderThan time.Duration) (int, error) {
	return twophase.ResolveAll(s.store.Current(), topology.Postgres, func(db *topology.DB) (int, error) {
		return s.resolveDB(ctx, db, olderThan)
	})
}

func (s *Server) resolveDB(ctx context.Context, db *topology.DB, olderThan time.Duration) (int, error) {
	conns := make([]*backendConn, len(db.Shards))
	broken := make([]bool, len(db.Shards))
	defer func() {
		for i, c := range conns {
			if c == nil {
				continue
			}
			p := s.back.poolFor(db, db.Shards[i].Primary)
			if broken[i] {
				p.Discard(c)
			} else {
				p.Release(c)
			}
		}
	}()
	q := fmt.Sprintf(`SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND gid LIKE '%s%%' AND prepared < now() - interval '%d milliseconds'`,
		strings.ReplaceAll(twophase.DBPrefix(db.Name), "_", `\_`), olderThan.Milliseconds())
	found := make([][]string, len(db.Shards))
	for i, sh := range db.Shards {
		c, err := s.back.poolFor(db, sh.Primary).Acquire(ctx, 0)
		if err != nil {
			return 0, fmt.Errorf("shard %s: %w", sh.Name, err)
		}
		conns[i] = c
		s.checkTwoPhase(db, sh, c)
		if found[i], err = c.column(q); err != nil {
			broken[i] = true
			return 0, fmt.Errorf("shard %s: %w", sh.Name, err)
		}
	}
	done := 0
	var errs []error
	for _, r := range twophase.Plan(found) {
		verb := "ROLLBACK PREPARED "
		if r.Commit {
			verb = "COMMIT PREPARED "
		}
		for _, p := range r.Parts {
			if err := conns[p.Shard].simple(verb + quoteLiteral(p.GID)); err != nil {
				broken[p.Shard] = true
				errs = append(errs, fmt.Errorf("%s%s on shard %s: %w", verb, p.GID, db.Shards[p.Shard].Name, err))
				break // the rest wait for the next round, in order
			}
			done++
			s.metrics.PreparedResolved(db.Name, r.Commit)
			s.log.Warn("finished a prepared transaction left by an interrupted two-phase commit",
				"database", db.Name, "shard", db.Shards[p.Shard].Name, "gid", p.GID, "commit", r.Commit)
		}
	}
	return done, errors.Join(errs...)
}

// checkTwoPhase warns, once per server, when a two_phase database's
// server cannot prepare transactions: every multi-shard COMMIT would fail.
func (s *Server) checkTwoPhase(db *topology.DB, sh *topology.Shard, c *backendConn) {
	if _, seen := s.twoPhaseChecked.LoadOrStore(sh.Primary, true); seen {
		return
	}
	v, err := c.column("SELECT current_setting('max_prepared_transactions')")
	if err == nil && len(v) == 1 && v[0] == "0" {
		s.log.Error("transactions: two_phase needs max_prepared_transactions > 0 on every shard primary; every COMMIT of a transaction over several shards will fail",
			"database", db.Name, "shard", sh.Name, "server", sh.Primary)
	}
}
