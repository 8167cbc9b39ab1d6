package topology

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

func writeFile(t *testing.T, path, src string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestStoreKeepsValidSnapshotOnInvalidReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "topology.yaml")
	valid, err := os.ReadFile("../testdata/topology/valid/four-shards.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(valid))
	store, err := NewStore(path)
	if err != nil {
		t.Fatal(err)
	}
	first := store.Current()

	// A valid edit (a fifth server) is swapped in.
	edited := string(valid) + "      # edited\n"
	writeFile(t, path, edited)
	second, err := store.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if store.Current() != second || second == first || second.Source.SHA256 == first.Source.SHA256 {
		t.Fatal("a valid reload did not replace the snapshot")
	}

	// An invalid edit is refused and the previous snapshot stays.
	invalid, err := os.ReadFile("../testdata/topology/invalid/overlap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(invalid))
	got, err := store.Reload()
	if !errors.Is(err, ErrInvalid) || got != nil {
		t.Fatalf("invalid reload: snapshot %v, err %v", got, err)
	}
	if store.Current() != second {
		t.Fatal("invalid reload replaced the snapshot in force")
	}
	if _, ok := store.Current().Database(Postgres, "ref"); !ok {
		t.Fatal("snapshot in force lost its database")
	}

	// A file that disappears is refused too.
	os.Remove(path)
	if _, err := store.Reload(); err == nil || store.Current() != second {
		t.Fatal("missing file replaced the snapshot")
	}
}

func TestStoreInvalidAtStart(t *testing.T) {
	if _, err := NewStore("../testdata/topology/invalid/gap.yaml"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
}

// Readers never see a nil or half-built snapshot while reloads run.
func TestStoreConcurrentReaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.yaml")
	valid, _ := os.ReadFile("../testdata/topology/valid/four-shards.yaml")
	writeFile(t, path, string(valid))
	store, err := NewStore(path)
	if err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				d, ok := store.Current().Database(Postgres, "ref")
				if !ok || len(d.Shards) != 4 {
					bad.Add(1)
				}
			}
		}()
	}
	for range 50 {
		if _, err := store.Reload(); err != nil {
			t.Error(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d reads saw a broken snapshot", bad.Load())
	}
}
