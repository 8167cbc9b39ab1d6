package localcluster

import (
	"github.com/shardgate/shardgate/topology"
)

// TopologyDatabase describes the cluster as one logical database of a
// topology file: its shards own even key ranges in order, and the proxy
// logs in with the cluster's account.
func (c *Cluster) TopologyDatabase(name string) topology.Database {
	ranges := topology.EvenRanges(len(c.Shards))
	db := topology.Database{
		Name:     name,
		Protocol: string(c.Kind),
		Backend: topology.Backend{
			User:     c.Options.User,
			Password: c.Options.Password,
			Database: c.Options.Database,
		},
	}
	for i, s := range c.Shards {
		sc := topology.ShardConfig{KeyRange: ranges[i].String(), Primary: s.Primary.Addr}
		for _, r := range s.Replicas {
			sc.Replicas = append(sc.Replicas, topology.ReplicaConfig{Address: r.Addr})
		}
		db.Shards = append(db.Shards, sc)
	}
	return db
}
