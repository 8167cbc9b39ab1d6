package router

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/shardgate/shardgate/router/sqltext"
	"github.com/shardgate/shardgate/topology"
)

// countingAnalyzer answers every statement as a point select on users by
// placeholder 1, and counts how often it was asked.
type countingAnalyzer struct {
	calls atomic.Int64
	fail  func(sql string) bool
}

func (a *countingAnalyzer) Analyze(sql string) (*Statement, error) {
	a.calls.Add(1)
	if a.fail != nil && a.fail(sql) {
		return nil, fmt.Errorf("%w: fake", ErrSyntax)
	}
	return &Statement{
		Kind:   KindSelect,
		Tables: []TableRef{{Name: "users"}},
		Where:  &Cond{Op: CondEq, Col: ColumnRef{Name: "id"}, Values: []ValueRef{{Slot: 1}}},
		Select: &Select{Items: []SelectItem{{Star: true}}, HasFrom: true},
	}, nil
}

func testDB(t testing.TB) *topology.DB {
	t.Helper()
	snap, err := topology.Load("../testdata/routing/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db, _ := snap.Database(topology.Postgres, "shop")
	return db
}

// A repeated statement shape must not be analyzed again: only the literal
// differs, and it still decides the shard.
func TestShapeCacheAvoidsReparse(t *testing.T) {
	a := &countingAnalyzer{}
	r := New(sqltext.Postgres, a, 100)
	db := testDB(t)
	shards := map[string]bool{}
	for i := range 50 {
		p, err := r.Route(Request{DB: db, SQL: fmt.Sprintf("SELECT * FROM users WHERE id = %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		want := db.ShardFor(topology.IntKeyspaceID(int64(i)))
		if p.Targets[0].Shard != want {
			t.Fatalf("id %d routed to %s, want %s", i, p.Targets[0].Shard.Name, want.Name)
		}
		shards[want.Name] = true
	}
	if n := a.calls.Load(); n != 1 {
		t.Errorf("analyzer ran %d times for one shape, want 1", n)
	}
	if len(shards) < 2 {
		t.Error("test keys all landed on one shard; pick others")
	}
}

// When the normalized text does not parse (a placeholder where the
// grammar wants a constant), the text as written is analyzed instead, and
// that result is cached too.
func TestFallbackToRawText(t *testing.T) {
	a := &countingAnalyzer{fail: func(sql string) bool { return sql != "SELECT * FROM users WHERE id = 2" }}
	r := New(sqltext.Postgres, a, 100)
	db := testDB(t)
	for range 3 {
		_, err := r.Route(Request{DB: db, SQL: "SELECT * FROM users WHERE id = 2"})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := a.calls.Load(); n != 2 {
		t.Errorf("analyzer ran %d times, want 2 (normalized once, raw once)", n)
	}
	_, err := r.Route(Request{DB: db, SQL: "SELECT * FROM users WHERE id = 3"})
	if !errors.Is(err, ErrSyntax) {
		t.Errorf("a shape that fails both ways: err = %v, want ErrSyntax", err)
	}
}

func TestShapeCacheEvicts(t *testing.T) {
	c := newShapeCache(2)
	st := &Statement{}
	c.put("a", st, nil)
	c.put("b", st, nil)
	c.get("a") // a is now the most recent
	c.put("c", st, nil)
	if _, _, ok := c.get("b"); ok {
		t.Error("b should have been evicted (least recently used)")
	}
	if _, _, ok := c.get("a"); !ok {
		t.Error("a was evicted although recently used")
	}
	if c.len() != 2 {
		t.Errorf("len = %d, want 2", c.len())
	}
}

func TestParamKinds(t *testing.T) {
	b := binder{params: []Param{
		{Kind: ParamInt, Int: 42}, {Kind: ParamText, Text: "42"}, {Kind: ParamNull},
		{Kind: ParamBytes, Bytes: []byte("0123456789abcdef")}, {Kind: ParamText, Text: "x"},
	}}
	id1, err1 := b.keyspaceID(topology.KeyInt, ValueRef{Slot: 1})
	id2, err2 := b.keyspaceID(topology.KeyInt, ValueRef{Slot: 2})
	if err1 != nil || err2 != nil || id1 != id2 || id1 != topology.IntKeyspaceID(42) {
		t.Errorf("binary and text 42 differ: %x %v / %x %v", id1, err1, id2, err2)
	}
	if _, err := b.keyspaceID(topology.KeyInt, ValueRef{Slot: 3}); !errors.Is(err, errNullKey) {
		t.Errorf("NULL: %v", err)
	}
	if id, err := b.keyspaceID(topology.KeyUUID, ValueRef{Slot: 4}); err != nil || id != topology.UUIDKeyspaceID([16]byte([]byte("0123456789abcdef"))) {
		t.Errorf("binary uuid: %x %v", id, err)
	}
	if _, err := b.keyspaceID(topology.KeyInt, ValueRef{Slot: 5}); !errors.Is(err, topology.ErrBadKey) {
		t.Errorf("text x as int: %v", err)
	}
	if _, err := b.keyspaceID(topology.KeyInt, ValueRef{Slot: 9}); !errors.Is(err, topology.ErrBadKey) {
		t.Errorf("unbound parameter: %v", err)
	}
	if _, err := b.keyspaceID(topology.KeyInt, ValueRef{}); !errors.Is(err, topology.ErrBadKey) {
		t.Errorf("expression: %v", err)
	}
}

func TestShardSet(t *testing.T) {
	db := testDB(t)
	a, b := singleShard(0), singleShard(2)
	u := a.union(b)
	if u.count() != 2 || len(u.shards(db)) != 2 || u.shards(db)[1] != db.Shards[2] {
		t.Errorf("union = %v", u)
	}
	if a.intersect(b).count() != 0 || !a.intersect(b).constrained() {
		t.Error("disjoint intersection must be empty but constrained")
	}
	var all shardSet
	if all.intersect(a).count() != 1 || len(all.shards(db)) != 4 {
		t.Error("nil set must mean every shard")
	}
}

// A prepared text routes like the same text given to Route, for every
// binding of its parameter, and a text that does not tokenize fails at
// every execution with the syntax error.
func TestRoutePrepared(t *testing.T) {
	r := New(sqltext.Postgres, &countingAnalyzer{}, 100)
	db := testDB(t)
	p := r.Prepare("SELECT * FROM users WHERE id = $1")
	for i := range int64(20) {
		params := []Param{{Kind: ParamInt, Int: i}}
		got, err := r.RoutePrepared(p, Request{DB: db, SQL: "ignored", Params: params})
		if err != nil {
			t.Fatal(err)
		}
		want, err := r.Route(Request{DB: db, SQL: "SELECT * FROM users WHERE id = $1", Params: params})
		if err != nil {
			t.Fatal(err)
		}
		if got.Targets[0].Shard != want.Targets[0].Shard || got.Reason != want.Reason {
			t.Fatalf("id %d: prepared %s (%s), direct %s (%s)", i, got.Targets[0].Shard.Name, got.Reason, want.Targets[0].Shard.Name, want.Reason)
		}
	}
	bad := r.Prepare("SELECT 'unterminated")
	for range 2 {
		if _, err := r.RoutePrepared(bad, Request{DB: db}); !errors.Is(err, ErrSyntax) {
			t.Fatalf("err = %v, want ErrSyntax", err)
		}
	}
}

// checkTransaction refuses a second shard only in single_shard mode.
func TestCheckTransactionModes(t *testing.T) {
	db := testDB(t)
	first, other := db.Shards[0], db.Shards[3]
	one := &Plan{Statement: &Statement{Kind: KindUpdate}, Targets: []Target{{Shard: other}}}
	scatter := &Plan{Statement: &Statement{Kind: KindUpdate}, Targets: []Target{{Shard: first}, {Shard: other}}}
	pinned := Session{InTransaction: true, Pinned: first}
	tests := []struct {
		mode    topology.TxMode
		plan    *Plan
		sess    Session
		refused bool
	}{
		{topology.SingleShard, one, pinned, true},
		{topology.SingleShard, scatter, Session{InTransaction: true}, true},
		{topology.SingleShard, one, Session{}, false},
		{topology.SingleShard, scatter, Session{}, false},
		{topology.SingleShard, &Plan{Statement: one.Statement, Targets: []Target{{Shard: first}}}, pinned, false},
		{topology.MultiShard, one, pinned, false},
		{topology.MultiShard, scatter, pinned, false},
		{topology.TwoPhase, scatter, Session{InTransaction: true}, false},
	}
	for i, tc := range tests {
		d := *db
		d.Transactions = tc.mode
		err := checkTransaction(tc.plan, &d, tc.sess)
		if refused := errors.Is(err, ErrCrossShard); refused != tc.refused || err != nil && !refused {
			t.Errorf("case %d (%s): err = %v, want refused=%v", i, tc.mode, err, tc.refused)
		}
	}
}
