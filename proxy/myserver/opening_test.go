package myserver

import "testing"

func TestCanOpenWith(t *testing.T) {
	for _, c := range []struct {
		deferred []string
		want     bool
	}{
		{[]string{"START TRANSACTION"}, true},
		{[]string{"begin"}, true},
		{[]string{"BEGIN WORK;"}, true},
		{[]string{"start transaction read only"}, true},
		{[]string{"START TRANSACTION WITH CONSISTENT SNAPSHOT"}, true},
		{[]string{"START TRANSACTION", "SAVEPOINT a", "SAVEPOINT `my point`"}, true},
		{nil, false},
		// A read-only server refuses READ WRITE: it goes first, alone.
		{[]string{"START TRANSACTION READ WRITE"}, false},
		{[]string{"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "START TRANSACTION"}, false},
		{[]string{"/* app */ BEGIN"}, false},
		{[]string{"START TRANSACTION", "ROLLBACK TO SAVEPOINT a"}, false},
		{[]string{"START TRANSACTION", "RELEASE SAVEPOINT a"}, false},
		{[]string{"XA START 'x'"}, false},
		{[]string{"BEGIN; DELETE FROM users"}, false},
	} {
		if got := canOpenWith(c.deferred); got != c.want {
			t.Errorf("canOpenWith(%q) = %v, want %v", c.deferred, got, c.want)
		}
	}
}
