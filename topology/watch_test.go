package topology

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// watchContents are the file versions the watch tests write: three valid
// ones that differ only in a comment, and an invalid one.
func watchContents(t *testing.T) map[string]string {
	t.Helper()
	valid, err := os.ReadFile("../testdata/topology/valid/four-shards.yaml")
	if err != nil {
		t.Fatal(err)
	}
	invalid, err := os.ReadFile("../testdata/topology/invalid/overlap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"v1":  string(valid),
		"v2":  string(valid) + "# v2\n",
		"v3":  string(valid) + "# v3\n",
		"v4":  string(valid) + "# v4\n",
		"bad": string(invalid),
	}
}

func newWatchedStore(t *testing.T, content string) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "topology.yaml")
	writeFile(t, path, content)
	s, err := NewStore(path)
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

// touch moves the file's mtime forward without changing its bytes.
func touch(t *testing.T, path string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	later := info.ModTime().Add(time.Second)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
}

// The watcher stepped by hand, with its own clock: each step changes the
// file, moves the clock, polls (or signals) and checks what was reported
// and which version is in force.
func TestWatcherSteps(t *testing.T) {
	const settle = 100 * time.Millisecond
	type step struct {
		write   string        // version to write, if any
		touch   bool          // move mtime, same bytes
		remove  bool          // delete the file
		advance time.Duration // clock moves before the poll
		hup     bool          // signal instead of poll
		report  string        // "", "ok" or "error"
		current string        // version in force after the step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"change applied once stable", []step{
			{write: "v2", report: "", current: "v1"},
			{advance: 50 * time.Millisecond, current: "v1"},
			{advance: 50 * time.Millisecond, report: "ok", current: "v2"},
			{advance: settle, current: "v2"},
		}},
		{"touch without change", []step{
			{touch: true, current: "v1"},
			{advance: settle, current: "v1"},
			{advance: settle, current: "v1"},
		}},
		{"invalid refused and reported once", []step{
			{write: "bad", current: "v1"},
			{advance: settle, report: "error", current: "v1"},
			{advance: settle, current: "v1"},
			{touch: true, advance: settle, current: "v1"},
			{advance: settle, current: "v1"},
			{write: "v2", advance: settle, current: "v1"},
			{advance: settle, report: "ok", current: "v2"},
		}},
		{"revert after refusal, then the same bad edit again", []step{
			{write: "bad", advance: settle},
			{advance: settle, report: "error", current: "v1"},
			{write: "v1", advance: settle},
			{advance: settle, report: "ok", current: "v1"}, // the failure clears
			{advance: settle, current: "v1"},
			{write: "bad", advance: settle},
			{advance: settle, report: "error", current: "v1"},
		}},
		{"rapid writes: one reload of the last", []step{
			{write: "v2", advance: 10 * time.Millisecond},
			{write: "v3", advance: 10 * time.Millisecond},
			{write: "bad", advance: 10 * time.Millisecond},
			{write: "v4", advance: 10 * time.Millisecond},
			{advance: 60 * time.Millisecond, current: "v1"},
			{advance: 40 * time.Millisecond, report: "ok", current: "v4"},
			{advance: settle, current: "v4"},
		}},
		{"signal reloads at once", []step{
			{write: "v2", hup: true, report: "ok", current: "v2"},
			{advance: settle, current: "v2"},
			{hup: true, report: "ok", current: "v2"}, // unchanged: reloads anyway
		}},
		{"signal with an invalid file", []step{
			{write: "bad", hup: true, report: "error", current: "v1"},
			{advance: settle, current: "v1"},
			{hup: true, report: "error", current: "v1"},
		}},
		{"file removed", []step{
			{remove: true, current: "v1"},
			{advance: settle, report: "error", current: "v1"},
			{advance: settle, current: "v1"},
			{write: "v1", advance: settle, current: "v1"},
			{advance: settle, report: "ok", current: "v1"},
			{remove: true, advance: settle},
			{advance: settle, report: "error", current: "v1"},
		}},
	}
	contents := watchContents(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, path := newWatchedStore(t, contents["v1"])
			now := time.Unix(1_700_000_000, 0)
			var reports []error
			var snaps []*Snapshot
			w := newWatcher(s, settle, func(snap *Snapshot, err error) {
				if (snap == nil) == (err == nil) {
					t.Errorf("report(%v, %v): want exactly one of snapshot and error", snap, err)
				}
				snaps, reports = append(snaps, snap), append(reports, err)
			}, func() time.Time { return now })
			for i, st := range tt.steps {
				switch {
				case st.write != "":
					writeFile(t, path, contents[st.write])
				case st.touch:
					touch(t, path)
				case st.remove:
					if err := os.Remove(path); err != nil {
						t.Fatal(err)
					}
				}
				now = now.Add(st.advance)
				before := len(reports)
				if st.hup {
					w.reload(w.observe())
				} else {
					w.poll()
				}
				got := ""
				switch n := len(reports) - before; {
				case n > 1:
					t.Fatalf("step %d: %d reports, want at most 1", i, n)
				case n == 1 && reports[before] == nil:
					got = "ok"
					if snaps[before] != s.Current() {
						t.Errorf("step %d: reported snapshot is not the one in force", i)
					}
				case n == 1:
					got = "error"
				}
				if got != st.report {
					t.Fatalf("step %d: report %q (%v), want %q", i, got, reports[before:], st.report)
				}
				if st.current != "" && s.Current().Source.SHA256 != sha(contents[st.current]) {
					t.Fatalf("step %d: version in force is not %s", i, st.current)
				}
			}
		})
	}
}

func sha(s string) string {
	snap, err := Parse("x", []byte(s))
	if err != nil {
		panic(err)
	}
	return snap.Source.SHA256
}

// replaceFile swaps in new content atomically, as a ConfigMap update or
// an editor's save-by-rename does, so a poll never sees it half-written
// however slow the machine.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	writeFile(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

type watchReport struct {
	snap *Snapshot
	err  error
}

// startWatch runs Watch in the background; the returned channel carries
// its reports, and cleanup waits for it to return.
func startWatch(t *testing.T, s *Store, interval, settle time.Duration, hup <-chan os.Signal) <-chan watchReport {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reports := make(chan watchReport, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Watch(ctx, s, interval, settle, hup, func(snap *Snapshot, err error) {
			reports <- watchReport{snap, err}
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Watch did not return after its context ended")
		}
	})
	return reports
}

func nextReport(t *testing.T, reports <-chan watchReport) watchReport {
	t.Helper()
	select {
	case r := <-reports:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no reload reported within 10s")
		return watchReport{}
	}
}

func TestWatchReloadsChangedFile(t *testing.T) {
	contents := watchContents(t)
	s, path := newWatchedStore(t, contents["v1"])
	first := s.Current()
	reports := startWatch(t, s, 5*time.Millisecond, 20*time.Millisecond, nil)

	replaceFile(t, path, contents["v2"])
	r := nextReport(t, reports)
	if r.err != nil || r.snap == nil || r.snap != s.Current() || r.snap.Source.SHA256 != sha(contents["v2"]) {
		t.Fatalf("valid change: report %+v", r)
	}

	replaceFile(t, path, contents["bad"])
	r = nextReport(t, reports)
	var verr *ValidationError
	if r.snap != nil || !errors.As(r.err, &verr) || len(verr.Problems) == 0 {
		t.Fatalf("invalid change: report %+v", r)
	}
	if s.Current().Source.SHA256 != sha(contents["v2"]) || s.Current() == first {
		t.Fatal("invalid change replaced the snapshot in force")
	}
}

func TestWatchReloadsOnSignal(t *testing.T) {
	contents := watchContents(t)
	s, _ := newWatchedStore(t, contents["v1"])
	first := s.Current()
	hup := make(chan os.Signal, 1)
	reports := startWatch(t, s, 5*time.Millisecond, 20*time.Millisecond, hup)

	hup <- syscall.SIGHUP
	r := nextReport(t, reports)
	if r.err != nil || r.snap == first || r.snap != s.Current() || r.snap.Source.SHA256 != first.Source.SHA256 {
		t.Fatalf("signal: report %+v", r)
	}
}

func TestWatchWithoutPolling(t *testing.T) {
	contents := watchContents(t)
	s, path := newWatchedStore(t, contents["v1"])
	hup := make(chan os.Signal, 1)
	reports := startWatch(t, s, 0, 0, hup)

	writeFile(t, path, contents["v2"]) // not polled: only the signal loads it
	hup <- syscall.SIGHUP
	if r := nextReport(t, reports); r.err != nil || r.snap.Source.SHA256 != sha(contents["v2"]) {
		t.Fatalf("report %+v", r)
	}
	select {
	case r := <-reports:
		t.Fatalf("unexpected second report %+v", r)
	default:
	}
}
