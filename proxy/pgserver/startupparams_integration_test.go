package pgserver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shardgate/shardgate/topology"
)

// A client's startup parameters (pgjdbc sends application_name, TimeZone
// and DateStyle; libpq options carries -c settings) are its session's
// settings on whichever server connection it gets, RESET returns to
// them, they never reach another client, and a value the server refuses
// fails the login as it would on the server.
func TestProxyStartupParameters(t *testing.T) {
	f := startFixture(t, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 1 })
	ctx := t.Context()
	connect := func(params map[string]string) (*pgx.Conn, error) {
		cfg, err := pgx.ParseConfig(f.dsn("app", "app-secret"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.RuntimeParams = params
		return pgx.ConnectConfig(ctx, cfg)
	}
	a, err := connect(map[string]string{"application_name": "probe-app", "TimeZone": "America/New_York",
		"options": "-c statement_timeout=4321ms"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())
	if got := a.PgConn().ParameterStatus("TimeZone"); got != "America/New_York" {
		t.Errorf("ParameterStatus TimeZone at login: %q", got)
	}
	if got := a.PgConn().ParameterStatus("application_name"); got != "probe-app" {
		t.Errorf("ParameterStatus application_name at login: %q", got)
	}
	show := func(c *pgx.Conn, q string) string {
		t.Helper()
		var v string
		if err := c.QueryRow(ctx, q).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return v
	}
	key := int64(1)
	if _, err := a.Exec(ctx, "INSERT INTO users (id, name) VALUES ($1, 'u')", key); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"SHOW application_name": "probe-app",
		"SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()": "probe-app",
		"SHOW statement_timeout": "4321ms",
		"SELECT to_char(timestamptz '2024-01-01 12:00:00+00', 'HH24:MI TZ')": "07:00 EST",
		"SELECT current_setting('TimeZone') FROM users WHERE id = 1":         "America/New_York",
	}
	b, err := connect(nil) // shares the one connection per server with a
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	for range 2 {
		for q, v := range want {
			if got := show(a, q); got != v {
				t.Errorf("client with startup parameters: %s = %q, want %q", q, got, v)
			}
		}
		if got := show(b, "SHOW application_name"); got == "probe-app" {
			t.Errorf("another client sees application_name %q", got)
		}
		if got := show(b, "SHOW statement_timeout"); got != "0" {
			t.Errorf("another client sees statement_timeout %q", got)
		}
	}
	for _, q := range []string{"SET application_name = 'changed'", "RESET application_name", "SET TimeZone = 'UTC'", "RESET ALL"} {
		if _, err := a.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if got := show(a, "SHOW application_name"); got != "probe-app" {
		t.Errorf("after RESET: application_name %q, want the startup value", got)
	}
	if got := show(a, "SHOW TimeZone"); got != "America/New_York" {
		t.Errorf("after RESET ALL: TimeZone %q, want the startup value", got)
	}

	_, err = connect(map[string]string{"TimeZone": "Nowhere/Atlantis"})
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "22023" || pe.Severity != "FATAL" {
		t.Errorf("login with an invalid TimeZone: %v; want FATAL 22023", err)
	}
	_, err = connect(map[string]string{"replication": "database"})
	if !errors.As(err, &pe) || pe.Severity != "FATAL" {
		t.Errorf("replication login: %v; want FATAL", err)
	}
	// The connection the refused login validated on still serves.
	ctx2, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := b.Ping(ctx2); err != nil {
		t.Errorf("after the refused logins: %v", err)
	}
}
