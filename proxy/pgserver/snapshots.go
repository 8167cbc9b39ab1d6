package pgserver

// Synchronized snapshots over shards (pg_dump -j).
//
// pg_export_snapshot() names a snapshot of one server, which another
// transaction of that server may adopt with SET TRANSACTION SNAPSHOT.
// Through the proxy a transaction has one server per shard, so exporting
// takes a snapshot on every shard and answers one id that lists them
// ("shardgate:-80=00000003-0000001B-1;80-=..."); importing it gives each
// shard, as it joins the importing transaction, its own part.

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgproto3/v2"

	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
)

const (
	// snapshotPrefix starts a snapshot id of the proxy's.
	snapshotPrefix = "shardgate:"
	// snapshotMarker stands in tx.deferred where SET TRANSACTION SNAPSHOT
	// of such an id was: each shard that joins gets its own id there.
	snapshotMarker = "\x00snapshot"
)

// exportSnapshot answers SELECT pg_export_snapshot().
func (s *session) exportSnapshot(ctx context.Context, db *topology.DB, sql string) error {
	if !s.tx.open {
		// The snapshot ends with the statement: any shard's will do.
		return s.single(ctx, db, router.Target{Shard: db.Unsharded, Role: router.RolePrimary}, &work{sql: sql})
	}
	if db.Transactions == topology.SingleShard && !s.tx.readOnly {
		return &clientError{code: "0A000", msg: "shardgate: pg_export_snapshot() takes a snapshot on every shard: the transaction must be READ ONLY (or the database multi_shard)"}
	}
	parts := make([]string, 0, len(db.Shards))
	for _, sh := range db.Shards {
		l, err := s.join(ctx, db, sh, false)
		if err != nil {
			return err
		}
		ids, err := l.conn.column("SELECT pg_catalog.pg_export_snapshot()")
		if err != nil || len(ids) != 1 {
			s.tx.failed = true
			if err == nil {
				err = fmt.Errorf("shard %s returned no snapshot", sh.Name)
			}
			return classify(err)
		}
		parts = append(parts, sh.Name+"="+ids[0])
	}
	s.w.Send(&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{
		Name: []byte("pg_export_snapshot"), DataTypeOID: oidText, DataTypeSize: -1, TypeModifier: -1}}})
	s.w.Send(&pgproto3.DataRow{Values: [][]byte{[]byte(snapshotPrefix + strings.Join(parts, ";"))}})
	return s.complete("SELECT 1")
}

// importSnapshot handles SET TRANSACTION SNAPSHOT of an id of the
// proxy's (false: another id, which the servers judge).
func (s *session) importSnapshot(db *topology.DB, id string) (bool, error) {
	rest, ok := strings.CutPrefix(id, snapshotPrefix)
	if !ok {
		return false, nil
	}
	if !s.tx.open || len(s.tx.parts) > 0 || s.tx.snapshots != nil {
		return true, &clientError{code: "25001", msg: "SET TRANSACTION SNAPSHOT must be called before any query"}
	}
	snaps := map[string]string{}
	for _, p := range strings.Split(rest, ";") {
		shard, sid, ok := strings.Cut(p, "=")
		if !ok || sid == "" || strings.ContainsAny(sid, "'\\") {
			return true, &clientError{code: "22023", msg: fmt.Sprintf("invalid snapshot identifier: %q", id)}
		}
		snaps[shard] = sid
	}
	for _, sh := range db.Shards {
		if snaps[sh.Name] == "" {
			return true, &clientError{code: "22023", msg: fmt.Sprintf("snapshot %q has no part for shard %s (exported under another topology?)", id, sh.Name)}
		}
	}
	s.tx.snapshots = snaps
	s.tx.deferred = append(s.tx.deferred, snapshotMarker)
	return true, s.complete("SET")
}

// opening is the transaction's deferred statements for a shard joining
// it, with its own part of an imported snapshot.
func (s *session) opening(sh *topology.Shard) []string {
	out := make([]string, len(s.tx.deferred))
	for i, q := range s.tx.deferred {
		if q == snapshotMarker {
			q = "SET TRANSACTION SNAPSHOT '" + s.tx.snapshots[sh.Name] + "'"
		}
		out[i] = q
	}
	return out
}
