package myserver

import (
	"testing"

	"github.com/shardgate/shardgate/topology/localcluster"
)

// With backend tls: verify-full (the fixture's default on a TLS cluster)
// the proxy's server connections are TLS, checked against the cluster's
// CA: Ssl_cipher is set on them, and statements run.
func TestBackendTLS(t *testing.T) {
	f := startFixtureWith(t, localcluster.Options{TLS: true})
	db := f.open(t, map[string]string{"interpolateParams": "false"})
	var name, cipher string
	if err := db.QueryRow("/* role=primary */ SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err != nil {
		t.Fatal(err)
	}
	if cipher == "" {
		t.Fatal("the proxy's server connection is not encrypted (Ssl_cipher empty)")
	}
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (?, 'tls')", 1)
	if n := queryInt(t, f.shardDB(t, f.ownerOf(1)), "SELECT COUNT(*) FROM users WHERE id = 1"); n != 1 {
		t.Fatal("row written over TLS missing")
	}
}
