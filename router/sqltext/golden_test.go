package sqltext

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestGolden normalizes the statements of testdata/<dialect>.sql (a corpus
// of what applications and tools send, separated by "----" lines) and
// compares everything Normalize returns with testdata/<dialect>.golden.
func TestGolden(t *testing.T) {
	for _, d := range []Dialect{Postgres, MySQL} {
		in := filepath.Join("testdata", d.String()+".sql")
		golden := filepath.Join("testdata", d.String()+".golden")
		src, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		for _, stmt := range strings.Split(string(src), "\n----\n") {
			stmt = strings.TrimSpace(stmt)
			n, err := Normalize(d, stmt)
			fmt.Fprintf(&out, "==== %s\n", stmt)
			if err != nil {
				fmt.Fprintf(&out, "error: %v\n\n", err)
				continue
			}
			if back := Denormalize(d, n.Text, n.Slots, nil); back != stmt {
				t.Errorf("%s: round trip of %q gave %q", d, stmt, back)
			}
			fmt.Fprintf(&out, "normalized: %v\n", n.Normalized)
			if n.Text != stmt {
				fmt.Fprintf(&out, "text: %s\n", n.Text)
			}
			for i, s := range n.Slots {
				switch {
				case s.Param > 0:
					fmt.Fprintf(&out, "slot %d: param %d %q\n", i+1, s.Param, s.Raw)
				case s.Lit.String:
					fmt.Fprintf(&out, "slot %d: string %q %q\n", i+1, s.Lit.Text, s.Raw)
				default:
					fmt.Fprintf(&out, "slot %d: number %q %q\n", i+1, s.Lit.Text, s.Raw)
				}
			}
			if n.Hints != (Hints{}) {
				fmt.Fprintf(&out, "hints: %+v\n", n.Hints)
			}
			pieces, err := Split(d, stmt)
			if err != nil || len(pieces) != 1 {
				fmt.Fprintf(&out, "split: %q %v\n", pieces, err)
			}
			out.WriteString("\n")
		}
		if *update {
			if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if got := out.String(); got != string(want) {
			t.Errorf("%s differs from %s; run with -update and review the diff:\n%s", in, golden, firstDiff(got, string(want)))
		}
	}
}

// firstDiff shows the first differing line.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, a, b)
		}
	}
	return ""
}
