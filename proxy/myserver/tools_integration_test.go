package myserver

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/localcluster"
)

// lookTool finds a command-line tool; without it the test is skipped,
// or fails under CI (scripts/deps.sh installs it).
func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed (scripts/deps.sh installs it)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// cliScript exercises DDL, inserts (single and multi-row, split over the
// shards, with and without a column list), point and scatter selects with
// merges. Every multi-row result
// is ordered, so one server and two shards must print the same.
const cliScript = `
CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(32), qty INT, price DECIMAL(8,2));
INSERT INTO items VALUES (1, 'apple', 10, 0.50);
INSERT INTO items VALUES (2, 'Banana', 5, 0.25), (3, 'cherry', 100, 0.05), (4, 'date', 7, 1.10), (5, 'Elder', 0, 3.00);
INSERT INTO items (id, name, qty, price) VALUES (6, 'fig', 12, 0.75), (7, 'grape', 60, 0.02), (8, 'apple', 3, 0.55);
SELECT * FROM items WHERE id = 3;
SELECT name, qty FROM items WHERE id IN (1, 2, 7) ORDER BY id;
SELECT * FROM items ORDER BY id;
SELECT name FROM items ORDER BY name, id;
SELECT COUNT(*), SUM(qty), MIN(price), MAX(name), AVG(qty) FROM items;
SELECT COALESCE(SUM(price), 0), IFNULL(MAX(qty), -1), COALESCE(AVG(price), 0), COALESCE(MIN(name), 'none') FROM items;
SELECT COALESCE(SUM(price), 0), IFNULL(MAX(qty), -1), COALESCE(AVG(price), 0), COALESCE(MIN(name), 'none') FROM items WHERE qty > 1000;
SELECT name, COALESCE(MAX(CASE WHEN qty > 6 THEN price END), 99) AS best FROM items GROUP BY name ORDER BY name;
SELECT name, COUNT(*), SUM(qty) FROM items GROUP BY name ORDER BY name;
SELECT name, COUNT(*) AS n FROM items GROUP BY name HAVING n > 1 ORDER BY name;
SELECT name, SUM(qty) FROM items GROUP BY name HAVING AVG(price) < 0.6 AND COUNT(*) >= 1 ORDER BY name;
SELECT DISTINCT name FROM items ORDER BY name DESC LIMIT 3;
SELECT id, qty * price AS total FROM items ORDER BY total DESC, id LIMIT 2 OFFSET 1;
UPDATE items SET qty = qty + 1 WHERE price < 1;
SELECT id, qty FROM items ORDER BY id;
DELETE FROM items WHERE qty > 50;
SELECT COUNT(*) FROM items;
DROP TABLE items;
`

// TestMariaDBClient runs the mariadb command-line client through the proxy
// and against one plain server: the outputs must be equal.
func TestMariaDBClient(t *testing.T) {
	cli := lookTool(t, "mariadb")
	f := startFixture(t, 0, func(c *topology.Config) {
		c.Databases[0].Tables["items"] = topology.TableRule{Key: "id", Type: "int"}
	})
	single := localcluster.StartForTest(t, localcluster.KindMySQL, localcluster.Options{Shards: 1, ReplicasPerShard: localcluster.NoReplicas, Database: "shop"})
	run := func(host, port, user, password string) string {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, cli, "--no-defaults", "-h", host, "-P", port, "-u", user, "-p"+password,
			"--protocol=tcp", "--skip-ssl", "--table", "shop")
		cmd.Stdin = strings.NewReader(cliScript)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("mariadb client against %s:%s: %v\n%s", host, port, err, out)
		}
		return string(out)
	}
	host, port, _ := strings.Cut(f.addr, ":")
	viaProxy := run(host, port, "app", "app-secret")
	h, p, _ := strings.Cut(single.Shards[0].Primary.Addr, ":")
	direct := run(h, p, single.Options.User, single.Options.Password)
	if viaProxy != direct {
		t.Fatalf("output through shardgate differs from one server:\n--- shardgate\n%s\n--- server\n%s", viaProxy, direct)
	}
	if !strings.Contains(viaProxy, "cherry") || strings.Count(viaProxy, "\n") < 40 {
		t.Fatalf("suspiciously short output:\n%s", viaProxy)
	}
}

var sysbenchErrors = regexp.MustCompile(`errors:\s+(\d+)`)

// TestSysbench prepares the sysbench tables through the proxy (sharded by
// id) and runs oltp_point_select with prepared statements on and off and
// oltp_read_only, asserting zero errors and that queries ran.
func TestSysbench(t *testing.T) {
	bin := lookTool(t, "sysbench")
	f := startFixture(t, 1, func(c *topology.Config) {
		c.Databases[0].Tables["sbtest1"] = topology.TableRule{Key: "id", Type: "int"}
	})
	host, port, _ := strings.Cut(f.addr, ":")
	common := []string{"--db-driver=mysql", "--mysql-host=" + host, "--mysql-port=" + port, "--mysql-user=app",
		"--mysql-password=app-secret", "--mysql-db=shop", "--tables=1", "--table-size=2000", "--auto_inc=off", "--mysql-ssl=off"}
	run := func(args ...string) string {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, append(args, common...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("sysbench %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("oltp_point_select", "prepare")
	// The rows are on their shards: together all 2000, each shard some.
	var total int64
	for s := range f.cluster.Shards {
		n := queryInt(t, f.shardDB(t, s), "SELECT COUNT(*) FROM sbtest1")
		if n == 0 {
			t.Fatalf("shard %d has no rows", s)
		}
		total += n
	}
	if total != 2000 {
		t.Fatalf("%d rows on the shards, want 2000", total)
	}
	for _, args := range [][]string{
		{"oltp_point_select", "run", "--time=10", "--threads=4"},
		{"oltp_point_select", "run", "--time=5", "--threads=4", "--db-ps-mode=disable"},
		{"oltp_read_only", "run", "--time=5", "--threads=4", "--skip_trx=on"},
	} {
		out := run(args...)
		m := sysbenchErrors.FindStringSubmatch(out)
		if m == nil || m[1] != "0" {
			t.Fatalf("sysbench %v: errors reported:\n%s", args, out)
		}
		if !regexp.MustCompile(`queries:\s+[1-9]\d*`).MatchString(out) {
			t.Fatalf("sysbench %v ran no queries:\n%s", args, out)
		}
	}
}
