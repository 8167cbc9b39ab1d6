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
}

// heapMerge is the k-way merge of sources each sorted by p.order: a
// binary min-heap holding one row per source, so memory is O(sources)
// whatever the row count. Ties go to the lower source index, and a
// source's rows keep their order, so the merge is stable.
type heapMerge struct {
	p       *plan
	in      []input
	heap    []*cursor
	started bool
	// refill is the cursor whose row was returned last: it is advanced
	// on the next call, not before, so reaching LIMIT pulls no extra row.
	refill *cursor
}

func (h *heapMerge) next() (Row, error) {
	if !h.started {
		h.started = true
		h.heap = make([]*cursor, 0, len(h.in))
		for i := range h.in {
			c := &cursor{in: &h.in[i], keys: make([]keyVal, len(h.p.order)), prev: make([]keyVal, len(h.p.order))}
			ok, err := h.advance(c)
			if err != nil {
				return nil, err
			}
			if ok {
				h.heap = append(h.heap, c)
			}
		}
		for i := len(h.heap)/2 - 1; i >= 0; i-- {
			h.down(i)
		}
	}
	if c := h.refill; c != nil {
		h.refill = nil
		ok, err := h.advance(c)
		if err != nil {
			return nil, err
		}
		if !ok {
			last := len(h.heap) - 1
			h.heap[0] = h.heap[last]
			h.heap[last] = nil
			h.heap = h.heap[:last]
		}
		h.down(0)
	}
	if len(h.heap) == 0 {
		return nil, io.EOF
	}
	top := h.heap[0]
	h.refill = top
	r := top.row
	top.row = nil
	return r, nil
}

// advance loads c's next row and its keys; false at the source's end.
func (h *heapMerge) advance(c *cursor) (bool, error) {
	r, err := c.in.pull()
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	c.keys, c.prev = c.prev, c.keys
	if err := parseKeys(h.p.order, r, c.keys); err != nil {
		return false, &SourceError{Source: c.in.index, Err: err}
	}
	if c.started && cmpKeys(h.p.order, c.keys, c.prev) < 0 {
		return false, &SourceError{Source: c.in.index, Err: fmt.Errorf("%w (%s)", ErrUnsorted, describeKeys(h.p.order, c.prev, c.keys))}
	}
	c.started = true
	c.row = r
	return true, nil
}

func (h *heapMerge) less(a, b *cursor) bool {
	if c := cmpKeys(h.p.order, a.keys, b.keys); c != 0 {
		return c < 0
	}
	return a.in.index < b.in.index
}

// down restores the heap property from i downwards.
func (h *heapMerge) down(i int) {
	n := len(h.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(h.heap[r], h.heap[l]) {
			m = r
		}
		if !h.less(h.heap[m], h.heap[i]) {
			return
		}
		h.heap[i], h.heap[m] = h.heap[m], h.heap[i]
		i = m
	}
}

// parseKeys parses the sort key columns of r into keys.
func parseKeys(order []sortKey, r Row, keys []keyVal) error {
	for i, k := range order {
		if err := parseKey(k.t, r[k.col], &keys[i]); err != nil {
			return fmt.Errorf("column %d: %w", k.col, err)
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
