package pgserver

import (
	"strconv"
	"strings"
)

// commandTag adds up the CommandComplete tags of several shards:
// "SELECT 3" + "SELECT 4" = "SELECT 7", "INSERT 0 2" + "INSERT 0 1" =
// "INSERT 0 3". Without sum (a reference table write) the first shard's
// count stands.
type commandTag struct {
	verb    string
	count   int64
	counted bool
	copyOut bool
}

func (t *commandTag) add(tag string, sum, first bool) {
	fields := strings.Fields(tag)
	if len(fields) == 0 {
		return
	}
	n, err := strconv.ParseInt(fields[len(fields)-1], 10, 64)
	if err != nil {
		if t.verb == "" {
			t.verb = tag
		}
		return
	}
	if t.verb == "" {
		t.verb = strings.Join(fields[:len(fields)-1], " ")
		t.copyOut = fields[0] == "COPY"
	}
	if sum || first {
		t.count += n
	}
	t.counted = true
}

func (t *commandTag) String() string {
	if !t.counted {
		return t.verb
	}
	return t.verb + " " + strconv.FormatInt(t.count, 10)
}
