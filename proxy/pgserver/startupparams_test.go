package pgserver

import (
	"maps"
	"testing"
)

func TestStartupSettings(t *testing.T) {
	for _, tc := range []struct {
		params map[string]string
		want   map[string]string
		err    bool
	}{
		{map[string]string{"user": "app", "database": "shop"}, map[string]string{}, false},
		{map[string]string{"user": "app", "application_name": "probe", "TimeZone": "Europe/Berlin", "DateStyle": "ISO"},
			map[string]string{"application_name": "probe", "timezone": "Europe/Berlin", "datestyle": "ISO"}, false},
		{map[string]string{"options": "-c search_path=a,b --statement-timeout=5s -cwork_mem=8MB"},
			map[string]string{"search_path": "a,b", "statement_timeout": "5s", "work_mem": "8MB"}, false},
		{map[string]string{"options": `-c application_name=two\ words  -c x.y=1`},
			map[string]string{"application_name": "two words", "x.y": "1"}, false},
		{map[string]string{"replication": "false", "_pq_.compression": "on"}, map[string]string{}, false},
		{map[string]string{"replication": "database"}, nil, true},
		{map[string]string{"options": "-f nothing"}, nil, true},
		{map[string]string{"options": "-c novalue"}, nil, true},
	} {
		got, err := startupSettings(tc.params)
		if (err != nil) != tc.err || err == nil && !maps.Equal(got, tc.want) {
			t.Errorf("startupSettings(%v) = %v, %v; want %v (error %v)", tc.params, got, err, tc.want, tc.err)
		}
	}
	if got, want := startupSetting("search_path", "a, 'b'"), `SELECT pg_catalog.set_config('search_path', 'a, ''b''', false)`; got != want {
		t.Errorf("startupSetting = %s, want %s", got, want)
	}
}
