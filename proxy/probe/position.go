package probe

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseLSN reads a PostgreSQL log sequence number as written by
// pg_lsn's output ("16/B374D848": two hex numbers of up to 32 bits, the
// high and low halves of a 64-bit WAL position), so that positions can be
// compared as numbers.
func ParseLSN(s string) (uint64, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || hi == "" || lo == "" || len(hi) > 8 || len(lo) > 8 {
		return 0, fmt.Errorf("probe: %q is not an LSN (want X/Y in hex)", s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("probe: %q is not an LSN (want X/Y in hex)", s)
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("probe: %q is not an LSN (want X/Y in hex)", s)
	}
	return h<<32 | l, nil
}

// gtidPos is a MariaDB GTID position ("0-1-100,1-2-7"): for each
// replication domain, the sequence number of the last transaction.
type gtidPos map[uint32]uint64

// parseGTIDPos reads a MariaDB GTID position; "" is the empty position.
func parseGTIDPos(s string) (gtidPos, error) {
	pos := gtidPos{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		f := strings.Split(part, "-")
		if len(f) != 3 {
			return nil, fmt.Errorf("probe: %q is not a MariaDB GTID (want domain-server-seq)", part)
		}
		domain, err1 := strconv.ParseUint(f[0], 10, 32)
		_, err2 := strconv.ParseUint(f[1], 10, 32)
		seq, err3 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("probe: %q is not a MariaDB GTID (want domain-server-seq)", part)
		}
		d := uint32(domain)
		if _, dup := pos[d]; dup {
			return nil, fmt.Errorf("probe: GTID position %q names domain %d twice", s, d)
		}
		pos[d] = seq
	}
	return pos, nil
}

// gtidCovers reports whether a server at position have has applied
// everything up to position want. MariaDB positions are compared domain
// by domain; anything else (MySQL's GTID sets) only when the texts are
// equal, whitespace aside, which is what an idle, caught-up pair shows.
func gtidCovers(have, want string) bool {
	h, herr := parseGTIDPos(have)
	w, werr := parseGTIDPos(want)
	if herr != nil || werr != nil {
		return strings.Join(strings.Fields(have), "") == strings.Join(strings.Fields(want), "")
	}
	for d, seq := range w {
		if h[d] < seq {
			return false
		}
	}
	return true
}
