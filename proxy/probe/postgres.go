package probe

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/health"
)

// A demoted primary would fail pg_current_wal_lsn() ("recovery is in
// progress"): the CASE answers with its replay position instead, so the
// probe still tells what the server is.
const pgPrimaryQuery = `SELECT pg_is_in_recovery(),
  CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END`

// Times are differences computed on the replica's own clock, as seconds,
// so that no timestamp text has to be parsed in the session's DateStyle.
const pgReplicaQuery = `SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), pg_last_wal_receive_lsn(),
  extract(epoch FROM now() - pg_last_xact_replay_timestamp()), extract(epoch FROM now())`

// Postgres probes PostgreSQL servers. Safe for concurrent use; the
// monitor probes one server at a time.
type Postgres struct {
	servers registry[*pgServer]
}

// pgServer is the probe connection to one server and what earlier probes
// taught about it.
type pgServer struct {
	conn *pgConn // nil: dial on the next probe
	// caughtUp is the replica's clock (epoch seconds) when a probe last
	// saw it at or past its primary's position; 0 unknown. Everything
	// committed before it is on the replica, so now - caughtUp bounds the
	// lag even when the last replayed commit is old (an idle primary).
	caughtUp float64
}

func (s *pgServer) reset() {
	if s.conn != nil {
		s.conn.close()
		s.conn = nil
	}
	s.caughtUp = 0 // a new session may be a restored server: learn again
}

// NewPostgres returns a prober with no connection open yet.
func NewPostgres() *Postgres {
	return &Postgres{servers: newRegistry(func() *pgServer { return &pgServer{} })}
}

// ProbePrimary reads whether the server is in recovery and its current
// WAL position.
func (p *Postgres) ProbePrimary(ctx context.Context, db *topology.DB, addr string) (health.Observation, error) {
	var obs health.Observation
	err := p.servers.with(addr, func(s *pgServer) error {
		row, err := p.query(ctx, s, db, addr, pgPrimaryQuery)
		if err != nil {
			return err
		}
		obs = health.Observation{ReadOnly: row[0].s == "t", Position: row[1].s, LagKnown: row[0].s == "f"}
		return nil
	})
	return obs, err
}

// ProbeReplica reads the replica's replay state and works out its lag
// against primaryPos (see pgReplicaObservation).
func (p *Postgres) ProbeReplica(ctx context.Context, db *topology.DB, addr, primaryPos string) (health.Observation, error) {
	var obs health.Observation
	err := p.servers.with(addr, func(s *pgServer) error {
		row, err := p.query(ctx, s, db, addr, pgReplicaQuery)
		if err != nil {
			return err
		}
		r, err := parsePGReplicaRow(row)
		if err != nil {
			return fmt.Errorf("probe %s: %w", addr, err)
		}
		obs, s.caughtUp = pgReplicaObservation(r, primaryPos, s.caughtUp)
		return nil
	})
	return obs, err
}

// query runs sql on the server's probe connection, dialling it when there
// is none (or the credentials changed). A connection that was open
// before this probe gets one retry on a fresh one: the server may have
// restarted, or closed an idle session, since the last round.
func (p *Postgres) query(ctx context.Context, s *pgServer, db *topology.DB, addr, sql string) ([]value, error) {
	if s.conn != nil && s.conn.cred != db.Backend {
		s.reset()
	}
	for attempt := 0; ; attempt++ {
		reused := s.conn != nil
		if !reused {
			c, err := dialPG(ctx, addr, db.Backend)
			if err != nil {
				return nil, err
			}
			s.conn = c
		}
		row, err := s.conn.queryRow(ctx, sql)
		if err == nil || errors.Is(err, errServer) {
			if err != nil {
				err = fmt.Errorf("probe %s: %w", addr, err)
			}
			return row, err
		}
		s.reset()
		if !reused || attempt > 0 || ctx.Err() != nil {
			return nil, ioError(ctx, addr, err)
		}
	}
}

// Forget closes the connection to a server removed from the topology.
func (p *Postgres) Forget(addr string) { p.servers.forget(addr, (*pgServer).reset) }

// Close closes every probe connection.
func (p *Postgres) Close() error {
	p.servers.closeAll((*pgServer).reset)
	return nil
}

// pgReplicaRow is pgReplicaQuery's answer.
type pgReplicaRow struct {
	inRecovery      bool
	replay, receive string  // LSNs; "" for NULL
	sinceReplay     float64 // now - last replayed commit's timestamp, seconds
	sinceReplayNull bool    // no commit replayed since the server started
	now             float64 // the replica's clock, epoch seconds
}

func parsePGReplicaRow(row []value) (pgReplicaRow, error) {
	if len(row) != 5 {
		return pgReplicaRow{}, fmt.Errorf("replica query returned %d columns, want 5", len(row))
	}
	r := pgReplicaRow{inRecovery: row[0].s == "t", replay: row[1].s, receive: row[2].s, sinceReplayNull: row[3].null}
	var err error
	if !row[3].null {
		if r.sinceReplay, err = strconv.ParseFloat(row[3].s, 64); err != nil {
			return r, fmt.Errorf("replay delay %q: %w", row[3].s, err)
		}
	}
	if r.now, err = strconv.ParseFloat(row[4].s, 64); err != nil {
		return r, fmt.Errorf("now %q: %w", row[4].s, err)
	}
	return r, nil
}

// pgReplicaObservation turns a replica's state into its lag, and returns
// the updated caught-up time (see pgServer.caughtUp):
//
//   - a server not in recovery is not replicating: lag unknown;
//   - replay at or past primaryPos: caught up, lag 0 (an idle primary
//     must not make lag grow);
//   - primary unknown (its probe failed) and everything received
//     replayed: lag 0, since the unreachable primary is the only source
//     of newer data and reads have nowhere better to go;
//   - otherwise the smaller of now - last replayed commit and now - last
//     time seen caught up; unknown when neither can be told.
func pgReplicaObservation(r pgReplicaRow, primaryPos string, caughtUp float64) (health.Observation, float64) {
	obs := health.Observation{Position: r.replay, ReadOnly: r.inRecovery}
	if !r.inRecovery || r.replay == "" {
		return obs, 0
	}
	replay, err := ParseLSN(r.replay)
	if err != nil {
		return obs, caughtUp
	}
	if primaryPos != "" {
		if want, err := ParseLSN(primaryPos); err == nil && replay >= want {
			obs.LagKnown = true
			return obs, r.now
		}
	} else if recv, err := ParseLSN(r.receive); err == nil && replay >= recv {
		obs.LagKnown = true
		return obs, caughtUp
	}
	lag, known := 0.0, false
	if !r.sinceReplayNull {
		lag, known = r.sinceReplay, true
	}
	if caughtUp > 0 && (!known || r.now-caughtUp < lag) {
		lag, known = r.now-caughtUp, true
	}
	if known {
		obs.Lag, obs.LagKnown = max(0, time.Duration(lag*float64(time.Second))), true
	}
	return obs, caughtUp
}
