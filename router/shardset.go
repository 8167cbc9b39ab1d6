package router

import (
	"math/bits"

	"github.com/shardgate/shardgate/topology"
)

// shardSet is a set of shard indexes into topology.DB.Shards. The nil set
// means "unconstrained" (every shard); a non-nil empty set means the
// predicate is contradictory (no shard can hold a matching row).
type shardSet []uint64

func singleShard(i int) shardSet {
	s := make(shardSet, i/64+1)
	s[i/64] |= 1 << (i % 64)
	return s
}

func (s shardSet) constrained() bool { return s != nil }

// union of two constrained sets.
func (s shardSet) union(o shardSet) shardSet {
	out := make(shardSet, max(len(s), len(o)))
	copy(out, s)
	for i, w := range o {
		out[i] |= w
	}
	return out
}

// intersect treats nil as "everything".
func (s shardSet) intersect(o shardSet) shardSet {
	switch {
	case s == nil:
		return o
	case o == nil:
		return s
	}
	out := make(shardSet, min(len(s), len(o)))
	for i := range out {
		out[i] = s[i] & o[i]
	}
	return out
}

func (s shardSet) count() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// shards lists the members in key range order; nil (unconstrained) lists
// every shard of the database.
func (s shardSet) shards(d *topology.DB) []*topology.Shard {
	if s == nil {
		return d.Shards
	}
	out := make([]*topology.Shard, 0, s.count())
	for i, sh := range d.Shards {
		if i/64 < len(s) && s[i/64]&(1<<(i%64)) != 0 {
			out = append(out, sh)
		}
	}
	return out
}

// shardIndex finds a shard's index in d.Shards.
func shardIndex(d *topology.DB, sh *topology.Shard) int {
	for i, s := range d.Shards {
		if s == sh {
			return i
		}
	}
	return -1
}

// idSet is the set of shards owning the given keyspace ids.
func idSet(d *topology.DB, ids ...uint64) shardSet {
	var s shardSet = make(shardSet, (len(d.Shards)+63)/64)
	for _, id := range ids {
		i := d.ShardIndex(id)
		s[i/64] |= 1 << (i % 64)
	}
	return s
}
