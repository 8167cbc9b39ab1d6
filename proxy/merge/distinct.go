package merge

import "fmt"

// distinct drops rows whose visible columns equal those of a row already
// returned, as SQL compares them (see appendKeyValue: NULL equals NULL
// for DISTINCT and UNION, numbers by value, text by bytes). It streams:
// a row is returned when first seen.
//
// The seen set holds one key per distinct row, bounded by the budget.
// When the input is sorted (ORDER BY) and every sort key is a visible
// column, duplicates share their sort keys and so arrive within one run
// of equal keys: the set is then emptied at every change of key, and
// memory is bounded by the longest run instead of the whole result.
type distinct struct {
	up      stage
	b       *budget
	visible int
	types   []Type
	seen    map[string]struct{}
	buf     []byte
	// runs: the set is per run of equal sort keys (see above).
	runs       bool
	order      []sortKey
	keys, prev []keyVal
	started    bool
	peak       int // the most keys the current map has held
}

func newDistinct(p *plan, up stage, b *budget) *distinct {
	d := &distinct{up: up, b: b, visible: p.visible, types: p.types, seen: map[string]struct{}{}}
	if len(p.order) > 0 {
		d.runs = true
		for _, k := range p.order {
			if k.col >= p.visible {
				d.runs = false
			}
		}
	}
	if d.runs {
		d.order = p.order
		d.keys = make([]keyVal, len(p.order))
		d.prev = make([]keyVal, len(p.order))
	}
	return d
}

func (d *distinct) next() (Row, error) {
	for {
		r, err := d.up.next()
		if err != nil {
			return nil, err
		}
		if d.runs {
			// Upstream already parsed these keys successfully.
			d.keys, d.prev = d.prev, d.keys
			if err := parseKeys(d.order, r, d.keys); err != nil {
				return nil, err
			}
			if d.started && cmpKeys(d.order, d.keys, d.prev) != 0 {
				d.reset()
			}
			d.started = true
		}
		k := d.buf[:0]
		for c, v := range r[:d.visible] {
			if k, err = appendKeyValue(k, d.types[c], v); err != nil {
				return nil, fmt.Errorf("%w (column %d)", err, c)
			}
		}
		d.buf = k
		if _, dup := d.seen[string(k)]; dup {
			continue
		}
		if err := d.b.take(1); err != nil {
			return nil, fmt.Errorf("%w (DISTINCT)", err)
		}
		d.seen[string(k)] = struct{}{}
		d.peak = max(d.peak, len(d.seen))
		return r, nil
	}
}

// reset empties the seen set at a change of sort key. Clearing a map
// costs its capacity, not its length, so a map that once held a long run
// is dropped rather than cleared at every later (short) run.
func (d *distinct) reset() {
	d.b.release(len(d.seen))
	if d.peak > 64 {
		d.seen, d.peak = map[string]struct{}{}, 0
		return
	}
	clear(d.seen)
}
