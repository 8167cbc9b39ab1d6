package pgserver

import (
	"testing"
)

// ORMs upsert by assigning every column its proposed value, the key
// included (Sequelize: SET "id"=EXCLUDED."id", ...). That keeps the row
// on the shard the insert was routed to, so it runs there; an upsert that
// gives the key another value is refused.
func TestProxyUpsertAssigningTheKey(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	conn := f.connect(t)
	const upsert = `INSERT INTO "users" ("id","name") VALUES ($1,$2) ON CONFLICT ("id") DO UPDATE SET "id"=EXCLUDED."id","name"=EXCLUDED."name" RETURNING "id"`
	for k := int64(1); k <= 6; k++ {
		for _, name := range []string{"first", "second"} {
			var id int64
			if err := conn.QueryRow(ctx, upsert, k, name).Scan(&id); err != nil || id != k {
				t.Fatalf("upsert of %d (%s): %d, %v", k, name, id, err)
			}
		}
		var name string
		if err := f.direct(t, f.shardOf(k)).QueryRow(ctx, "SELECT name FROM users WHERE id = $1", k).Scan(&name); err != nil || name != "second" {
			t.Errorf("row %d on its shard %d: %q, %v", k, f.shardOf(k), name, err)
		}
	}
	_, err := conn.Exec(ctx, `INSERT INTO users (id, name) VALUES ($1, 'x') ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id + 1`, 1)
	if pgCode(err) != "0A000" {
		t.Errorf("upsert moving the key: %v; want 0A000", err)
	}
}
