package mysqlwire

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topology/localcluster"
)

// Tests against a real MariaDB server from the harness share one
// single-node cluster.
func TestMariaDB(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts a real MariaDB server")
	}
	c := localcluster.StartForTest(t, localcluster.KindMySQL, localcluster.Options{Shards: 1, ReplicasPerShard: localcluster.NoReplicas})
	o := c.Options
	cfg := BackendConfig{Addr: c.Shards[0].Primary.Addr, User: o.User, Password: o.Password, Database: o.Database, DialTimeout: 5 * time.Second}
	dial := func(t *testing.T, cfg BackendConfig) *Backend {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		b, err := DialBackend(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}
	t.Run("login", func(t *testing.T) { testBackendLogin(t, cfg, dial) })
	t.Run("refusals", func(t *testing.T) { testBackendRefusals(t, cfg) })
	t.Run("collation", func(t *testing.T) { testBackendCollation(t, cfg, dial) })
	t.Run("query", func(t *testing.T) { testBackendQuery(t, dial(t, cfg)) })
	t.Run("binary protocol", func(t *testing.T) { testBinaryProtocol(t, dial(t, cfg)) })
	t.Run("sysbench executes", func(t *testing.T) { testSysbenchExecutes(t, c, cfg) })
}

func testBackendLogin(t *testing.T, cfg BackendConfig, dial func(*testing.T, BackendConfig) *Backend) {
	b := dial(t, cfg)
	if !strings.Contains(b.ServerVersion, "MariaDB") || b.ConnectionID == 0 || b.Status&StatusAutocommit == 0 {
		t.Fatalf("backend %+v", b)
	}
	if b.Capabilities&(ClientDeprecateEOF|ClientMultiStatements|ClientFoundRows|ClientSessionTrack) != 0 ||
		b.Capabilities&(ClientProtocol41|ClientPluginAuth|ClientTransactions|ClientMultiResults|ClientPSMultiResults) !=
			ClientProtocol41|ClientPluginAuth|ClientTransactions|ClientMultiResults|ClientPSMultiResults {
		t.Fatalf("capabilities 0x%08x", b.Capabilities)
	}
	_, rows, err := b.Query("SELECT DATABASE(), CURRENT_USER()")
	if err != nil || len(rows) != 1 || string(rows[0][0]) != cfg.Database || !strings.HasPrefix(string(rows[0][1]), cfg.User+"@") {
		t.Fatalf("rows %q, %v", rows, err)
	}
	// A cancelled context interrupts a login in progress (here: before it
	// starts) and says so.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := DialBackend(ctx, cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled login: %v", err)
	}
}

func testBackendRefusals(t *testing.T, cfg BackendConfig) {
	for _, tc := range []struct {
		name  string
		edit  func(*BackendConfig)
		code  uint16
		state string
	}{
		{"wrong password", func(c *BackendConfig) { c.Password += "-wrong" }, 1045, "28000"},
		{"unknown user", func(c *BackendConfig) { c.User = "nobody" }, 1045, "28000"},
		{"unknown database", func(c *BackendConfig) { c.Database = "nowhere" }, 1049, "42000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			tc.edit(&c)
			_, err := DialBackend(t.Context(), c)
			var e *Error
			if !errors.As(err, &e) || e.Code != tc.code || e.State != tc.state {
				t.Fatalf("err = %v, want *Error %d (%s)", err, tc.code, tc.state)
			}
		})
	}
}

func testBackendCollation(t *testing.T, cfg BackendConfig, dial func(*testing.T, BackendConfig) *Backend) {
	for _, coll := range []string{"", "utf8mb4_bin", "utf8mb4_unicode_520_ci", "latin1_swedish_ci"} {
		c := cfg
		c.Collation = coll
		want := coll
		if want == "" {
			want = DefaultCollation
		}
		b := dial(t, c)
		_, rows, err := b.Query("SELECT @@collation_connection, @@character_set_client, @@character_set_results")
		cs, _, _ := strings.Cut(want, "_")
		if err != nil || len(rows) != 1 || string(rows[0][0]) != want || string(rows[0][1]) != cs || string(rows[0][2]) != cs {
			t.Errorf("collation %q: rows %q, %v", coll, rows, err)
		}
	}
	c := cfg
	c.Collation = "utf8mb4'; DROP"
	if _, err := DialBackend(t.Context(), c); err == nil {
		t.Fatal("a collation name with quotes was accepted")
	}
}

func testBackendQuery(t *testing.T, b *Backend) {
	for _, q := range []string{
		"CREATE TABLE q (id INT PRIMARY KEY, s VARCHAR(10), n INT)",
		"INSERT INTO q VALUES (1, 'a', NULL), (2, '', 7), (3, NULL, -1)",
	} {
		if _, err := b.Simple(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	cols, rows, err := b.Query("SELECT id, s, n FROM q ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	want := [][][]byte{{[]byte("1"), []byte("a"), nil}, {[]byte("2"), {}, []byte("7")}, {[]byte("3"), nil, []byte("-1")}}
	if len(cols) != 3 || cols[0].Name != "id" || cols[0].Table != "q" || cols[1].Type != TypeVarString || !rowsEqual(rows, want) {
		t.Fatalf("cols %+v rows %q", cols, rows)
	}
	ok, err := b.Simple("UPDATE q SET n = 7 WHERE id IN (1, 2)")
	if err != nil || ok.AffectedRows != 1 || ok.Info != "Rows matched: 2  Changed: 1  Warnings: 0" {
		t.Fatalf("UPDATE: %+v, %v", ok, err)
	}
	ok, err = b.Simple("INSERT INTO q (id) VALUES (10)")
	if err != nil || ok.AffectedRows != 1 {
		t.Fatalf("INSERT: %+v, %v", ok, err)
	}
	// A result set answered to Simple is drained.
	if _, err := b.Simple("SELECT * FROM q"); err != nil {
		t.Fatal(err)
	}
	// A server error leaves the connection usable.
	_, err = b.Simple("SELECT * FROM missing_table")
	var e *Error
	if !errors.As(err, &e) || e.Code != 1146 || e.State != "42S02" {
		t.Fatalf("missing table: %v", err)
	}
	if _, err := b.Simple("BEGIN"); err != nil || b.Status&StatusInTrans == 0 {
		t.Fatalf("BEGIN: status 0x%x, %v", b.Status, err)
	}
	if _, err := b.Simple("ROLLBACK"); err != nil || b.Status&StatusInTrans != 0 {
		t.Fatalf("ROLLBACK: status 0x%x, %v", b.Status, err)
	}
	// Multiple results (a procedure): the first result set is returned,
	// the rest read, and the connection stays in step.
	if _, err := b.Simple("CREATE PROCEDURE two() BEGIN SELECT 1 AS a; SELECT 2 AS b, 3 AS c; END"); err != nil {
		t.Fatal(err)
	}
	cols, rows, err = b.Query("CALL two()")
	if err != nil || len(cols) != 1 || !rowsEqual(rows, [][][]byte{{[]byte("1")}}) {
		t.Fatalf("CALL: %+v %q %v", cols, rows, err)
	}
	if _, rows, err = b.Query("SELECT 42"); err != nil || string(rows[0][0]) != "42" {
		t.Fatalf("after CALL: %q %v", rows, err)
	}
}

func rowsEqual(a, b [][][]byte) bool {
	return slices.EqualFunc(a, b, func(x, y [][]byte) bool {
		return slices.EqualFunc(x, y, func(v, w []byte) bool { return (v == nil) == (w == nil) && bytes.Equal(v, w) })
	})
}
