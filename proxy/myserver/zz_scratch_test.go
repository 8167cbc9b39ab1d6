package myserver

import (
	"database/sql"
	"fmt"
	"sort"
	"testing"

	"github.com/shardgate/shardgate/proxy/merge"
	"github.com/shardgate/shardgate/topology/localcluster"
)

func TestZZScratchCI(t *testing.T) {
	c := localcluster.StartForTest(t, localcluster.KindMySQL, localcluster.Options{Shards: 1, ReplicasPerShard: localcluster.NoReplicas, Database: "shop"})
	db, _ := sql.Open("mysql", c.DSN(c.Shards[0].Primary))
	type cw struct {
		cp int
		w  string
	}
	var all []cw
	for lo := 0x20; lo < 0x20000; lo += 4096 {
		rows, err := db.Query(fmt.Sprintf(`WITH RECURSIVE s(cp) AS (SELECT %d UNION ALL SELECT cp+1 FROM s WHERE cp < %d)
SELECT cp, HEX(WEIGHT_STRING(CONVERT(CHAR(cp USING utf32) USING utf8mb4) COLLATE utf8mb4_general_ci)) FROM s WHERE cp < 0xD800 OR cp > 0xDFFF`, lo, lo+4095))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var x cw
			rows.Scan(&x.cp, &x.w)
			all = append(all, x)
		}
		rows.Close()
	}
	// server order: by weight
	sort.SliceStable(all, func(i, j int) bool { return all[i].w < all[j].w })
	eqBad, ordBad := 0, 0
	var ex []string
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		got, _ := merge.Compare(merge.TextCI, []byte(string(rune(a.cp))), []byte(string(rune(b.cp))))
		want := 0
		if a.w < b.w {
			want = -1
		}
		if got != want {
			if want == 0 {
				eqBad++
			} else {
				ordBad++
			}
			if len(ex) < 40 && (a.cp < 0x250 || b.cp < 0x250 || a.cp > 0xFFFF) {
				ex = append(ex, fmt.Sprintf("%q(%s) vs %q(%s): merge %d server %d", rune(a.cp), a.w, rune(b.cp), b.w, got, want))
			}
		}
	}
	t.Logf("%d code points; adjacent pairs where merge disagrees: equal-by-server %d, ordered-by-server %d", len(all), eqBad, ordBad)
	for _, e := range ex {
		t.Log(e)
	}
}
