package topology

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidFiles(t *testing.T) {
	files, _ := filepath.Glob("../testdata/topology/valid/*.yaml")
	files = append(files, "../config.example.yaml")
	if len(files) < 3 {
		t.Fatalf("found %d valid files", len(files))
	}
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestDefaultsAndLookups(t *testing.T) {
	snap, err := Load("../testdata/topology/valid/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, ok := snap.Database(MySQL, "app")
	if !ok {
		t.Fatal("no mysql database app")
	}
	if _, ok := snap.Database(Postgres, "app"); ok {
		t.Error("found app under the wrong protocol")
	}
	if d.ReadPolicy != RoundRobin || d.MaxPerBackend != 20 || d.IdleTimeout != time.Minute || d.MaxReplicaLag != 0 {
		t.Errorf("defaults: %+v", d)
	}
	if d.Backend.Database != "app" {
		t.Errorf("backend database defaults to %q, want the logical name", d.Backend.Database)
	}
	if d.Unsharded != d.Shards[0] || d.Unsharded.Name != "-" {
		t.Errorf("unsharded shard = %v", d.Unsharded)
	}
	if u, ok := snap.User("app"); !ok || u.Password != "x" {
		t.Errorf("user app = %+v, %v", u, ok)
	}
	if snap.Source.SHA256 == "" || snap.Source.Path == "" {
		t.Errorf("source not recorded: %+v", snap.Source)
	}

	snap, err = Load("../testdata/topology/valid/unordered-ranges.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, _ = snap.Database(Postgres, "app")
	if d.Shards[0].Name != "-80" || d.Shards[1].Name != "80-" {
		t.Errorf("shards not ordered by range: %s, %s", d.Shards[0].Name, d.Shards[1].Name)
	}
	if d.Unsharded.Name != "80-" {
		t.Errorf("unsharded_shard written long-form resolved to %s", d.Unsharded.Name)
	}
	if w := d.Shards[1].Replicas[0].Weight; w != 0 {
		t.Errorf("explicit weight 0 became %d", w)
	}
	if d.MaxReplicaLag != 1500*time.Millisecond || d.ReadPolicy != ClientHash || d.MaxPerBackend != 5 {
		t.Errorf("explicit settings lost: %+v", d)
	}
	tab, ok := d.Table("t")
	if !ok || tab.Kind != Sharded || tab.Key != "k" || tab.KeyType != KeyString {
		t.Errorf("table t = %+v", tab)
	}
}

func TestPasswordFromEnv(t *testing.T) {
	t.Setenv("SG_TEST_PW", "from-env")
	yaml := `listen: { postgres: 127.0.0.1:1 }
users: [ { name: app, password_env: SG_TEST_PW } ]
databases:
  - { name: d, protocol: postgres, backend: { user: u, password_env: SG_TEST_PW }, shards: [ { keyrange: "-", primary: 127.0.0.1:2 } ] }
`
	snap, err := Parse("inline.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := snap.User("app")
	d, _ := snap.Database(Postgres, "d")
	if u.Password != "from-env" || d.Backend.Password != "from-env" {
		t.Errorf("passwords not read from the environment: %q %q", u.Password, d.Backend.Password)
	}
}

// Each invalid file states, in "# want:" lines, every problem it must
// produce; it must produce those and no others.
func TestInvalidFiles(t *testing.T) {
	files, _ := filepath.Glob("../testdata/topology/invalid/*.yaml")
	if len(files) < 12 {
		t.Fatalf("only %d invalid files", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			wants := WantLines(t, f)
			_, err := Load(f)
			var verr *ValidationError
			if !errors.As(err, &verr) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want a ValidationError", err)
			}
			if len(verr.Problems) != len(wants) {
				t.Errorf("%d problems, want %d:\n%v", len(verr.Problems), len(wants), err)
			}
			for _, w := range wants {
				if !strings.Contains(err.Error(), f+w) {
					t.Errorf("missing %q in:\n%v", f+w, err)
				}
			}
		})
	}
}

// WantLines reads the "# want: " lines of an invalid topology file.
func WantLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wants []string
	for _, line := range strings.Split(string(data), "\n") {
		if w, ok := strings.CutPrefix(line, "# want: "); ok {
			wants = append(wants, w)
		}
	}
	if len(wants) == 0 {
		t.Fatalf("%s has no # want: line", path)
	}
	return wants
}

func TestEmptyFile(t *testing.T) {
	_, err := Parse("empty.yaml", nil)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "no databases") {
		t.Errorf("empty file: %v", err)
	}
}

func TestHealthAndFallbackSettings(t *testing.T) {
	tests := []struct {
		file     string
		health   HealthSettings
		fallback ReplicaFallback
		ryw      time.Duration
		tx       TxMode
	}{
		{"minimal.yaml", HealthSettings{Interval: time.Second, Timeout: time.Second, Failures: 3, Recover: 2}, FallbackPrimary, 0, SingleShard},
		{"four-shards.yaml", HealthSettings{Interval: time.Second, Timeout: time.Second, Failures: 3, Recover: 2}, FallbackPrimary, 0, TwoPhase},
		{"health.yaml", HealthSettings{Interval: 250 * time.Millisecond, Timeout: 2 * time.Second, Failures: 5, Recover: 1}, FallbackError, 3 * time.Second, SingleShard},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			snap, err := Load("../testdata/topology/valid/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if snap.Health != tc.health {
				t.Errorf("health = %+v, want %+v", snap.Health, tc.health)
			}
			d := snap.Databases()[0]
			if d.ReplicaFallback != tc.fallback || d.ReadYourWrites != tc.ryw {
				t.Errorf("replica_fallback %q read_your_writes %v, want %q %v", d.ReplicaFallback, d.ReadYourWrites, tc.fallback, tc.ryw)
			}
			if d.Transactions != tc.tx {
				t.Errorf("transactions %q, want %q", d.Transactions, tc.tx)
			}
		})
	}
}
