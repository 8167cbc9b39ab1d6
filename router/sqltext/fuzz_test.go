package sqltext

import (
	"errors"
	"strings"
	"testing"
)

// seeds returns every statement the other tests use.
func seeds() []string {
	var out []string
	for _, c := range postgresCases() {
		out = append(out, c.sql)
	}
	for _, c := range mysqlCases() {
		out = append(out, c.sql)
	}
	for _, c := range splitCases() {
		out = append(out, c.sql)
	}
	for _, q := range benchQueries() {
		out = append(out, q.sql)
	}
	return append(out, "SELECT 'abc", "SELECT /*", "SELECT $a$", "/*!50000 x", "SELECT $0", "x'", "E'\\", "U&'\\D83D\\DE00'")
}

func dialectOf(b byte) Dialect {
	if b&1 == 1 {
		return MySQL
	}
	return Postgres
}

func FuzzNormalize(f *testing.F) {
	for _, s := range seeds() {
		f.Add(byte(0), s)
		f.Add(byte(1), s)
	}
	f.Fuzz(func(t *testing.T, db byte, sql string) {
		d := dialectOf(db)
		toks, terr := Tokens(d, sql)
		n, err := Normalize(d, sql)
		if terr != nil {
			// Normalize may stop earlier, at a bad $n.
			if !errors.Is(terr, ErrUnterminated) || err == nil {
				t.Fatalf("Tokens error %v, Normalize error %v", terr, err)
			}
			return
		}
		checkCover(t, d, sql, toks)
		if err != nil {
			if !errors.Is(err, ErrParamNumber) {
				t.Fatalf("Normalize: %v (Tokens succeeded)", err)
			}
			return
		}
		if back := Denormalize(d, n.Text, n.Slots, nil); back != sql {
			t.Fatalf("round trip:\n  in %q\nnorm %q\n out %q", sql, n.Text, back)
		}
		checkPlaceholders(t, d, n)

		// Normalizing again changes nothing: every literal left is one
		// that must stay.
		again, err := Normalize(d, n.Text)
		if err != nil || again.Text != n.Text {
			t.Fatalf("not idempotent:\n  in %q\nnorm %q\n2nd  %q (%v)", sql, n.Text, again.Text, err)
		}

		// Other values of the same literals give the same shape.
		alt := make([]Slot, len(n.Slots))
		for i, s := range n.Slots {
			alt[i] = s
			if s.Param == 0 {
				alt[i].Raw = otherValue(s)
			}
		}
		other := Denormalize(d, n.Text, alt, nil)
		m, err := Normalize(d, other)
		if err != nil || m.Text != n.Text {
			t.Fatalf("shape depends on values:\n  in %q\nnorm %q\n alt %q\nnorm %q (%v)", sql, n.Text, other, m.Text, err)
		}
	})
}

// otherValue is another literal of the same lexical shape: a number with
// every digit 1, a string "1" with the same prefix and quotes.
func otherValue(s Slot) string {
	if s.Lit.String {
		raw := s.Raw
		if raw[0] == '$' {
			tag := raw[:strings.IndexByte(raw[1:], '$')+2]
			return tag + "1" + tag
		}
		q := strings.IndexAny(raw, `'"`)
		return raw[:q+1] + "1" + raw[q:q+1]
	}
	b := []byte(s.Raw)
	i := 0
	if b[0] == '-' {
		i++
	}
	if i+1 < len(b) && b[i] == '0' && isLetter(b[i+1]) { // 0x1F keeps its 0x
		i += 2
	}
	for ; i < len(b); i++ {
		if isDigit(b[i]) {
			b[i] = '1'
		}
	}
	return string(b)
}

// checkPlaceholders checks that the normalized text has one placeholder
// per literal slot, numbered as the slots say.
func checkPlaceholders(t *testing.T, d Dialect, n Normalized) {
	t.Helper()
	toks, err := Tokens(d, n.Text)
	if err != nil {
		t.Fatalf("normalized text %q does not lex: %v", n.Text, err)
	}
	seen := make([]int, len(n.Slots))
	q := 0
	for _, tk := range toks {
		if tk.Kind != TokParam {
			continue
		}
		i := q
		if d == Postgres {
			p, ok := pgParam(n.Text[tk.Start+1 : tk.End])
			if !ok {
				t.Fatalf("bad placeholder %q in %q", tk.Text(n.Text), n.Text)
			}
			i = p - 1
		}
		q++
		if i >= len(seen) {
			t.Fatalf("placeholder %q in %q has no slot (%d slots)", tk.Text(n.Text), n.Text, len(n.Slots))
		}
		seen[i]++
	}
	for i, s := range n.Slots {
		if s.Param == 0 && seen[i] != 1 {
			t.Fatalf("literal slot %d appears %d times in %q", i+1, seen[i], n.Text)
		}
	}
	if d == MySQL && q != len(n.Slots) {
		t.Fatalf("%d ? for %d slots in %q", q, len(n.Slots), n.Text)
	}
}

func FuzzSplit(f *testing.F) {
	for _, s := range seeds() {
		f.Add(byte(0), s)
		f.Add(byte(1), s)
	}
	f.Fuzz(func(t *testing.T, db byte, sql string) {
		d := dialectOf(db)
		pieces, err := Split(d, sql)
		_, terr := Tokens(d, sql)
		if (err == nil) != (terr == nil) {
			t.Fatalf("Split error %v, Tokens error %v", err, terr)
		}
		if err != nil {
			return
		}
		rest := sql
		for _, p := range pieces {
			k := strings.Index(rest, p)
			if p == "" || k < 0 {
				t.Fatalf("piece %q is not in order in %q", p, sql)
			}
			rest = rest[k+len(p):]
			// Trimmed: no space token at either end (a line comment may
			// end in spaces: "-- " must stay a comment in MySQL).
			if toks, _ := Tokens(d, p); toks[0].Kind == TokSpace || toks[len(toks)-1].Kind == TokSpace {
				t.Fatalf("piece %q is not trimmed", p)
			}
			if d == MySQL && strings.HasSuffix(p, "--") {
				continue // "--;" is two minus signs, but "--" at the end is a comment
			}
			again, err := Split(d, p)
			if err != nil || len(again) != 1 || again[0] != p {
				t.Fatalf("piece %q splits again into %q (%v)", p, again, err)
			}
		}
	})
}
