package topology

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// vectorInputs are the (type, value) pairs pinned in hash_vectors.tsv.
var vectorInputs = []struct{ typ, value string }{
	{"int", "0"}, {"int", "1"}, {"int", "-1"}, {"int", "7"}, {"int", "42"}, {"int", "-42"},
	{"int", "100"}, {"int", "1000"}, {"int", "99999"}, {"int", "123456789"},
	{"int", "2147483647"}, {"int", "4294967296"},
	{"int", "9223372036854775807"}, {"int", "-9223372036854775808"},
	{"string", ""}, {"string", "a"}, {"string", "alice"}, {"string", "Alice"}, {"string", "bob"},
	{"string", "42"}, {"string", " padded "}, {"string", "héllo"}, {"string", "日本語"},
	{"string", "emoji 🎉"}, {"string", "ÄÖÜß"}, {"string", "user@example.com"},
	{"uuid", "00000000-0000-0000-0000-000000000000"},
	{"uuid", "ffffffff-ffff-ffff-ffff-ffffffffffff"},
	{"uuid", "550e8400-e29b-41d4-a716-446655440000"},
	{"uuid", "550E8400-E29B-41D4-A716-446655440000"},
	{"uuid", "{550e8400-e29b-41d4-a716-446655440000}"},
	{"uuid", "550e8400e29b41d4a716446655440000"},
	{"uuid", "123e4567-e89b-12d3-a456-426614174000"},
	{"uuid", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"},
}

const vectorsFile = "../testdata/hash_vectors.tsv"

func referenceDB(t *testing.T) *DB {
	t.Helper()
	snap, err := Load("../testdata/topology/valid/four-shards.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, ok := snap.Database(Postgres, "ref")
	if !ok {
		t.Fatal("reference topology has no database ref")
	}
	return d
}

func TestHashVectors(t *testing.T) {
	d := referenceDB(t)
	if *update {
		var b strings.Builder
		b.WriteString("# Pinned placements: type, value (Go-quoted), keyspace id (hex), shard in\n")
		b.WriteString("# testdata/topology/valid/four-shards.yaml. Never edit to make a test pass:\n")
		b.WriteString("# a change here moves rows between shards.\n")
		for _, in := range vectorInputs {
			kt, _ := ParseKeyType(in.typ)
			id, err := kt.TextKeyspaceID(in.value)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s\t%s\t%016x\t%s\n", in.typ, strconv.Quote(in.value), id, d.ShardFor(id).Name)
		}
		if err := os.WriteFile(vectorsFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	vectors, err := ReadHashVectors(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(vectors) < 30 {
		t.Fatalf("only %d vectors; want at least 30", len(vectors))
	}
	shardsSeen := map[string]bool{}
	for _, v := range vectors {
		kt, err := ParseKeyType(v.Type)
		if err != nil {
			t.Fatal(err)
		}
		id, err := kt.TextKeyspaceID(v.Value)
		if err != nil {
			t.Fatalf("%s %q: %v", v.Type, v.Value, err)
		}
		if id != v.ID {
			t.Errorf("%s %q: keyspace id %016x, pinned %016x", v.Type, v.Value, id, v.ID)
		}
		if got := d.ShardFor(id).Name; got != v.Shard {
			t.Errorf("%s %q: shard %s, pinned %s", v.Type, v.Value, got, v.Shard)
		}
		shardsSeen[v.Shard] = true
	}
	if len(shardsSeen) != 4 {
		t.Errorf("vectors land on %d shards; want all 4 covered", len(shardsSeen))
	}
}

// The hash must be XXH64 with seed 0, whatever library computes it.
func TestKeyspaceIDIsXXH64(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
	}{
		{"", 0xef46db3751d8e999},
		{"a", 0xd24ec4f1a98c6e5b},
		{"abc", 0x44bc2cf5ad770999},
	} {
		if got := KeyspaceID([]byte(c.in)); got != c.want {
			t.Errorf("KeyspaceID(%q) = %016x, want %016x", c.in, got, c.want)
		}
	}
}

// One value written in different ways must hash alike (DESIGN.md).
func TestEquivalentForms(t *testing.T) {
	cases := []struct {
		typ   KeyType
		forms []string
	}{
		{KeyInt, []string{"42", " 42", "42 ", "+42", "042"}},
		{KeyInt, []string{"-7", " -7 "}},
		{KeyUUID, []string{
			"550e8400-e29b-41d4-a716-446655440000", "550E8400-E29B-41D4-A716-446655440000",
			"{550e8400-e29b-41d4-a716-446655440000}", "550e8400e29b41d4a716446655440000",
		}},
	}
	for _, c := range cases {
		first, err := c.typ.TextKeyspaceID(c.forms[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range c.forms[1:] {
			got, err := c.typ.TextKeyspaceID(f)
			if err != nil {
				t.Errorf("%v %q: %v", c.typ, f, err)
			} else if got != first {
				t.Errorf("%v %q hashes to %016x, %q to %016x", c.typ, f, got, c.forms[0], first)
			}
		}
	}
	if IntKeyspaceID(42) != must(KeyInt.TextKeyspaceID("42")) {
		t.Error("IntKeyspaceID(42) differs from the text form")
	}
	if StringKeyspaceID(" 42") == must(KeyString.TextKeyspaceID("42")) {
		t.Error("string keys must not be trimmed")
	}
}

func must(v uint64, err error) uint64 {
	if err != nil {
		panic(err)
	}
	return v
}

func TestBadKeys(t *testing.T) {
	for _, c := range []struct {
		typ   KeyType
		value string
	}{
		{KeyInt, ""}, {KeyInt, "4x"}, {KeyInt, "1.5"}, {KeyInt, "9223372036854775808"}, {KeyInt, "0x10"},
		{KeyUUID, ""}, {KeyUUID, "550e8400-e29b-41d4-a716-44665544000"}, {KeyUUID, "550e8400-e29b-41d4-a716-44665544000g"},
		{KeyUUID, "550e8400+e29b-41d4-a716-446655440000"}, {KeyUUID, "{550e8400e29b41d4a716446655440000"},
	} {
		if _, err := c.typ.TextKeyspaceID(c.value); err == nil {
			t.Errorf("%v %q: accepted; want an error", c.typ, c.value)
		}
	}
}

func TestVectorsFileIsThere(t *testing.T) {
	if _, err := os.Stat(filepath.Clean(vectorsFile)); err != nil {
		t.Fatal(err)
	}
}
