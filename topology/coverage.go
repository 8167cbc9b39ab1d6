package topology

import (
	"cmp"
	"fmt"
	"slices"
)

// buildShards checks each shard's servers and that the key ranges of one
// database tile the keyspace exactly, naming every gap and overlap.
func buildShards(p *problems, path string, c *Database, d *DB, serverProtocol map[string]Protocol) {
	if len(c.Shards) == 0 {
		p.at(path+".shards", "database %q has no shards", c.Name)
		return
	}
	used := map[string]string{} // address -> path that used it first, in this database
	useAddress := func(apath, addr string) {
		if !checkServerAddress(p, apath, addr) {
			return
		}
		if IsSocket(addr) && d.Backend.TLS != BackendTLSDisable {
			p.at(apath, "%s", describeSocketTLS(addr, d.Backend.TLS))
		}
		if first, dup := used[addr]; dup {
			p.at(apath, "address %s is already used by %s", addr, first)
			return
		}
		used[addr] = apath
		if other, ok := serverProtocol[addr]; ok && other != d.Protocol && d.Protocol != "" {
			p.at(apath, "address %s serves %s in another database but %s here", addr, other, d.Protocol)
		} else if d.Protocol != "" {
			serverProtocol[addr] = d.Protocol
		}
	}

	type placed struct {
		shard *Shard
		path  string
	}
	var ranges []placed
	for i, sc := range c.Shards {
		spath := fmt.Sprintf("%s.shards[%d]", path, i)
		sh := &Shard{Primary: sc.Primary}
		r, err := ParseKeyRange(sc.KeyRange)
		if err != nil {
			p.at(spath+".keyrange", "%v", err)
		} else {
			sh.Range, sh.Name = r, r.String()
			ranges = append(ranges, placed{sh, spath + ".keyrange"})
		}
		useAddress(spath+".primary", sc.Primary)
		for j, rc := range sc.Replicas {
			rpath := fmt.Sprintf("%s.replicas[%d]", spath, j)
			useAddress(rpath+".address", rc.Address)
			w := DefaultReplicaWeight
			if rc.Weight != nil {
				w = *rc.Weight
			}
			if w < 0 {
				p.at(rpath+".weight", "weight must be 0 (drained) or more, got %d", w)
			}
			sh.Replicas = append(sh.Replicas, Replica{Address: rc.Address, Weight: w})
		}
		if err == nil {
			d.Shards = append(d.Shards, sh)
		}
	}

	slices.SortStableFunc(ranges, func(a, b placed) int { return cmp.Compare(a.shard.Range.Start, b.shard.Range.Start) })
	var covered uint64 // everything below this is owned by some shard
	full := false      // the whole keyspace is owned
	for _, r := range ranges {
		kr := r.shard.Range
		switch {
		case full || kr.Start < covered:
			end := covered
			if full {
				end = 0
			}
			over := KeyRange{Start: kr.Start, End: minEnd(end, kr.End)}
			p.at(r.path, "key range %s overlaps another shard on %s", kr, over)
		case kr.Start > covered:
			p.at(r.path, "keyspace %s is owned by no shard (gap before %s)", KeyRange{Start: covered, End: kr.Start}, kr)
		}
		if kr.End == 0 {
			full = true
		} else if kr.End > covered && !full {
			covered = kr.End
		}
	}
	if len(ranges) == len(c.Shards) && !full {
		p.at(path+".shards", "keyspace %s is owned by no shard (gap at the end)", KeyRange{Start: covered})
	}

	slices.SortFunc(d.Shards, func(a, b *Shard) int { return cmp.Compare(a.Range.Start, b.Range.Start) })
	for _, sh := range d.Shards {
		d.shardsByName[sh.Name] = sh
	}
	if c.UnshardedShard == "" {
		if len(d.Shards) > 0 {
			d.Unsharded = d.Shards[0]
		}
	} else if sh, ok := d.ShardNamed(c.UnshardedShard); ok {
		d.Unsharded = sh
	} else {
		p.at(path+".unsharded_shard", "unsharded_shard %q names no shard of database %q", c.UnshardedShard, c.Name)
	}
}

// minEnd compares exclusive ends where 0 means the end of the keyspace.
func minEnd(a, b uint64) uint64 {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}
