package myserver

import (
	"testing"
	"time"
)

// TestScatterReadRetried: a replica killed while a fan-out read runs on
// it costs the client nothing: the failed server is banned and the whole
// read runs again elsewhere, before any of its answer left the proxy.
func TestScatterReadRetried(t *testing.T) {
	f := startFixture(t, 1)
	db := f.open(t, map[string]string{"interpolateParams": "true"})
	for id := int64(1); id <= 8; id++ {
		mustExec(t, db, "INSERT INTO users (id, name) VALUES (?, 'u')", id)
	}
	if err := f.cluster.WaitReplicated(t.Context()); err != nil {
		t.Fatal(err)
	}
	type result struct {
		rows []string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		rows, err := db.Query("SELECT id FROM users WHERE SLEEP(0.2) = 0 ORDER BY id")
		if err != nil {
			done <- result{err: err}
			return
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				done <- result{err: err}
				return
			}
			out = append(out, id)
		}
		done <- result{out, rows.Err()}
	}()
	// Kill shard 0's replica while the read sleeps on it.
	time.Sleep(300 * time.Millisecond) // the statement is running on the replicas by now (each row sleeps 0.2 s)
	if err := f.cluster.Shards[0].Replicas[0].Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("fan-out read failed after its replica died: %v", r.err)
		}
		if got := fmtRows(r.rows); got != fmtRows([]string{"1", "2", "3", "4", "5", "6", "7", "8"}) {
			t.Fatalf("rows %s", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("read did not finish")
	}
}
