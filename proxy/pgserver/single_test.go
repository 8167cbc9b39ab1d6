package pgserver

import "testing"

func TestSingleStatement(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"SELECT 1", "SELECT 1", true},
		{"SELECT 1;", "SELECT 1", true},
		{"SELECT 1; \n", "SELECT 1", true},
		{";", "", true},
		{"", "", true},
		{"SELECT 1; SELECT 2", "", false},
		{"SELECT ';' ", "", false},
		{"SELECT 1;;", "", false},
	}
	for _, c := range cases {
		got, ok := singleStatement(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("singleStatement(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
