package sqltext

import (
	"fmt"
	"strings"
	"testing"
)

// render shows the non-space tokens as kind:text, separated by spaces.
func render(src string, toks []Token) string {
	var parts []string
	for _, t := range toks {
		if t.Kind != TokSpace {
			parts = append(parts, t.Kind.String()+":"+t.Text(src))
		}
	}
	return strings.Join(parts, " ")
}

func TestTokens(t *testing.T) {
	for _, c := range []struct {
		d    Dialect
		sql  string
		want string
	}{
		{Postgres, "SELECT a::int, b->>'k', c||d FROM t WHERE x<>-1 AND y>=$2",
			"word:SELECT word:a op::: word:int punct:, word:b op:->> string:'k' punct:, word:c op:|| word:d word:FROM word:t word:WHERE word:x op:<> op:- number:1 word:AND word:y op:>= param:$2"},
		{Postgres, "a=-5 a<-5 a@-5 a+-5 a--5\n", "word:a op:= op:- number:5 word:a op:< op:- number:5 word:a op:@- number:5 word:a op:+ op:- number:5 word:a comment:--5"},
		{Postgres, "a*/* c */b", "word:a op:* comment:/* c */ word:b"},
		{Postgres, "E'a\\'b' e'' U&'x' u&\"y\" B'01' x'1f' N'n' $$d$$ $t$e$t$", "string:E'a\\'b' string:e'' string:U&'x' qident:u&\"y\" string:B'01' string:x'1f' string:N'n' string:$$d$$ string:$t$e$t$"},
		{Postgres, "Ex'a' U&x $ $1a $a", "word:Ex string:'a' word:U op:& word:x op:$ param:$1 word:a op:$ word:a"},
		{Postgres, "1..2 1.e5 1e 0x 0xg 1_000_ .5.5 1.2.3", "number:1 op:.. number:2 number:1.e5 number:1 word:e number:0 word:x number:0 word:xg number:1_000 word:_ number:.5 number:.5 number:1.2 number:.3"},
		{Postgres, "a[1:2] b := c => d", "word:a punct:[ number:1 op:: number:2 punct:] word:b op::= word:c op:=> word:d"},
		{Postgres, "'a'\n'b' 'c' -- x\n 'd'\n-- y\n'e' 'f'", "string:'a'\n'b' string:'c' -- x\n 'd'\n-- y\n'e' string:'f'"},
		{Postgres, "\"a\"\"b\" \"\"", "qident:\"a\"\"b\" qident:\"\""},
		{Postgres, "/* a /* b */ c */ /**/ /*/ x */", "comment:/* a /* b */ c */ comment:/**/ comment:/*/ x */"},
		{Postgres, "? # ` \\ { }", "op:? op:# op:` op:\\ op:{ op:}"},
		{MySQL, "SELECT a->'$.x', b->>'$.y', c<=>d, e:=1, f&&g, h||i, j!=k, @v, @@g.x, @'q', @`r`, @",
			"word:SELECT word:a op:-> string:'$.x' punct:, word:b op:->> string:'$.y' punct:, word:c op:<=> word:d punct:, word:e op::= number:1 punct:, word:f op:&& word:g punct:, word:h op:|| word:i punct:, word:j op:!= word:k punct:, word:@v punct:, word:@@g punct:. word:x punct:, word:@'q' punct:, word:@`r` punct:, op:@"},
		{MySQL, "1abc 0x1F 0x1G 0X1F 0b12 1e5 1e 1e+ 1.5e-3 .5 a.1", "word:1abc number:0x1F word:0x1G word:0X1F word:0b12 number:1e5 word:1e word:1e op:+ number:1.5e-3 number:.5 word:a number:.1"},
		{MySQL, "-- c\n--x #y\n/* z */ /*+ h */ /*!50000 a */ /*!b*/ /*M!100100 c */", "comment:-- c op:- op:- word:x comment:#y comment:/* z */ comment:/*+ h */ comment:/*!50000 word:a comment:*/ comment:/*! word:b comment:*/ comment:/*M!100100 word:c comment:*/"},
		{MySQL, "/*!50000 '*/' */ /*!1 x */", "comment:/*!50000 string:'*/' comment:*/ comment:/*! number:1 word:x comment:*/"},
		{MySQL, "N'a' n\"b\" X'1' b'0' _utf8mb4'c' _x\"d\" _ 'e' $a ?", "string:N'a' word:n string:\"b\" number:X'1' number:b'0' string:_utf8mb4'c' string:_x\"d\" word:_ string:'e' word:$a param:?"},
		{MySQL, "'a\\'b' \"c\"\"d\" `e``f`", "string:'a\\'b' string:\"c\"\"d\" qident:`e``f`"},
	} {
		toks, err := Tokens(c.d, c.sql)
		if err != nil {
			t.Errorf("%s: Tokens(%q): %v", c.d, c.sql, err)
			continue
		}
		if got := render(c.sql, toks); got != c.want {
			t.Errorf("%s: Tokens(%q)\n got %s\nwant %s", c.d, c.sql, got, c.want)
		}
		checkCover(t, c.d, c.sql, toks)
	}
}

// checkCover checks that tokens cover src contiguously.
func checkCover(t *testing.T, d Dialect, src string, toks []Token) {
	t.Helper()
	pos := 0
	for _, tk := range toks {
		if tk.Start != pos || tk.End <= tk.Start || tk.Depth < 0 || tk.Kind < TokWord || tk.Kind > TokSpace {
			t.Fatalf("%s: token %+v of %q does not continue at %d", d, tk, src, pos)
		}
		pos = tk.End
	}
	if pos != len(src) {
		t.Fatalf("%s: tokens of %q end at %d, not %d", d, src, pos, len(src))
	}
}

func TestTokenDepth(t *testing.T) {
	src := "f(a, (b)) ) x"
	toks, err := Tokens(Postgres, src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range toks {
		if tk.Kind != TokSpace {
			got = append(got, fmt.Sprintf("%s%d", tk.Text(src), tk.Depth))
		}
	}
	if want := "f0 (0 a1 ,1 (1 b2 )2 )1 )0 x0"; strings.Join(got, " ") != want {
		t.Errorf("depths %q, want %q", strings.Join(got, " "), want)
	}
}

func TestEqualFold(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"SELECT", "select", true}, {"sElEcT", "SeLeCt", true}, {"select", "selec", false},
		{"[", "{", false}, {"@", "`", false}, {"ß", "SS", false}, {"K", "\u212a", false}, {"", "", true},
	} {
		if got := EqualFold(c.a, c.b); got != c.want {
			t.Errorf("EqualFold(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

// TestClassTable checks the constant byte-class table against the
// definitions it encodes.
func TestClassTable(t *testing.T) {
	for i := 0; i < 256; i++ {
		c := byte(i)
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		digit := '0' <= c && c <= '9'
		want := map[byte]bool{
			clIdent:      letter || digit || c == '_' || c == '$' || c >= 0x80,
			clSpace:      strings.IndexByte(" \t\n\v\f\r", c) >= 0,
			clDigit:      digit,
			clPGOp:       c != 0 && strings.IndexByte("+-*/<>=~!@#%^&|`?", c) >= 0,
			clIdentStart: letter || c == '_' || c >= 0x80,
		}
		for bit, w := range want {
			if got := classTable[c]&bit != 0; got != w {
				t.Errorf("class %#x of byte %#x = %v, want %v", bit, c, got, w)
			}
		}
	}
}

func TestDenormalizeRenumber(t *testing.T) {
	sql := "SELECT * FROM t WHERE a = $2 AND b = 'x' AND c = $1 AND d = $2"
	n, err := Normalize(Postgres, sql)
	if err != nil {
		t.Fatal(err)
	}
	got := Denormalize(Postgres, n.Text, n.Slots, func(p int) int { return p + 10 })
	if want := "SELECT * FROM t WHERE a = $12 AND b = 'x' AND c = $11 AND d = $12"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// MySQL ? stay ?; renumber is not used.
	m, err := Normalize(MySQL, "SELECT ?, 'a', ?")
	if err != nil {
		t.Fatal(err)
	}
	if got := Denormalize(MySQL, m.Text, m.Slots, func(int) int { panic("called") }); got != "SELECT ?, 'a', ?" {
		t.Errorf("got %q", got)
	}
	// Placeholders without a slot, or in quotes, are left alone.
	if got := Denormalize(Postgres, "SELECT $1, '$1', $3", []Slot{{Raw: "5", Lit: Literal{Text: "5"}}}, nil); got != "SELECT 5, '$1', $3" {
		t.Errorf("got %q", got)
	}
	if got := Denormalize(MySQL, "SELECT ?, '?', ?", []Slot{{Raw: "5"}}, nil); got != "SELECT 5, '?', ?" {
		t.Errorf("got %q", got)
	}
}
