// Package twophase is what both proxies' two-phase commits share: the
// names of the transactions they prepare, and the rule that finishes the
// ones a proxy left prepared when it died mid-commit.
//
// There is no coordinator log. A transaction's participant 0 is prepared
// first and committed first, and rolled back last. So for the prepared
// parts left behind: participant 0 still prepared means the commit point
// was not passed (roll every part back, participant 0 last); participant
// 0 gone means it committed (commit the rest).
package twophase

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
)

// Prefix starts the name of every transaction shardgate prepares.
const Prefix = "shardgate_"

// DBPrefix starts the names of one logical database's transactions: a
// resolver finishes only its own database's, whose servers it can all
// see (another database may share a server but not the others).
func DBPrefix(db string) string {
	h := fnv.New32a()
	h.Write([]byte(db))
	return fmt.Sprintf("%s%08x_", Prefix, h.Sum32())
}

// Names returns the names of a new transaction's participants in
// database db: shardgate_<db>_<random>_<i>, unique across proxies and
// under 64 bytes (the XA limit).
func Names(db string) func(i int) string {
	var b [8]byte
	rand.Read(b[:])
	id := DBPrefix(db) + hex.EncodeToString(b[:])
	return func(i int) string { return id + "_" + strconv.Itoa(i) }
}

// Parse splits a name into its transaction and participant number.
func Parse(gid string) (tx string, part int, ok bool) {
	if !strings.HasPrefix(gid, Prefix) {
		return "", 0, false
	}
	i := strings.LastIndexByte(gid, '_')
	if i < len(Prefix) {
		return "", 0, false
	}
	n, err := strconv.Atoi(gid[i+1:])
	if err != nil || n < 0 {
		return "", 0, false
	}
	return gid[:i], n, true
}

// Leftover is one prepared part: the shard (index in the database's
// shards) that holds it and its name.
type Leftover struct {
	Shard int
	GID   string
}

// Resolution is what to do with the leftover parts of one transaction.
type Resolution struct {
	Commit bool
	Parts  []Leftover // in the order to finish them
}

// Plan decides what to do with the prepared transactions found on each
// shard of a database (found[i]: the names on shard i). Every shard must
// have been read: a part missing only because its server was not asked
// would look committed.
func Plan(found [][]string) []Resolution {
	byTx := map[string]*Resolution{}
	has0 := map[string]bool{}
	var ids []string
	for shard, gids := range found {
		for _, gid := range gids {
			id, part, ok := Parse(gid)
			if !ok {
				continue
			}
			r := byTx[id]
			if r == nil {
				r = &Resolution{}
				byTx[id] = r
				ids = append(ids, id)
			}
			r.Parts = append(r.Parts, Leftover{Shard: shard, GID: gid})
			if part == 0 {
				has0[id] = true
			}
		}
	}
	slices.Sort(ids)
	out := make([]Resolution, 0, len(ids))
	for _, id := range ids {
		r := byTx[id]
		r.Commit = !has0[id]
		// Participant 0 last: a rollback cut short still leaves it prepared.
		slices.SortFunc(r.Parts, func(a, b Leftover) int {
			_, pa, _ := Parse(a.GID)
			_, pb, _ := Parse(b.GID)
			return cmp.Compare(pb, pa)
		})
		out = append(out, *r)
	}
	return out
}
