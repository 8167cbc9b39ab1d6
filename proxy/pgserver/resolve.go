package pgserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shardgate/shardgate/topology"
)

// Two-phase commit without a coordinator log (see commitTwoPhase): a
// transaction's participant 0 is prepared first and committed first, and
// rolled back last. So for the prepared parts a dead proxy left behind:
// participant 0 still prepared means the commit point was not passed
// (roll every part back, participant 0 last); participant 0 gone means it
// committed (commit the rest).

// resolution is what to do with the leftover parts of one transaction.
type resolution struct {
	commit bool
	parts  []leftover // in the order to finish them
}

// leftover is one prepared part: the shard (index in the database's
// shards) that holds it and its name.
type leftover struct {
	shard int
	gid   string
}

// planResolution decides what to do with the prepared transactions found
// on each shard of a database (found[i]: the names on shard i). Every
// shard must have been read: a part missing only because its server was
// not asked would look committed.
func planResolution(found [][]string) []resolution {
	byTx := map[string]*resolution{}
	has0 := map[string]bool{}
	var ids []string
	for shard, gids := range found {
		for _, gid := range gids {
			id, part, ok := parseGID(gid)
			if !ok {
				continue
			}
			r := byTx[id]
			if r == nil {
				r = &resolution{}
				byTx[id] = r
				ids = append(ids, id)
			}
			r.parts = append(r.parts, leftover{shard: shard, gid: gid})
			if part == 0 {
				has0[id] = true
			}
		}
	}
	slices.Sort(ids)
	out := make([]resolution, 0, len(ids))
	for _, id := range ids {
		r := byTx[id]
		r.commit = !has0[id]
		// Participant 0 last: a rollback cut short still leaves it prepared.
		slices.SortFunc(r.parts, func(a, b leftover) int {
			_, pa, _ := parseGID(a.gid)
			_, pb, _ := parseGID(b.gid)
			return cmp.Compare(-pa, -pb)
		})
		out = append(out, *r)
	}
	return out
}

// parseGID splits shardgate_<id>_<participant>.
func parseGID(gid string) (id string, part int, ok bool) {
	rest, found := strings.CutPrefix(gid, gidPrefix)
	if !found {
		return "", 0, false
	}
	i := strings.LastIndexByte(rest, '_')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(rest[i+1:])
	if err != nil || n < 0 {
		return "", 0, false
	}
	return rest[:i], n, true
}

// ResolvePrepared finishes the transactions that two-phase commits left
// prepared on the servers of every two_phase database (a proxy died, or
// lost a server, mid-commit), if prepared more than olderThan ago: a live
// proxy finishes its own within milliseconds. It returns how many
// prepared parts it committed or rolled back.
func (s *Server) ResolvePrepared(ctx context.Context, olderThan time.Duration) (int, error) {
	var errs []error
	total := 0
	for _, db := range s.store.Current().Databases() {
		if db.Protocol != topology.Postgres || db.Transactions != topology.TwoPhase {
			continue
		}
		n, err := s.resolveDB(ctx, db, olderThan)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("database %s: %w", db.Name, err))
		}
	}
	return total, errors.Join(errs...)
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
	q := fmt.Sprintf(`SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND gid LIKE 'shardgate\_%%' AND prepared < now() - interval '%d milliseconds'`,
		olderThan.Milliseconds())
	found := make([][]string, len(db.Shards))
	for i, sh := range db.Shards {
		c, err := s.back.poolFor(db, sh.Primary).Acquire(ctx)
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
	for _, r := range planResolution(found) {
		verb := "ROLLBACK PREPARED "
		if r.commit {
			verb = "COMMIT PREPARED "
		}
		for _, p := range r.parts {
			if err := conns[p.shard].simple(verb + quoteLiteral(p.gid)); err != nil {
				broken[p.shard] = true
				errs = append(errs, fmt.Errorf("%s%s on shard %s: %w", verb, p.gid, db.Shards[p.shard].Name, err))
				break // the rest wait for the next round, in order
			}
			done++
			s.metrics.PreparedResolved(db.Name, r.commit)
			s.log.Warn("finished a prepared transaction left by an interrupted two-phase commit",
				"database", db.Name, "shard", db.Shards[p.shard].Name, "gid", p.gid, "commit", r.commit)
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

// resolveLoop runs ResolvePrepared now and then until ctx ends.
func (s *Server) resolveLoop(ctx context.Context) {
	t := time.NewTicker(s.opts.ResolveEvery)
	defer t.Stop()
	for {
		if _, err := s.ResolvePrepared(ctx, s.opts.ResolveAfter); err != nil && ctx.Err() == nil {
			s.log.Warn("resolving prepared transactions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
