package console

import (
	"errors"
	"testing"

	"github.com/shardgate/shardgate/topology"
)

// Whatever an admin types after SHOW SHARDGATE, the console answers a
// table whose rows match its columns or a clear error; it never panics.
func FuzzRun(f *testing.F) {
	for _, seed := range []string{
		"SHOW SHARDGATE SHARDS", "show shardgate locate users 42;", "SHOW SHARDGATE LOCATE carts 'it''s'",
		"SHOW SHARDGATE LOCATE `users` \"7\"", "SHOW SHARDGATE LOCATE x '", "SHOW SHARDGATE ;;;", "SHOW\tSHARDGATE\nPOOLS",
	} {
		f.Add(seed)
	}
	snap, src := fixture(f)
	db, _ := snap.Database(topology.Postgres, "shop")
	f.Fuzz(func(t *testing.T, sql string) {
		r, err := Run(sql, db, src)
		if err != nil {
			if !errors.Is(err, ErrUnknown) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("%q: an error of no kind: %v", sql, err)
			}
			return
		}
		if !IsCommand(sql) {
			t.Fatalf("%q is not a SHOW SHARDGATE statement but was answered", sql)
		}
		for _, row := range r.Rows {
			if len(row) != len(r.Columns) {
				t.Fatalf("%q: row %q for columns %q", sql, row, r.Columns)
			}
		}
	})
}
