package merge

import (
	"fmt"
	"io"
)

// cursor is one source's current row in the k-way merge, with its sort
// keys parsed once. prev holds the keys of the row before, to check that
// the source really is sorted.
type cursor struct {
	in         *input
	row        Row
	keys, prev []keyVal
	started    bool
	eof        bool
}

// heapMerge is the k-way merge of sources each sorted by p.order. It is a
// tournament (loser) tree over one row per source, so memory is
// O(sources) whatever the row count, and each row costs about log2(k)
// comparisons (a binary heap needs twice that). Ties go to the lower
// source index and a source's rows keep their order: the merge is
// stable.
type heapMerge struct {
	p       *plan
	in      []input
	cur     []cursor
	tree    []int // tree[0]: the winning source; tree[1:]: the loser at each match
	started bool
	// refill is the source whose row was returned last (-1: none): it is
	// advanced on the next call, not before, so reaching LIMIT pulls no
	// extra row.
	refill int
}

func (h *heapMerge) next() (Row, error) {
	if !h.started {
		if err := h.start(); err != nil {
			return nil, err
		}
	}
	if i := h.refill; i >= 0 {
		h.refill = -1
		if err := h.advance(i); err != nil {
			return nil, err
		}
		h.replay(i)
	}
	if len(h.cur) == 0 {
		return nil, io.EOF
	}
	w := h.tree[0]
	c := &h.cur[w]
	if c.eof {
		return nil, io.EOF // the best is an exhausted source: all are
	}
	h.refill = w
	r := c.row
	c.row = nil
	return r, nil
}

// start reads one row from every source and plays the tournament.
func (h *heapMerge) start() error {
	h.started, h.refill = true, -1
	k := len(h.in)
	h.cur = make([]cursor, k)
	keys := make([]keyVal, 2*k*len(h.p.order))
	for i := range h.cur {
		n := len(h.p.order)
		h.cur[i] = cursor{in: &h.in[i], keys: keys[2*i*n : (2*i+1)*n], prev: keys[(2*i+1)*n : (2*i+2)*n]}
		if err := h.advance(i); err != nil {
			return err
		}
	}
	if k == 0 {
		return nil
	}
	// winners[n] is the winner of the match at node n; leaves are k..2k-1.
	h.tree = make([]int, k)
	winners := make([]int, 2*k)
	for i := range k {
		winners[k+i] = i
	}
	for n := k - 1; n >= 1; n-- {
		a, b := winners[2*n], winners[2*n+1]
		if !h.beats(a, b) {
			a, b = b, a
		}
		winners[n], h.tree[n] = a, b
	}
	h.tree[0] = winners[1]
	return nil
}

// replay replays the matches from source i's leaf up to the root after
// its row changed.
func (h *heapMerge) replay(i int) {
	w := i
	for n := (len(h.cur) + i) / 2; n >= 1; n /= 2 {
		if h.beats(h.tree[n], w) {
			h.tree[n], w = w, h.tree[n]
		}
	}
	h.tree[0] = w
}

// beats reports whether source a's row comes before source b's; an
// exhausted source loses to everything.
func (h *heapMerge) beats(a, b int) bool {
	ca, cb := &h.cur[a], &h.cur[b]
	switch {
	case ca.eof:
		return false
	case cb.eof:
		return true
	}
	if c := cmpKeys(h.p.order, ca.keys, cb.keys); c != 0 {
		return c < 0
	}
	return a < b
}

// advance loads source i's next row and its keys, or marks it exhausted.
func (h *heapMerge) advance(i int) error {
	c := &h.cur[i]
	r, err := c.in.pull()
	if err == io.EOF {
		c.eof = true
		return nil
	}
	if err != nil {
		return err
	}
	c.keys, c.prev = c.prev, c.keys
	if err := parseKeys(h.p.order, r, c.keys); err != nil {
		return &SourceError{Source: c.in.index, Err: err}
	}
	if c.started && cmpKeys(h.p.order, c.keys, c.prev) < 0 {
		return &SourceError{Source: c.in.index, Err: fmt.Errorf("%w (%s)", ErrUnsorted, describeKeys(h.p.order, c.prev, c.keys))}
	}
	c.started = true
	c.row = r
	return nil
}

// parseKeys parses the sort key columns of r into keys.
func parseKeys(order []sortKey, r Row, keys []keyVal) error {
	for i, k := range order {
		if err := parseKey(k.t, k.coll, r[k.col], &keys[i]); err != nil {
			return fmt.Errorf("%w (column %d)", err, k.col)
		}
	}
	return nil
}

// cmpKeys orders two rows' parsed keys as ORDER BY does. NULL placement
// is as given, independent of the direction.
func cmpKeys(order []sortKey, a, b []keyVal) int {
	for i := range order {
		k, x, y := &order[i], &a[i], &b[i]
		if x.null || y.null {
			if x.null && y.null {
				continue
			}
			c := 1 // NULLS LAST
			if k.nullsFirst {
				c = -1
			}
			if y.null {
				c = -c
			}
			return c
		}
		c := cmpKey(k.t, x, y)
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// describeKeys names the first key on which two rows are out of order,
// for the ErrUnsorted message.
func describeKeys(order []sortKey, before, after []keyVal) string {
	for i, k := range order {
		if cmpKeys(order[i:i+1], after[i:i+1], before[i:i+1]) < 0 {
			return fmt.Sprintf("column %d: %s after %s", k.col, quoteKey(after[i]), quoteKey(before[i]))
		}
	}
	return "?"
}

func quoteKey(k keyVal) string {
	if k.null {
		return "NULL"
	}
	const max = 40
	if len(k.raw) > max {
		return fmt.Sprintf("%q...", k.raw[:max])
	}
	return fmt.Sprintf("%q", k.raw)
}
