package probe

import (
	"strconv"
	"time"

	"github.com/shardgate/shardgate/topology/health"
)

// col returns the first of names present in a SHOW SLAVE/REPLICA STATUS
// row (MySQL 8.0.22 renamed Slave_* to Replica_* and Master to Source);
// NULL when none is.
func col(row map[string]value, names ...string) value {
	for _, n := range names {
		if v, ok := row[n]; ok {
			return v
		}
	}
	return value{null: true}
}

// myReplicaObservation turns a replica's status row (nil: it replicates
// from nobody) and GTID position into its lag:
//
//   - not a replica, or its SQL thread is stopped: lag unknown (nothing
//     is being applied, so the data is as old as the stop);
//   - its position covers primaryPos: caught up, lag 0;
//   - Seconds_Behind_Master when the server gives one;
//   - NULL there means the IO thread is not connected and the relay log
//     is applied: if the primary is unknown too (its probe failed), what
//     was received is all there is, lag 0; otherwise unknown.
func myReplicaObservation(status map[string]value, pos, primaryPos string) health.Observation {
	obs := health.Observation{Position: pos}
	if status == nil {
		return obs
	}
	if primaryPos != "" && gtidCovers(pos, primaryPos) {
		obs.LagKnown = true
		return obs
	}
	if col(status, "Slave_SQL_Running", "Replica_SQL_Running").s != "Yes" {
		return obs
	}
	behind := col(status, "Seconds_Behind_Master", "Seconds_Behind_Source")
	if !behind.null {
		if n, err := strconv.ParseInt(behind.s, 10, 64); err == nil && n >= 0 {
			obs.Lag, obs.LagKnown = time.Duration(n)*time.Second, true
		}
		return obs
	}
	if ioPos := col(status, "Gtid_IO_Pos"); primaryPos == "" && !ioPos.null && gtidCovers(pos, ioPos.s) {
		obs.LagKnown = true
	}
	return obs
}
