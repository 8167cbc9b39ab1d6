package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/topology"
)

func runCLI(t *testing.T, args ...string) (code int, out, errOut string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestCheckExample(t *testing.T) {
	code, out, errOut := runCLI(t, "check", "../../config.example.yaml")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "ok: 2 database(s), 4 shard(s), 8 server(s)") {
		t.Errorf("summary: %q", out)
	}
}

func TestCheckInvalid(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/topology/invalid/*.yaml")
	if len(files) < 12 {
		t.Fatalf("only %d invalid files", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, out, _ := runCLI(t, "check", f)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			wants := wantLines(t, f)
			for _, w := range wants {
				if !strings.Contains(out, f+w+"\n") && !strings.Contains(out, f+w) {
					t.Errorf("output lacks %q:\n%s", f+w, out)
				}
			}
			if !strings.Contains(out, fmt.Sprintf("%s: %d problem(s)", f, len(wants))) {
				t.Errorf("problem count is not %d:\n%s", len(wants), out)
			}
		})
	}
}

func wantLines(t *testing.T, path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wants []string
	for _, line := range strings.Split(string(data), "\n") {
		if w, ok := strings.CutPrefix(line, "# want: "); ok {
			wants = append(wants, w)
		}
	}
	return wants
}

func TestCheckMixedFiles(t *testing.T) {
	code, out, _ := runCLI(t, "check", "../../config.example.yaml", "../../testdata/topology/invalid/gap.yaml")
	if code != 1 || !strings.Contains(out, "config.example.yaml: ok") || !strings.Contains(out, "gap.yaml:11:") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if code, _, _ := runCLI(t, "check", "/nonexistent/topology.yaml"); code != 1 {
		t.Errorf("missing file: exit %d, want 1", code)
	}
}

// locate must agree with every pinned hash vector.
func TestLocateAgreesWithHashVectors(t *testing.T) {
	vectors, err := topology.ReadHashVectors("../../testdata/hash_vectors.tsv")
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]string{"int": "ints", "string": "strings", "uuid": "uuids"}
	for _, v := range vectors {
		code, out, errOut := runCLI(t, "locate", "-config", "../../testdata/topology/valid/four-shards.yaml", "ref", tables[v.Type], v.Value)
		if code != 0 {
			t.Errorf("%s %q: exit %d: %s", v.Type, v.Value, code, errOut)
			continue
		}
		if want := fmt.Sprintf("keyspace_id: %016x\n", v.ID); !strings.Contains(out, want) {
			t.Errorf("%s %q: output lacks %q:\n%s", v.Type, v.Value, want, out)
		}
		if want := fmt.Sprintf("shard:       %s\n", v.Shard); !strings.Contains(out, want) {
			t.Errorf("%s %q: output lacks %q:\n%s", v.Type, v.Value, want, out)
		}
	}
}

func TestLocateOtherTables(t *testing.T) {
	cfg := "../../testdata/topology/valid/four-shards.yaml"
	code, out, _ := runCLI(t, "locate", "-config", cfg, "ref", "lookups", "1")
	if code != 0 || strings.Count(out, "shard:") != 4 || !strings.Contains(out, "reference") {
		t.Errorf("reference table: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "locate", "-config", cfg, "ref", "unlisted", "1")
	if code != 0 || !strings.Contains(out, "shard:       -40\n") {
		t.Errorf("unlisted table: exit %d\n%s", code, out)
	}
	if code, _, errOut := runCLI(t, "locate", "-config", cfg, "ref", "ints", "abc"); code != 1 || !strings.Contains(errOut, "not a 64-bit integer") {
		t.Errorf("bad int: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "locate", "-config", cfg, "nope", "ints", "1"); code != 1 || !strings.Contains(errOut, `no database "nope"`) {
		t.Errorf("unknown database: exit %d %s", code, errOut)
	}
	if code, _, _ := runCLI(t, "locate", "-config", cfg, "ref"); code != 2 {
		t.Errorf("missing args: exit %d, want 2", code)
	}
}

func TestUnknownCommand(t *testing.T) {
	if code, _, errOut := runCLI(t, "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("exit %d %s", code, errOut)
	}
}

func TestRoute(t *testing.T) {
	cfg := "../../testdata/routing/topology.yaml"
	code, out, errOut := runCLI(t, "route", "-config", cfg, "-db", "shop", "-protocol", "postgres", "SELECT * FROM users WHERE id = $1", "")
	if code != 2 {
		t.Errorf("two SQL arguments: exit %d, want 2 (%s)", code, errOut)
	}
	code, out, errOut = runCLI(t, "route", "-config", cfg, "-db", "shop", "-protocol", "postgres", "-param", "1", "SELECT * FROM users WHERE id = $1")
	if code != 0 || !strings.Contains(out, "target: 80-c0 replica") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "route", "-config", cfg, "-db", "shop", "-protocol", "mysql", "-json", "INSERT INTO users (id) VALUES (1), (2)")
	if code != 0 || !strings.Contains(out, `"route": "scatter"`) || !strings.Contains(out, `"sql": "INSERT INTO users (id) VALUES (2)"`) {
		t.Errorf("json: exit %d\n%s", code, out)
	}
	code, _, errOut = runCLI(t, "route", "-config", cfg, "-db", "shop", "SELECT 1")
	if code != 1 || !strings.Contains(errOut, "give -protocol") {
		t.Errorf("ambiguous database: exit %d %s", code, errOut)
	}
	code, _, errOut = runCLI(t, "route", "-config", cfg, "-db", "shop", "-protocol", "postgres", "-tx", "-pinned", "-40", "SELECT * FROM users WHERE id = 1")
	if code != 1 || !strings.Contains(errOut, "transaction is on shard -40") {
		t.Errorf("pinned transaction: exit %d %s", code, errOut)
	}
}
