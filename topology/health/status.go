package health

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shardgate/shardgate/topology"
)

// ErrNotReady is wrapped by Ready's error.
var ErrNotReady = errors.New("health: not ready")

// ServerStatus is one server of one shard as the monitor sees it, for
// /topology and metrics.
type ServerStatus struct {
	Database, Shard, Address string
	Protocol                 topology.Protocol
	Primary                  bool
	Weight                   int // replicas only
	Up                       bool
	Lag                      time.Duration
	LagKnown                 bool
	Position                 string
	ReadOnly                 bool // what the server itself says
	LastError                string
	LastProbe                time.Time // zero: never probed
	InFlight                 int
	// Usable: takes traffic now. A primary when up; a replica when up,
	// weight > 0 and within max_replica_lag.
	Usable bool
}

// Status lists every server of the adopted snapshot in file order, each
// shard's primary first. A server listed by several databases appears once
// per listing.
func (m *Monitor) Status() []ServerStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.snap == nil {
		return nil
	}
	servers := m.state.Load().servers
	var out []ServerStatus
	for _, db := range m.snap.Databases() {
		for _, sh := range db.Shards {
			p := servers[sh.Primary]
			st := p.status(db, sh)
			st.Primary, st.Usable = true, p.up
			out = append(out, st)
			for _, r := range sh.Replicas {
				s := servers[r.Address]
				st := s.status(db, sh)
				st.Weight, st.Usable = r.Weight, replicaUsable(db, r.Weight, s)
				out = append(out, st)
			}
		}
	}
	return out
}

func (s *server) status(db *topology.DB, sh *topology.Shard) ServerStatus {
	return ServerStatus{
		Database: db.Name, Shard: sh.Name, Address: s.addr, Protocol: db.Protocol,
		Up: s.up, Lag: s.obs.Lag, LagKnown: s.probed && s.obs.LagKnown,
		Position: s.obs.Position, ReadOnly: s.obs.ReadOnly,
		LastError: s.lastErr, LastProbe: s.lastProbe,
		InFlight: int(max(s.inflight.Load(), 0)),
	}
}

// Ready is nil when every shard of every database of snap has a primary
// that is not banned, else an error (ErrNotReady) naming the shards that
// have not. Servers the monitor has not probed yet count as up.
func (m *Monitor) Ready(snap *topology.Snapshot) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	servers := m.state.Load().servers
	var down []string
	for _, db := range snap.Databases() {
		for _, sh := range db.Shards {
			if s := servers[sh.Primary]; s != nil && !s.up {
				msg := fmt.Sprintf("%s %s shard %s primary %s", db.Protocol, db.Name, sh.Name, sh.Primary)
				if s.lastErr != "" {
					msg += ": " + s.lastErr
				}
				down = append(down, msg)
			}
		}
	}
	if len(down) > 0 {
		return fmt.Errorf("%w: %s", ErrNotReady, strings.Join(down, "; "))
	}
	return nil
}
