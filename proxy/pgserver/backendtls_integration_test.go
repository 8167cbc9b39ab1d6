package pgserver

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/localcluster"
)

// With backend tls: verify-full the proxy's server connections are TLS,
// checked against the cluster's CA; a CA that did not sign the servers'
// certificate is refused with a clear error, and require encrypts
// without checking.
func TestBackendTLS(t *testing.T) {
	c := startCluster(t, localcluster.Options{TLS: true})
	ctx := t.Context()
	ssl := func(f *fixture) (bool, error) {
		var on bool
		// On the primary (the replica would do as well): the statement runs
		// on one of the proxy's own server connections.
		err := f.connect(t).QueryRow(ctx, "/* role=primary */ SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&on)
		return on, err
	}
	for _, mode := range []string{topology.BackendTLSVerifyFull, topology.BackendTLSRequire} {
		f := serveProxy(t, c, Options{}, func(cfg *topology.Config) {
			cfg.Databases[0].Backend.TLS = mode
			if mode == topology.BackendTLSVerifyFull {
				cfg.Databases[0].Backend.CA = c.CAFile()
			}
		})
		if on, err := ssl(f); err != nil || !on {
			t.Fatalf("tls: %s: the proxy's server connection has ssl = %v (%v), want true", mode, on, err)
		}
	}
	plain := serveProxy(t, c, Options{})
	if on, err := ssl(plain); err != nil || on {
		t.Fatalf("tls: disable: ssl = %v (%v), want false", on, err)
	}

	// A CA that signed nothing here: the servers' certificates fail.
	other := startCluster(t, localcluster.Options{TLS: true})
	wrongCA := filepath.Join(t.TempDir(), "other-ca.pem")
	pem, err := os.ReadFile(other.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wrongCA, pem, 0o644); err != nil {
		t.Fatal(err)
	}
	f := serveProxy(t, c, Options{}, func(cfg *topology.Config) {
		cfg.Databases[0].Backend.TLS = topology.BackendTLSVerifyFull
		cfg.Databases[0].Backend.CA = wrongCA
	})
	_, err = ssl(f)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "08006" || !strings.Contains(pe.Message, "certificate") {
		t.Fatalf("server certificate from another CA: %v, want 08006 naming the certificate", err)
	}
}
