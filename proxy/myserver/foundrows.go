package myserver

import (
	"strconv"
	"strings"

	"github.com/shardgate/shardgate/proxy/mysqlwire"
)

// A client that logs in with CLIENT_FOUND_ROWS (Django, mysqlclient with
// FOUND_ROWS, some JDBC settings) expects an UPDATE to report the rows it
// matched, not only those it changed: Django's save() takes 0 for "no
// such row" and INSERTs instead. Server connections are shared by every
// client and log in without the flag (see mysqlwire's backendCaps); the
// server's OK says both counts in its info, "Rows matched: 3  Changed: 1
// Warnings: 0", so such a client is told the matched count. An INSERT ...
// ON DUPLICATE KEY UPDATE that changed nothing still reports 0 (its OK
// carries no such info), where the flag would make it 1.

// affectedRows is what an OK's affected-row count is for this client.
func (s *session) affectedRows(ok mysqlwire.OK) uint64 {
	if s.foundRows {
		if n, found := matchedRows(ok.Info); found {
			return n
		}
	}
	return ok.AffectedRows
}

// matchedRows reads the matched count of an UPDATE's OK info.
func matchedRows(info string) (uint64, bool) {
	rest, ok := strings.CutPrefix(info, "Rows matched: ")
	if !ok {
		return 0, false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	n, err := strconv.ParseUint(rest[:end], 10, 64)
	return n, err == nil
}
