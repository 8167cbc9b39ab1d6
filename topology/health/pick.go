package health

import (
	"errors"
	"math"
	"math/rand/v2"

	"github.com/cespare/xxhash/v2"
	"github.com/shardgate/shardgate/topology"
)

// Errors of Pick, wrapped with the database and shard they concern.
var (
	// ErrNoReplica: replica_fallback is error and no replica of the shard
	// is usable (banned, lagging or drained).
	ErrNoReplica = errors.New("health: no usable replica (replica_fallback is error)")
	// ErrNoServer: a read found no usable replica and the primary it
	// would fall back on is banned.
	ErrNoServer = errors.New("health: no usable server")
)

// PickRequest describes one statement's need on one shard.
type PickRequest struct {
	// Primary: writes, transactions, role=primary hints, a session's
	// read-your-writes window.
	Primary bool
	// ClientKey identifies the client for client_hash (see ClientKey): the
	// same key gets the same replica while that replica stays usable.
	ClientKey uint64
	// Avoid is an address that just failed: the retry goes elsewhere if
	// anything else (the primary as fallback included) can serve.
	Avoid string
}

// ClientKey hashes a client identity (its IP address for per-host
// stickiness, or a session id) for PickRequest.ClientKey.
func ClientKey(id string) uint64 { return xxhash.Sum64String(id) }

// Pick chooses the server for one statement on shard sh of db.
//
// Primary requests, and every request under read_policy primary_only, get
// the primary even when it is banned: a write has nowhere else to go, and
// dialling it returns the real error. Reads choose among the usable
// replicas (up, weight > 0, within max_replica_lag) by the read policy;
// with none, replica_fallback primary sends them to the primary unless it
// is banned (ErrNoServer), and error refuses them (ErrNoReplica). Pick
// takes no lock and allocates nothing once the monitor has adopted the
// snapshot sh belongs to.
func (m *Monitor) Pick(db *topology.DB, sh *topology.Shard, req PickRequest) (string, error) {
	if req.Primary || db.ReadPolicy == topology.PrimaryOnly {
		return sh.Primary, nil
	}
	v := m.state.Load().shards[sh]
	if v == nil {
		v = m.slowView(db, sh)
	}
	if i := v.choose(req.ClientKey, req.Avoid); i >= 0 {
		return v.reps[i].addr, nil
	}
	return v.noReplica(req)
}

// noReplica answers a read when no replica other than Avoid is usable.
func (v *shardView) noReplica(req PickRequest) (string, error) {
	primaryOK := v.fallback == topology.FallbackPrimary && v.primaryUp
	if primaryOK && v.primary != req.Avoid {
		return v.primary, nil
	}
	if req.Avoid != "" {
		// Nothing else remains: the server that failed is still the only
		// candidate, and retrying it beats refusing the read.
		if i := v.choose(req.ClientKey, ""); i >= 0 {
			return v.reps[i].addr, nil
		}
		if primaryOK {
			return v.primary, nil
		}
	}
	if v.fallback == topology.FallbackError {
		return "", v.errNoReplica
	}
	return "", v.errNoServer
}

// choose returns the index in reps of the replica the policy picks, never
// avoid, or -1.
func (v *shardView) choose(key uint64, avoid string) int {
	if len(v.reps) == 0 {
		return -1
	}
	switch v.policy {
	case topology.Random:
		return v.random(avoid)
	case topology.LeastConnections:
		return v.leastConnections(avoid)
	case topology.ClientHash:
		return v.rendezvous(key, avoid)
	}
	return v.roundRobin(avoid)
}

// roundRobin walks the smooth weighted sequence with the shard's cursor.
func (v *shardView) roundRobin(avoid string) int {
	n := uint64(len(v.seq))
	c := v.cursor.Add(1) - 1
	for k := range n {
		if i := v.seq[(c+k)%n]; v.reps[i].addr != avoid {
			return int(i)
		}
	}
	return -1
}

// random draws a replica with probability proportional to its weight.
func (v *shardView) random(avoid string) int {
	total := v.total
	for _, c := range v.reps {
		if c.addr == avoid {
			total -= c.weight
		}
	}
	if total <= 0 {
		return -1
	}
	r := rand.IntN(total)
	for i, c := range v.reps {
		if c.addr == avoid {
			continue
		}
		if r < c.weight {
			return i
		}
		r -= c.weight
	}
	return -1
}

// leastConnections picks the fewest statements in flight per unit of
// weight. Ties go to the first replica in a scan that starts where the
// smooth round-robin sequence points, so idle replicas (all at zero)
// share reads by weight instead of the first one taking them all.
func (v *shardView) leastConnections(avoid string) int {
	n := len(v.reps)
	start := int(v.seq[v.cursor.Add(1)%uint64(len(v.seq))])
	best, bestLoad, bestWeight := -1, int64(0), int64(1)
	for k := range n {
		i := (start + k) % n
		c := &v.reps[i]
		if c.addr == avoid {
			continue
		}
		load := max(c.srv.inflight.Load(), 0) // a Done after a reload may undercount
		if best < 0 || load*bestWeight < bestLoad*int64(c.weight) {
			best, bestLoad, bestWeight = i, load, int64(c.weight)
		}
	}
	return best
}

// rendezvous is weighted highest-random-weight hashing: every replica
// scores the key, the highest score wins. Removing a replica moves only
// the keys it won; the others keep theirs. The score w / -ln(u), with u
// uniform in (0,1) from the hash, makes a replica win in proportion to
// its weight.
func (v *shardView) rendezvous(key uint64, avoid string) int {
	best, bestScore := -1, 0.0
	for i, c := range v.reps {
		if c.addr == avoid {
			continue
		}
		u := (float64(mix64(key^c.hash)>>11) + 0.5) / (1 << 53)
		if score := float64(c.weight) / -math.Log(u); best < 0 || score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// mix64 is the splitmix64 finaliser: every input bit flips about half of
// the output bits, so near keys score independently.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Begin counts a statement starting on addr (least_connections); call
// Done when the connection is given back. Unknown addresses are ignored.
func (m *Monitor) Begin(addr string) {
	if s := m.state.Load().servers[addr]; s != nil {
		s.inflight.Add(1)
	}
}

// Done ends what Begin counted.
func (m *Monitor) Done(addr string) {
	if s := m.state.Load().servers[addr]; s != nil {
		s.inflight.Add(-1)
	}
}
