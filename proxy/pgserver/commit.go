package pgserver

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/proxy/pgwire"
	"github.com/shardgate/shardgate/proxy/twophase"
	"github.com/shardgate/shardgate/topology"
)

// commitAll commits a transaction that touched shards, per the
// database's transactions mode. It answers nothing to the client on
// success (the caller does), and on failure returns what the client must
// hear, naming what was and was not committed.
func (s *session) commitAll() error {
	var outcome string
	var err error
	if s.tx.db.Transactions == topology.TwoPhase && len(s.tx.parts) > 1 {
		outcome, err = s.commitTwoPhase()
	} else {
		outcome, err = s.commitInTurn()
	}
	if len(s.tx.parts) > 1 {
		s.srv.metrics.MultiShardCommit(s.tx.db.Name, outcome)
	}
	return err
}

// commitInTurn commits the participants one after the other. A failure
// at the first leaves nothing committed; a failure at a later one leaves
// the earlier ones committed, which the error says.
func (s *session) commitInTurn() (outcome string, err error) {
	parts := s.tx.parts
	for i := range parts {
		p := &parts[i]
		tag, err := p.conn.command("COMMIT")
		var pe *pgwire.PgError
		if err != nil && !errors.As(err, &pe) || !p.conn.idle() {
			p.lost = true // a server's refusal leaves the connection usable
		}
		if err == nil && tag == "COMMIT" {
			continue
		}
		s.rollbackFrom(i + 1)
		if err == nil {
			err = errRolledBack
		}
		if i == 0 {
			return metrics.CommitRolledBack, commitFailed(err, p.conn.addr)
		}
		return metrics.CommitPartial, &clientError{code: "XX000", msg: fmt.Sprintf(
			"transaction only partly committed: shard %s committed; shard %s failed to commit (%v); shard %s rolled back",
			shardList(parts[:i]), p.shard.Name, err, shardList(parts[i+1:])), cause: err}
	}
	return metrics.CommitCommitted, nil
}

// commitTwoPhase prepares every participant (PREPARE TRANSACTION), then
// commits them. Participant 0 is prepared first and committed first: its
// COMMIT PREPARED is the commit point. So a prepared transaction left
// behind by a proxy that died is resolved without a log: while
// participant 0 is still prepared nothing committed (roll back all);
// once it is gone, it committed (commit the rest). See package twophase.
func (s *session) commitTwoPhase() (outcome string, err error) {
	parts := s.tx.parts
	gid := twophase.Names(s.tx.db.Name)
	start := time.Now()
	for i := range parts {
		p := &parts[i]
		tag, err := p.conn.command("PREPARE TRANSACTION " + quoteLiteral(gid(i)))
		if err == nil && tag == "PREPARE TRANSACTION" && p.conn.idle() {
			continue
		}
		if err == nil {
			err = errRolledBack // a failed transaction: PREPARE answered ROLLBACK
		}
		if !p.conn.idle() {
			p.lost = true
		}
		// Nothing committed: undo the prepared ones, participant 0 last.
		s.rollbackFrom(i + 1)
		s.rollbackPrepared(gid, 0, i)
		return metrics.CommitRolledBack, commitFailed(err, p.conn.addr)
	}
	if time.Since(start) > s.srv.opts.ResolveAfter/2 {
		// So slow that the resolver may soon take these parts for a dead
		// proxy's: decide for it (roll back) rather than race it.
		s.rollbackPrepared(gid, 0, len(parts))
		return metrics.CommitRolledBack, &clientError{code: "40000", msg: fmt.Sprintf(
			"two-phase commit rolled back: preparing %d shards took %v, too close to the resolver's %v", len(parts), time.Since(start).Round(time.Millisecond), s.srv.opts.ResolveAfter)}
	}
	if hook := s.srv.afterPrepare.Load(); hook != nil {
		(*hook)(parts)
	}
	for i := range parts {
		p := &parts[i]
		err := p.conn.simple("COMMIT PREPARED " + quoteLiteral(gid(i)))
		if err == nil {
			continue
		}
		var pe *pgwire.PgError
		if !errors.As(err, &pe) {
			p.lost = true
		}
		if i == 0 && !p.lost {
			// The server refused: the commit point was not passed.
			s.rollbackPrepared(gid, 1, len(parts))
			return metrics.CommitRolledBack, &clientError{code: "40000", msg: fmt.Sprintf(
				"COMMIT PREPARED on shard %s failed, the transaction was rolled back: %v", p.shard.Name, err), cause: err}
		}
		if i == 0 {
			// Whether the commit point was passed is unknown: the
			// resolver finishes the other shards as that shard did.
			return metrics.CommitInDoubt, &clientError{code: "40003", msg: fmt.Sprintf(
				"COMMIT PREPARED on shard %s failed (%v): the transaction's outcome is decided by whether that shard committed; "+
					"shardgate's resolver finishes the other shards accordingly", p.shard.Name, err), cause: err}
		}
		// Committed at participant 0: the rest must commit, now or by the
		// resolver.
		s.w.Send(&pgproto3.NoticeResponse{Severity: "WARNING", Code: "01000", Message: fmt.Sprintf(
			"the transaction committed, but shard %s did not confirm (%v); its prepared part %s is committed by shardgate's resolver",
			p.shard.Name, err, gid(i))})
		outcome = metrics.CommitInDoubt
	}
	if outcome == "" {
		outcome = metrics.CommitCommitted
	}
	return outcome, nil
}

// errRolledBack: a server answered COMMIT or PREPARE TRANSACTION with
// ROLLBACK (its part of the transaction had failed).
var errRolledBack = errors.New("a shard's server rolled its part of the transaction back")

// rollbackPrepared rolls back participants from..to-1, which prepared
// under gid(i), in reverse: participant 0 last, so a rollback cut short
// still reads as "not committed" to the resolver.
func (s *session) rollbackPrepared(gid func(int) string, from, to int) {
	for j := to - 1; j >= from; j-- {
		p := &s.tx.parts[j]
		if err := p.conn.simple("ROLLBACK PREPARED " + quoteLiteral(gid(j))); err != nil {
			p.lost = true // left to the resolver
		}
	}
}

// rollbackFrom rolls back the participants from the i'th on.
func (s *session) rollbackFrom(i int) {
	for j := i; j < len(s.tx.parts); j++ {
		p := &s.tx.parts[j]
		if p.lost {
			continue
		}
		if err := p.conn.simple("ROLLBACK"); err != nil || !p.conn.idle() {
			p.lost = true
		}
	}
}

// commitFailed is the error of a COMMIT that committed nothing: the
// server's own error when it gave one.
func commitFailed(err error, addr string) error {
	var pe *pgwire.PgError
	if errors.As(err, &pe) {
		return &clientError{pg: pe}
	}
	if errors.Is(err, errRolledBack) {
		return &clientError{code: "40000", msg: "COMMIT failed, nothing committed: " + err.Error(), cause: err}
	}
	return &clientError{code: "08006", msg: fmt.Sprintf("COMMIT failed, nothing committed: %v", &backendError{addr, err}), cause: err}
}

func shardList(parts []txPart) string {
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = p.shard.Name
	}
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}
