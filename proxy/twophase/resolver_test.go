package twophase

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topology"
)

func TestResolveAll(t *testing.T) {
	snap, err := topology.Load("../../testdata/topology/valid/four-shards.yaml") // its postgres database is two_phase
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	n, err := ResolveAll(snap, topology.Postgres, func(db *topology.DB) (int, error) {
		seen = append(seen, db.Name)
		return 2, errors.New("boom")
	})
	if n != 2 || len(seen) != 1 || err == nil || !strings.Contains(err.Error(), "database "+seen[0]+": boom") {
		t.Fatalf("ResolveAll = %d, %v over %v", n, err, seen)
	}
	if n, err := ResolveAll(snap, topology.MySQL, func(*topology.DB) (int, error) { t.Fatal("called"); return 0, nil }); n != 0 || err != nil {
		t.Fatalf("mysql: %d, %v; want no database resolved", n, err)
	}
}

func TestBackground(t *testing.T) {
	var runs atomic.Int32
	ran := make(chan struct{}, 1)
	stop := Background(time.Hour, slog.New(slog.DiscardHandler), func(context.Context) error {
		runs.Add(1)
		ran <- struct{}{}
		return nil
	})
	<-ran // the first round runs at once
	stop()
	if n := runs.Load(); n != 1 {
		t.Fatalf("%d rounds, want 1", n)
	}
}
