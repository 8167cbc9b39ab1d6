package health

import (
	"fmt"
	"testing"
)

var benchPolicies = []string{"round_robin", "random", "least_connections", "client_hash", "primary_only"}

func benchFixture(b *testing.B, policy string) *fixture {
	replicas := fmt.Sprintf("[ { address: %q, weight: 3 }, { address: %q }, { address: %q, weight: 2 } ]", replicaA, replicaB, replicaC)
	return newFixture(b, topo{policy: policy, replicas: replicas, maxLag: "1s"})
}

// BenchmarkPick is the per-statement cost of choosing a replica among
// three weighted ones on an adopted snapshot, per policy.
func BenchmarkPick(b *testing.B) {
	for _, policy := range benchPolicies {
		b.Run(policy, func(b *testing.B) {
			fx := benchFixture(b, policy)
			req := PickRequest{ClientKey: ClientKey("10.1.2.3")}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := fx.m.Pick(fx.db, fx.sh, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPickParallel adds Begin and Done, from every CPU at once on one
// shard: the contended case.
func BenchmarkPickParallel(b *testing.B) {
	for _, policy := range benchPolicies {
		b.Run(policy, func(b *testing.B) {
			fx := benchFixture(b, policy)
			req := PickRequest{ClientKey: ClientKey("10.1.2.3")}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					addr, err := fx.m.Pick(fx.db, fx.sh, req)
					if err != nil {
						b.Fatal(err)
					}
					fx.m.Begin(addr)
					fx.m.Done(addr)
				}
			})
		})
	}
}
