package mysqlwire

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// needBinary skips the test when a client binary is missing, or fails it
// under CI=true.
func needBinary(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found: %v", name, err)
		}
		t.Skipf("%s not found", name)
	}
	return path
}

// The real mariadb CLI (libmariadb) logs in to an Acceptor and runs one
// query, for each auth method, with and without TLS; and what
// capabilities it sends.
func TestAcceptMariadbCLI(t *testing.T) {
	cli := needBinary(t, "mariadb")
	for _, tc := range []struct {
		name, method string
		tls          bool
	}{
		{"native", AuthNativePassword, false},
		{"caching_sha2 RSA", AuthCachingSha2Password, false},
		{"caching_sha2 TLS", AuthCachingSha2Password, true},
		{"native TLS", AuthNativePassword, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := acceptConfig(tc.method, &users{pw: map[string]string{"app": "s3cret"}})
			ssl := "--skip-ssl"
			if tc.tls {
				cfg.TLS = selfSignedTLS(t)
				ssl = "--ssl"
			}
			s := startTestServer(t, cfg)
			host, port, _ := strings.Cut(s.addr, ":")
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			args := []string{"--no-defaults", "-h", host, "-P", port, "-u", "app", "-ps3cret", ssl,
				"--batch", "--skip-column-names", "-e", "select 1", "shop"}
			if tc.tls {
				args = append(args, "--ssl-verify-server-cert=0")
			}
			out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("mariadb: %v\n%s", err, out)
			}
			if strings.TrimSpace(string(out)) != "1" {
				t.Fatalf("output %q", out)
			}
			cl := s.lastClient()
			t.Logf("mariadb CLI capabilities 0x%08x: MULTI_STATEMENTS=%v DEPRECATE_EOF=%v; queries %q",
				cl.Capabilities, cl.Capabilities&ClientMultiStatements != 0, cl.Capabilities&ClientDeprecateEOF != 0, s.queries)
			if cl.Capabilities&ClientDeprecateEOF != 0 {
				t.Error("the mariadb CLI sent CLIENT_DEPRECATE_EOF although it was not offered")
			}
			if cl.Database != "shop" {
				t.Errorf("database %q", cl.Database)
			}
		})
	}
}
