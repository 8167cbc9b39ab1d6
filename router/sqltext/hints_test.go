package sqltext

import "testing"

func TestHints(t *testing.T) {
	for _, c := range []struct {
		d    Dialect
		sql  string
		want Hints
	}{
		{Postgres, "/* shard=80- */ SELECT 1", Hints{Shard: "80-"}},
		{Postgres, "SELECT /* key=42 */ * FROM t", Hints{Key: "42"}},
		{Postgres, "SELECT 1 /* role=primary */", Hints{Role: "primary"}},
		{Postgres, "/* shard=-80, role=replica key=7 */ SELECT 1", Hints{Shard: "-80", Key: "7", Role: "replica"}},
		{Postgres, "/*+ KEY = 'a b', Role=\"any\" */ SELECT 1", Hints{Key: "a b", Role: "any"}},
		{Postgres, "/*key=5*/SELECT 1", Hints{Key: "5"}},
		{Postgres, "/* app=web, controller=users, SHARD=c0- */ SELECT 1", Hints{Shard: "c0-"}},
		{Postgres, "/* key=1 */ SELECT /* key=2 role=primary */ 1", Hints{Key: "1", Role: "primary"}},
		{Postgres, "/* key= */ SELECT 1", Hints{}},
		{Postgres, "/* = key =  , =x */ SELECT 1", Hints{}},
		{Postgres, "/* nested /* key=9 */ still */ SELECT 1", Hints{Key: "9"}},
		{Postgres, "-- key=1\nSELECT 1", Hints{}},
		{Postgres, "SELECT '/* key=1 */', \"/* key=2 */\", $$/* key=3 */$$", Hints{}},
		{Postgres, "SET x = 1 /* shard=80- */", Hints{Shard: "80-"}},
		{Postgres, "/* key='unterminated */ SELECT 1", Hints{Key: "unterminated "}},
		{MySQL, "SELECT /*+ MAX_EXECUTION_TIME(1000) key=7 */ * FROM t", Hints{Key: "7"}},
		{MySQL, "SELECT /*+ SET_VAR(sort_buffer_size=16M) */ 1", Hints{}},
		{MySQL, "/*!50000 SELECT 1 */ /* shard=40-80 */", Hints{Shard: "40-80"}},
		{MySQL, "SELECT /*!50000 /* role=primary */ 1 */", Hints{Role: "primary"}},
		{MySQL, "# key=1\nSELECT 1", Hints{}},
		{MySQL, "SELECT 'a' /* key=3 */ 'b'", Hints{Key: "3"}},
	} {
		n, err := Normalize(c.d, c.sql)
		if err != nil {
			t.Errorf("%s: Normalize(%q): %v", c.d, c.sql, err)
			continue
		}
		if n.Hints != c.want {
			t.Errorf("%s: hints of %q = %+v, want %+v", c.d, c.sql, n.Hints, c.want)
		}
	}
}
