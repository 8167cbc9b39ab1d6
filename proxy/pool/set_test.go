package pool

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topology"
)

func TestSet(t *testing.T) {
	d := &dialer{}
	s := NewSet[*fakeConn]()
	made := 0
	newPool := func() *Pool[*fakeConn] { made++; return New(d.dial, 2, time.Minute) }
	a := Key{"10.0.0.1:5432", "u", "shop"}
	b := Key{"10.0.0.2:5432", "u", "shop"}
	pa := s.Get(a, "shop", newPool)
	if s.Get(a, "shop", newPool) != pa || made != 1 {
		t.Fatal("a second Get made another pool")
	}
	pb := s.Get(b, "shop", newPool)
	ctx := context.Background()
	ca, _ := pa.Acquire(ctx, 0)
	pa.Release(ca)
	cb, _ := pb.Acquire(ctx, 0)
	pb.Release(cb)

	s.CloseIdle(a.Addr)
	deadline := time.Now().Add(5 * time.Second)
	for !ca.closed.Load() {
		if time.Now().After(deadline) {
			t.Fatal("CloseIdle left the failed server's idle connection open")
		}
	}
	if cb.closed.Load() {
		t.Fatal("CloseIdle closed another server's connection")
	}

	var labels []string
	s.Each(func(k Key, label string, st Stats) { labels = append(labels, k.Addr+"/"+label) })
	if len(labels) != 2 {
		t.Fatalf("Each saw %v", labels)
	}

	s.Retain(func(k Key) bool { return k == a })
	if !cb.closed.Load() {
		t.Fatal("Retain left a removed server's pool open")
	}
	if _, err := pb.Acquire(ctx, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("removed pool: %v, want ErrClosed", err)
	}
	if s.Get(b, "shop", newPool) == pb || made != 3 {
		t.Fatal("a server listed again must get a new pool")
	}
	s.CloseAll()
	n := 0
	s.Each(func(Key, string, Stats) { n++ })
	if n != 0 {
		t.Fatalf("%d pools after CloseAll", n)
	}
}

func TestListed(t *testing.T) {
	snap, err := topology.Load("../../testdata/routing/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db, _ := snap.Database(topology.Postgres, "shop")
	keep := Listed(snap, topology.Postgres)
	for _, sh := range db.Shards {
		for _, addr := range sh.Addresses() {
			if !keep(Key{addr, db.Backend.User, db.Backend.Database}) {
				t.Fatalf("listed server %s not kept", addr)
			}
		}
	}
	if keep(Key{"192.0.2.1:1", db.Backend.User, db.Backend.Database}) {
		t.Fatal("unlisted server kept")
	}
	if keep(Key{db.Shards[0].Primary, "someone-else", db.Backend.Database}) {
		t.Fatal("other credentials kept")
	}
}
