package sqltext

import (
	"strings"
	"testing"
)

// benchQueries are the shapes the router sees most: a point select, a
// small multi-row INSERT, and a ~1 KB reporting query.
func benchQueries() []struct {
	name string
	d    Dialect
	sql  string
} {
	return []struct {
		name string
		d    Dialect
		sql  string
	}{
		{"point_select/pg", Postgres, "SELECT id, name FROM users WHERE id = 42"},
		{"point_select/mysql", MySQL, "SELECT id, name FROM users WHERE id = 42"},
		{"point_select_param/pg", Postgres, "SELECT id, name FROM users WHERE id = $1"},
		{"insert_3rows/pg", Postgres, "INSERT INTO orders (id, user_id, note, total) VALUES (1, 42, 'first', 9.99), (2, 42, 'second', 19.5), (3, 7, 'it''s', -3)"},
		{"insert_3rows/mysql", MySQL, "INSERT INTO orders (id, user_id, note, total) VALUES (1, 42, 'first', 9.99), (2, 42, 'second', 19.5), (3, 7, 'it\\'s', -3)"},
		{"query_1KB/pg", Postgres, query1KB},
		{"query_1KB/mysql", MySQL, strings.ReplaceAll(query1KB, "::int", "")},
	}
}

const query1KB = `/* app=billing key=42 */
WITH recent AS (
    SELECT o.id, o.user_id, o.total, o.created_at
    FROM orders o
    WHERE o.created_at > '2024-01-01' AND o.status IN ('paid', 'shipped', 'delivered')
      AND o.total BETWEEN 10.5 AND 5000
)
SELECT u.id, u.name, u.email, count(r.id) AS n, sum(r.total) AS total,
       max(r.created_at) AS last_order,
       CASE WHEN sum(r.total) > 1000 THEN 'gold' WHEN sum(r.total) > 100 THEN 'silver' ELSE 'bronze' END AS tier
FROM users u
JOIN recent r ON r.user_id = u.id
LEFT JOIN addresses a ON a.user_id = u.id AND a.kind = 'billing'
WHERE u.id IN (1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987)
  AND u.deleted_at IS NULL
  AND u.country = 'DE'
  AND coalesce(u.flags, 0) & 4 = 0
  AND u.name NOT LIKE 'test%'
  AND u.score >= -1.5e3
  AND '42'::int = 42
GROUP BY u.id, u.name, u.email
HAVING count(r.id) >= 3
ORDER BY 5 DESC, 1
LIMIT 50 OFFSET 100`

func BenchmarkNormalize(b *testing.B) {
	for _, q := range benchQueries() {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(q.sql)))
			for b.Loop() {
				if _, err := Normalize(q.d, q.sql); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTokens(b *testing.B) {
	for _, q := range benchQueries() {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(q.sql)))
			for b.Loop() {
				if _, err := Tokens(q.d, q.sql); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDenormalize(b *testing.B) {
	for _, q := range benchQueries() {
		n, err := Normalize(q.d, q.sql)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Denormalize(q.d, n.Text, n.Slots, nil)
			}
		})
	}
}

func BenchmarkSplit(b *testing.B) {
	sql := strings.Repeat("INSERT INTO t VALUES (1, 'a;b'); ", 10) + query1KB
	b.ReportAllocs()
	b.SetBytes(int64(len(sql)))
	for b.Loop() {
		if _, err := Split(Postgres, sql); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReference times strings.Fields on the point select: a yardstick
// for reading the numbers above on a slow or busy machine (on a typical
// 3 GHz core it takes ~100 ns).
func BenchmarkReference(b *testing.B) {
	q := benchQueries()[0].sql
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n += len(strings.Fields(q))
	}
	if n == 0 {
		b.Fatal("no fields")
	}
}

// TestNormalizeAllocs pins the allocation budget of the hot path: the
// text and the slots, nothing else.
func TestNormalizeAllocs(t *testing.T) {
	for _, c := range []struct {
		d    Dialect
		sql  string
		want float64
	}{
		{Postgres, "SELECT id, name FROM users WHERE id = 42", 2},
		{MySQL, "SELECT id, name FROM users WHERE id = 42", 2},
		{Postgres, "SELECT id, name FROM users WHERE id = $1", 1},
		{MySQL, "SELECT * FROM t", 0},
		{Postgres, "INSERT INTO t (a, b, c) VALUES (1, 'x', -2.5), (2, 'y', 3), (3, 'z', 4)", 2},
	} {
		got := testing.AllocsPerRun(100, func() {
			if _, err := Normalize(c.d, c.sql); err != nil {
				t.Fatal(err)
			}
		})
		if got > c.want {
			t.Errorf("%s: Normalize(%q) allocates %v times, want <= %v", c.d, c.sql, got, c.want)
		}
	}
}
