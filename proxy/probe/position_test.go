package probe

import "testing"

func TestParseLSN(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0/3000060", 0x3000060, true},
		{"16/B374D848", 0x16_B374D848, true},
		{"FFFFFFFF/FFFFFFFF", 1<<64 - 1, true},
		{"0/0", 0, true},
		{"a/b", 0xa_0000000b, true},
		{"", 0, false},
		{"3000060", 0, false},
		{"/1", 0, false},
		{"1/", 0, false},
		{"1/2/3", 0, false},
		{"100000000/0", 0, false},
		{"g/0", 0, false},
		{"-1/0", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseLSN(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseLSN(%q) = %#x, %v; want %#x, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	// Order: positions compare as numbers, not as text.
	a, _ := ParseLSN("0/FFFFFFFF")
	b, _ := ParseLSN("1/0")
	if a >= b {
		t.Error("0/FFFFFFFF >= 1/0")
	}
}

func TestGTIDCovers(t *testing.T) {
	tests := []struct {
		have, want string
		covers     bool
	}{
		{"0-100-5", "0-100-5", true},
		{"0-100-6", "0-100-5", true},
		{"0-100-4", "0-100-5", false},
		{"0-101-9", "0-100-5", true}, // a failover changed server ids; seq numbers go on
		{"1-2-7,0-100-5", "0-100-5,1-2-7", true},
		{"0-100-5", "0-100-5,1-2-7", false},
		{"0-100-5,1-2-7", "0-100-5", true},
		{"", "", true},
		{"0-100-1", "", true},
		{"", "0-100-1", false},
		{" 0-100-5 ", "0-100-5", true},
		// MySQL GTID sets: equality only.
		{"3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5", "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5", true},
		{"3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5,\n4E11FA47-71CA-11E1-9E33-C80AA9429562:1", "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5,4E11FA47-71CA-11E1-9E33-C80AA9429562:1", true},
		{"3E11FA47-71CA-11E1-9E33-C80AA9429562:1-4", "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5", false},
	}
	for _, tc := range tests {
		if got := gtidCovers(tc.have, tc.want); got != tc.covers {
			t.Errorf("gtidCovers(%q, %q) = %v", tc.have, tc.want, got)
		}
	}
	for _, bad := range []string{"0-1", "0-1-x", "0-1-2,0-1-3", "a-b-c"} {
		if _, err := parseGTIDPos(bad); err == nil {
			t.Errorf("parseGTIDPos(%q) accepted", bad)
		}
	}
}
