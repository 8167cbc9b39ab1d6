package topology

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"time"
)

// Watch reloads s when its file changes on disk and on every value from
// hup (the caller owns signal.Notify; a nil hup is never ready).
//
// The file is polled every interval: its size, mtime and SHA-256. A change
// is applied only once the file has stayed the same for settle, so an
// editor writing in several steps or a slow cp is never read half-written.
// Content whose hash is the snapshot in force is not reloaded (a touch,
// or a file reverted after a refused edit), nor is content already
// refused: a bad file is reported once, not at every poll. A signal
// reloads at once, whatever the file looks like. interval <= 0 turns
// polling off.
//
// report, if not nil, is called after every attempt: with the new
// snapshot and a nil error, or with a nil snapshot and the reason the
// file was refused (a *ValidationError lists every problem); the snapshot
// in force then keeps serving. Watch returns when ctx ends.
func Watch(ctx context.Context, s *Store, interval, settle time.Duration, hup <-chan os.Signal, report func(*Snapshot, error)) {
	w := newWatcher(s, settle, report, time.Now)
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			w.poll()
		case <-hup:
			w.reload(w.observe())
		}
	}
}

// fileState is what one poll saw of the file.
type fileState struct {
	readable bool
	size     int64
	mtime    time.Time
	sha256   string // hex, like Source.SHA256
}

// watcher is the polling state of Watch, driven by poll and reload so
// tests can step it with their own clock.
type watcher struct {
	store  *Store
	settle time.Duration
	report func(*Snapshot, error)
	now    func() time.Time

	seen      fileState // at the last poll
	changedAt time.Time // when seen last changed
	refused   fileState // content of the last refused attempt
	anyRefuse bool      // refused is set
	failing   bool      // the last reload attempt failed
}

func newWatcher(s *Store, settle time.Duration, report func(*Snapshot, error), now func() time.Time) *watcher {
	if report == nil {
		report = func(*Snapshot, error) {}
	}
	w := &watcher{store: s, settle: max(settle, 0), report: report, now: now}
	w.seen, w.changedAt = w.observe(), now()
	return w
}

func (w *watcher) observe() fileState {
	path := w.store.Path()
	info, err := os.Stat(path)
	if err != nil {
		return fileState{}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fileState{}
	}
	sum := sha256.Sum256(data)
	return fileState{readable: true, size: info.Size(), mtime: info.ModTime(), sha256: hex.EncodeToString(sum[:])}
}

func (a fileState) equal(b fileState) bool {
	return sameContent(a, b) && a.size == b.size && a.mtime.Equal(b.mtime)
}

// sameContent says whether two observations hold the same bytes (or are
// both unreadable), whatever their mtimes.
func sameContent(a, b fileState) bool {
	return a.readable == b.readable && a.sha256 == b.sha256
}

// poll looks at the file once and reloads it if it changed and has been
// stable for settle.
func (w *watcher) poll() {
	now := w.now()
	if cur := w.observe(); !cur.equal(w.seen) {
		w.seen, w.changedAt = cur, now
		if w.anyRefuse && !sameContent(cur, w.refused) {
			w.anyRefuse = false // different content: worth an attempt again
		}
	}
	if now.Sub(w.changedAt) < w.settle {
		return // still being written, or too recently to tell
	}
	if cur := w.store.Current(); w.seen.readable && w.seen.sha256 == cur.Source.SHA256 {
		if w.failing {
			// A refused edit was reverted: the file is the topology in
			// force again, which is a success to report (the reload
			// failure metric clears) without reloading anything.
			w.failing = false
			w.report(cur, nil)
		}
		return // already in force
	}
	if w.anyRefuse && sameContent(w.seen, w.refused) {
		return // already reported
	}
	w.reload(w.seen)
}

// reload asks the store to reload and reports the outcome. before is the
// file as observed just before: if it changes while the store reads it,
// the newer content differs from what is marked refused and gets its own
// attempt, so no version is ever skipped.
func (w *watcher) reload(before fileState) {
	snap, err := w.store.Reload()
	w.refused, w.anyRefuse, w.failing = before, err != nil, err != nil
	w.report(snap, err)
}
