package probe

import (
	"testing"
	"time"

	"github.com/shardgate/shardgate/topology/health"
)

func TestPGReplicaObservation(t *testing.T) {
	const now = 1_700_000_000.0
	behind := func(replay string, since float64) pgReplicaRow {
		return pgReplicaRow{inRecovery: true, replay: replay, receive: replay, sinceReplay: since, now: now}
	}
	tests := []struct {
		name       string
		row        pgReplicaRow
		primaryPos string
		caughtUp   float64
		want       health.Observation
		wantCaught float64
	}{
		{"caught up", behind("0/3000060", 3600), "0/3000060", 0,
			health.Observation{LagKnown: true, Position: "0/3000060", ReadOnly: true}, now},
		{"ahead of an older primary read", behind("0/3000100", 3600), "0/3000060", 0,
			health.Observation{LagKnown: true, Position: "0/3000100", ReadOnly: true}, now},
		{"behind: commit timestamp", behind("0/3000000", 2.5), "0/3000060", 0,
			health.Observation{Lag: 2500 * time.Millisecond, LagKnown: true, Position: "0/3000000", ReadOnly: true}, 0},
		{"behind after an idle hour: bounded by last caught up", behind("0/3000000", 3600), "0/3000060", now - 1,
			health.Observation{Lag: time.Second, LagKnown: true, Position: "0/3000000", ReadOnly: true}, now - 1},
		{"behind, no commit replayed yet", pgReplicaRow{inRecovery: true, replay: "0/3000000", sinceReplayNull: true, now: now}, "0/3000060", 0,
			health.Observation{Position: "0/3000000", ReadOnly: true}, 0},
		{"behind, no commit replayed, caught up before", pgReplicaRow{inRecovery: true, replay: "0/3000000", sinceReplayNull: true, now: now}, "0/3000060", now - 4,
			health.Observation{Lag: 4 * time.Second, LagKnown: true, Position: "0/3000000", ReadOnly: true}, now - 4},
		{"clock skew", behind("0/3000000", -0.2), "0/3000060", 0,
			health.Observation{LagKnown: true, Position: "0/3000000", ReadOnly: true}, 0},
		{"primary unknown, all received replayed", behind("0/3000000", 3600), "", now - 9,
			health.Observation{LagKnown: true, Position: "0/3000000", ReadOnly: true}, now - 9},
		{"primary unknown, replay behind receive", pgReplicaRow{inRecovery: true, replay: "0/2000000", receive: "0/3000000", sinceReplay: 7, now: now}, "", 0,
			health.Observation{Lag: 7 * time.Second, LagKnown: true, Position: "0/2000000", ReadOnly: true}, 0},
		{"promoted: not in recovery", pgReplicaRow{replay: "0/3000000", now: now}, "0/3000060", now - 1,
			health.Observation{Position: "0/3000000"}, 0},
		{"no replay position", pgReplicaRow{inRecovery: true, now: now}, "0/3000060", 0,
			health.Observation{ReadOnly: true}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, caught := pgReplicaObservation(tc.row, tc.primaryPos, tc.caughtUp)
			if got != tc.want || caught != tc.wantCaught {
				t.Errorf("got %+v, caught up %v; want %+v, %v", got, caught, tc.want, tc.wantCaught)
			}
		})
	}
}

func TestParsePGReplicaRow(t *testing.T) {
	row := []value{{s: "t"}, {s: "0/5"}, {null: true}, {null: true}, {s: "1700000000.25"}}
	r, err := parsePGReplicaRow(row)
	if err != nil || !r.inRecovery || r.replay != "0/5" || r.receive != "" || !r.sinceReplayNull || r.now != 1700000000.25 {
		t.Fatalf("%+v, %v", r, err)
	}
	for _, bad := range [][]value{row[:4], {{s: "t"}, {s: "0/5"}, {null: true}, {s: "x"}, {s: "1"}}} {
		if _, err := parsePGReplicaRow(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestMyReplicaObservation(t *testing.T) {
	status := func(sqlRunning, behind string, ioPos string) map[string]value {
		st := map[string]value{
			"Slave_IO_Running":  {s: "Yes"},
			"Slave_SQL_Running": {s: sqlRunning},
			"Gtid_IO_Pos":       {s: ioPos},
		}
		if behind == "NULL" {
			st["Seconds_Behind_Master"] = value{null: true}
		} else {
			st["Seconds_Behind_Master"] = value{s: behind}
		}
		return st
	}
	mysql8 := map[string]value{"Replica_SQL_Running": {s: "Yes"}, "Seconds_Behind_Source": {s: "4"}}
	tests := []struct {
		name       string
		status     map[string]value
		pos        string
		primaryPos string
		want       health.Observation
	}{
		{"caught up", status("Yes", "0", "0-1-9"), "0-1-9", "0-1-9", health.Observation{LagKnown: true, Position: "0-1-9"}},
		{"caught up, SQL thread stopped", status("No", "NULL", "0-1-9"), "0-1-9", "0-1-9", health.Observation{LagKnown: true, Position: "0-1-9"}},
		{"behind", status("Yes", "3", "0-1-9"), "0-1-8", "0-1-9", health.Observation{Lag: 3 * time.Second, LagKnown: true, Position: "0-1-8"}},
		{"SQL thread stopped", status("No", "NULL", "0-1-9"), "0-1-8", "0-1-9", health.Observation{Position: "0-1-8"}},
		{"SQL thread stopped, primary unknown", status("No", "NULL", "0-1-8"), "0-1-8", "", health.Observation{Position: "0-1-8"}},
		{"IO down, relay applied, primary unknown", status("Yes", "NULL", "0-1-8"), "0-1-8", "", health.Observation{LagKnown: true, Position: "0-1-8"}},
		{"IO down, relay applied, primary ahead", status("Yes", "NULL", "0-1-8"), "0-1-8", "0-1-9", health.Observation{Position: "0-1-8"}},
		{"not a replica", nil, "0-1-8", "0-1-9", health.Observation{Position: "0-1-8"}},
		{"MySQL 8 names", mysql8, "uuid:1-4", "uuid:1-5", health.Observation{Lag: 4 * time.Second, LagKnown: true, Position: "uuid:1-4"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := myReplicaObservation(tc.status, tc.pos, tc.primaryPos); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
