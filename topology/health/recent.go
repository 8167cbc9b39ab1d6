package health

import (
	"time"

	"github.com/shardgate/shardgate/topology"
)

// RecentWrites implements read_your_writes for one client session: after
// the session writes to a shard, its reads of that shard go to the
// primary for the database's window, so it never reads a replica that has
// not replayed its own write yet. Shards are remembered by primary
// address, which is where the write landed and survives a reload.
//
// The zero value is ready. It is not safe for concurrent use: it belongs
// to one session.
type RecentWrites struct {
	until map[string]time.Time // primary address -> end of its window
}

// keepAtMost bounds the map before expired windows are swept.
const keepAtMost = 64

// Wrote records a write (or a statement that may have written) to sh at
// now. It does nothing when db's read_your_writes is off.
func (w *RecentWrites) Wrote(db *topology.DB, sh *topology.Shard, now time.Time) {
	if db.ReadYourWrites <= 0 {
		return
	}
	if w.until == nil {
		w.until = map[string]time.Time{}
	}
	if len(w.until) >= keepAtMost {
		for addr, end := range w.until {
			if !now.Before(end) {
				delete(w.until, addr)
			}
		}
	}
	w.until[sh.Primary] = now.Add(db.ReadYourWrites)
}

// Primary reports whether a read of sh at now must go to the primary
// (PickRequest.Primary) because the session wrote there recently.
func (w *RecentWrites) Primary(sh *topology.Shard, now time.Time) bool {
	end, ok := w.until[sh.Primary]
	return ok && now.Before(end)
}
