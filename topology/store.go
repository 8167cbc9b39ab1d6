package topology

import (
	"sync"
	"sync/atomic"
)

// Store holds the topology in force. Readers take Current() once per query
// and keep using that snapshot until they finish, so a reload never changes
// the ground under an in-flight query or transaction.
type Store struct {
	path string
	cur  atomic.Pointer[Snapshot]
	mu   sync.Mutex // one reload at a time
}

// NewStore loads the file; it fails if the file is invalid, since there is
// no older snapshot to fall back on.
func NewStore(path string) (*Store, error) {
	snap, err := Load(path)
	if err != nil {
		return nil, err
	}
	s := &Store{path: path}
	s.cur.Store(snap)
	return s, nil
}

// NewStoreFrom wraps an already built snapshot (tests, embedded use).
func NewStoreFrom(path string, snap *Snapshot) *Store {
	s := &Store{path: path}
	s.cur.Store(snap)
	return s
}

// Current is the snapshot in force; never nil.
func (s *Store) Current() *Snapshot { return s.cur.Load() }

// Reload reads the file again. A valid file replaces the snapshot
// atomically and is returned; an invalid one is refused with its problems
// and the snapshot in force stays.
func (s *Store) Reload() (*Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, err := Load(s.path)
	if err != nil {
		return nil, err
	}
	s.cur.Store(snap)
	return snap, nil
}

// Path is the file the store reloads from.
func (s *Store) Path() string { return s.path }
