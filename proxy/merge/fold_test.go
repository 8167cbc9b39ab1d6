package merge

import "testing"

func TestTextCI(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"a", "A", 0},
		{"abc", "ABD", -1},
		{"é", "E", 0},
		{"Zoë", "zoe", 0},
		{"a  ", "a", 0},
		{"B", "a", 1},
		{"", " ", 0},
		{"ä", "b", -1},
		{"\xff", "\xff", 0},
	}
	for _, c := range cases {
		got, err := Compare(TextCI, []byte(c.a), []byte(c.b))
		if err != nil || got != c.want {
			t.Errorf("Compare(TextCI, %q, %q) = %d, %v; want %d", c.a, c.b, got, err, c.want)
		}
		ka, _ := appendKeyValue(nil, TextCI, []byte(c.a))
		kb, _ := appendKeyValue(nil, TextCI, []byte(c.b))
		if (string(ka) == string(kb)) != (c.want == 0) {
			t.Errorf("group keys of %q and %q: equal=%v, want %v", c.a, c.b, string(ka) == string(kb), c.want == 0)
		}
	}
}
