package health

import (
	"fmt"
	"math"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
	"github.com/shardgate/shardgate/topology"
)

// shardView is what Pick needs about one shard, rebuilt whenever health
// changes (every round at most, and on a passive ban) and then only read:
// the hot path takes no lock and allocates nothing.
type shardView struct {
	policy    topology.ReadPolicy
	fallback  topology.ReplicaFallback
	primary   string
	primaryUp bool
	reps      []candidate    // usable replicas, in file order
	total     int            // sum of their weights
	seq       []int32        // smooth weighted round-robin order, indexes into reps
	cursor    *atomic.Uint64 // shared with the shard's later views

	errNoReplica error // set when fallback is error
	errNoServer  error // set when the primary is banned
}

// candidate is one usable replica.
type candidate struct {
	addr   string
	weight int    // normalised (see normalise)
	hash   uint64 // of addr, for rendezvous hashing
	srv    *server
}

// maxWeight bounds normalised weights so that sums cannot overflow and the
// round-robin sequence stays small.
const (
	maxWeight = 1 << 20
	maxSeq    = 1024
)

// buildView computes a shard's view. Replicas the monitor does not know
// count as never probed. m.mu must be held.
func (m *Monitor) buildView(db *topology.DB, sh *topology.Shard, servers map[string]*server) *shardView {
	v := &shardView{
		policy:    db.ReadPolicy,
		fallback:  db.ReplicaFallback,
		primary:   sh.Primary,
		primaryUp: true,
		cursor:    m.cursor(sh.Primary),
	}
	if v.fallback == "" {
		v.fallback = topology.DefaultReplicaFallback
	}
	if p := servers[sh.Primary]; p != nil {
		v.primaryUp = p.up
	}
	for _, r := range sh.Replicas {
		s := servers[r.Address]
		if s == nil {
			s = newServer(r.Address)
		}
		if replicaUsable(db, r.Weight, s) {
			v.reps = append(v.reps, candidate{addr: r.Address, weight: r.Weight, hash: xxhash.Sum64String(r.Address), srv: s})
		}
	}
	normalise(v.reps)
	for _, c := range v.reps {
		v.total += c.weight
	}
	v.seq = smoothSequence(v.reps)
	if v.fallback == topology.FallbackError {
		v.errNoReplica = fmt.Errorf("%w: database %s, shard %s", ErrNoReplica, db.Name, sh.Name)
	}
	if !v.primaryUp {
		v.errNoServer = fmt.Errorf("%w: database %s, shard %s: primary %s is down and no replica is usable", ErrNoServer, db.Name, sh.Name, sh.Primary)
	}
	return v
}

// normalise scales weights down, keeping their ratios, when the largest
// is above maxWeight (a weight of 1e18 is legal in the file).
func normalise(reps []candidate) {
	top := 0
	for _, c := range reps {
		top = max(top, c.weight)
	}
	if top <= maxWeight {
		return
	}
	for i := range reps {
		reps[i].weight = max(1, int(float64(reps[i].weight)*maxWeight/float64(top)))
	}
}

// smoothSequence is one period of smooth weighted round robin: each step
// adds every weight to its replica's credit and serves the replica with
// the most credit, which then pays the total. Weights 5:1:1 give
// a a b a c a a rather than a a a a a b c. The period is the weights'
// sum after dividing by their gcd, scaled down to at most maxSeq steps.
func smoothSequence(reps []candidate) []int32 {
	if len(reps) == 0 {
		return nil
	}
	w := make([]int, len(reps))
	g, sum := 0, 0
	for i, c := range reps {
		w[i] = c.weight
		g = gcd(g, c.weight)
	}
	for i := range w {
		w[i] /= g
		sum += w[i]
	}
	if sum > maxSeq {
		scaled := 0
		for i := range w {
			w[i] = max(1, int(math.Round(float64(w[i])*maxSeq/float64(sum))))
			scaled += w[i]
		}
		sum = scaled
	}
	credit := make([]int, len(w))
	seq := make([]int32, 0, sum)
	for range sum {
		best := 0
		for i := range w {
			credit[i] += w[i]
			if credit[i] > credit[best] {
				best = i
			}
		}
		credit[best] -= sum
		seq = append(seq, int32(best))
	}
	return seq
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
