package merge

import (
	"fmt"
	"io"
	"math/big"
	"slices"

	"github.com/shardgate/shardgate/router"
)

// groupStage reads every row, folds rows with the same GROUP BY values
// into one group, combines the aggregates of each group, sorts the groups
// when the query has ORDER BY, and then yields one row per group.
//
// Group values are compared as SQL compares them (see appendKeyValue):
// all NULLs form one group, numbers are equal by value (numeric 1.0 and
// 1.00, float -0 and 0), text by its bytes. Without ORDER BY, groups come
// out in the order they were first seen.
type groupStage struct {
	p      *plan
	in     concat
	b      *budget
	opt    Options
	index  map[string]int
	groups []group
	keyBuf []byte
	tmp    big.Int
	scr    keyVal
	out    []Row
	pos    int
	filled bool
}

// group is one group: its first row (group columns and anything else
// passed through, as MySQL's ANY_VALUE would) and one state per aggregate.
type group struct {
	first Row
	aggs  []aggState
}

func newGroupStage(p *plan, in []input, b *budget, opt Options) *groupStage {
	if opt.FormatFloat == nil {
		opt.FormatFloat = PostgresFloat
	}
	return &groupStage{p: p, in: concat{in: in}, b: b, opt: opt, index: map[string]int{}}
}

func (g *groupStage) next() (Row, error) {
	if !g.filled {
		if err := g.fill(); err != nil {
			return nil, err
		}
		g.filled = true
	}
	if g.pos >= len(g.out) {
		return nil, io.EOF
	}
	r := g.out[g.pos]
	g.out[g.pos] = nil
	g.pos++
	return r, nil
}

// fill reads all input, then builds (and sorts) the output rows.
func (g *groupStage) fill() error {
	for {
		r, err := g.in.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := g.add(r, g.in.in[g.in.i].index); err != nil {
			return err
		}
	}
	if len(g.groups) == 0 && len(g.p.group) == 0 {
		// An aggregate without GROUP BY has one row even over nothing:
		// COUNT 0, the others NULL. (Every shard returns that row, so
		// this is only reached with no sources at all.)
		g.groups = append(g.groups, group{first: make(Row, g.p.width), aggs: make([]aggState, len(g.p.aggs))})
	}
	g.out = make([]Row, len(g.groups))
	for i := range g.groups {
		g.out[i] = g.result(&g.groups[i])
		g.groups[i] = group{}
	}
	g.groups, g.index = nil, nil
	if len(g.p.having) > 0 {
		kept := g.out[:0]
		for _, r := range g.out {
			ok, err := passes(g.p.having, r)
			if err != nil {
				return err
			}
			if ok {
				kept = append(kept, r)
			}
		}
		clear(g.out[len(kept):])
		g.out = kept
	}
	if len(g.p.order) > 0 {
		return sortRows(g.p.order, g.out)
	}
	return nil
}

// add folds one input row into its group.
func (g *groupStage) add(r Row, src int) error {
	k := g.keyBuf[:0]
	for _, c := range g.p.group {
		var err error
		if k, err = appendKeyValue(k, g.p.types[c], r[c]); err != nil {
			return &SourceError{Source: src, Err: fmt.Errorf("%w (column %d)", err, c)}
		}
	}
	g.keyBuf = k
	i, ok := g.index[string(k)]
	if !ok {
		if err := g.b.take(1); err != nil {
			return fmt.Errorf("%w (GROUP BY)", err)
		}
		i = len(g.groups)
		g.index[string(k)] = i
		g.groups = append(g.groups, group{first: r, aggs: make([]aggState, len(g.p.aggs))})
	}
	grp := &g.groups[i]
	for j := range g.p.aggs {
		if err := g.fold(&grp.aggs[j], &g.p.aggs[j], r); err != nil {
			return &SourceError{Source: src, Err: err}
		}
	}
	return nil
}

// aggState is one aggregate of one group. There is one per aggregate
// per group, so the rarer, larger parts are pointers.
type aggState struct {
	i    intSum   // COUNT; SUM, AVG of Int/Uint
	n    intSum   // AVG: the count
	f    floatSum // SUM, AVG of Float, Float32
	d    *decSum  // SUM, AVG of Decimal
	best *keyVal  // MIN, MAX: the best non-NULL value so far
}

func (g *groupStage) fold(st *aggState, a *aggSpec, r Row) error {
	v := r[a.col]
	if a.coalesced && isZeroCount(r[a.countCol]) {
		return nil // this shard saw no value: v is the COALESCE default
	}
	switch a.fn {
	case router.AggMin, router.AggMax:
		if v == nil {
			return nil
		}
		if err := parseKey(a.t, a.coll, v, &g.scr); err != nil {
			return fmt.Errorf("%w (column %d)", err, a.col)
		}
		switch {
		case st.best == nil:
			st.best = new(keyVal)
			st.best.keep(&g.scr)
		case a.fn == router.AggMin && cmpKey(a.t, &g.scr, st.best) < 0,
			a.fn == router.AggMax && cmpKey(a.t, &g.scr, st.best) > 0:
			st.best.keep(&g.scr)
		}
		return nil
	case router.AggAvg:
		if err := g.addNumber(st, a.t, v); err != nil {
			return fmt.Errorf("%w (column %d)", err, a.col)
		}
		// The count is integer text whatever type the wire reported.
		if err := st.n.add(r[a.countCol], &g.tmp); err != nil {
			return fmt.Errorf("%w (column %d)", err, a.countCol)
		}
		return nil
	}
	if err := g.addNumber(st, a.t, v); err != nil {
		return fmt.Errorf("%w (column %d)", err, a.col)
	}
	return nil
}

// addNumber adds v to the sum for type t; NULL adds nothing.
func (g *groupStage) addNumber(st *aggState, t Type, v []byte) error {
	if v == nil {
		return nil
	}
	switch t {
	case Decimal:
		var d decView
		if !scanDecimal(v, &d) {
			return badValue(t, v)
		}
		if st.d == nil {
			st.d = new(decSum)
		}
		st.d.add(&d, &g.tmp)
		return nil
	case Float, Float32:
		f, ok := parseFloat(v, t)
		if !ok {
			return badValue(t, v)
		}
		st.f.add(f, t)
		return nil
	}
	return st.i.add(v, &g.tmp)
}

// result builds the output row of a group: its first row with each
// aggregate column replaced by the combined value. A coalesced aggregate
// that saw no value anywhere takes the default, as the first row's shard
// printed it.
func (g *groupStage) result(grp *group) Row {
	r := slices.Clone(grp.first)
	for j := range g.p.aggs {
		a, st := &g.p.aggs[j], &grp.aggs[j]
		var v []byte
		switch a.fn {
		case router.AggMin, router.AggMax:
			if st.best != nil {
				v = st.best.raw
			}
		case router.AggCount:
			if v = g.sumText(st, a.t); v == nil {
				v = []byte("0")
			}
		case router.AggSum:
			v = g.sumText(st, a.t)
		case router.AggAvg:
			v = g.avgText(st, a.t)
			r[a.countCol] = st.n.text()
		}
		if v == nil && a.coalesced {
			v = r[a.defaultCol]
		}
		r[a.col] = v
	}
	return r
}

// isZeroCount reports whether a COUNT's text is 0.
func isZeroCount(v []byte) bool {
	return len(v) == 1 && v[0] == '0'
}

// sumText prints a sum of type t; nil (NULL) when no value was added.
func (g *groupStage) sumText(st *aggState, t Type) []byte {
	switch t {
	case Decimal:
		if st.d == nil {
			return nil
		}
		if st.d.special != decFinite {
			return appendSpecial(nil, st.d.special)
		}
		return appendDecimal(nil, &st.d.v, st.d.scale)
	case Float, Float32:
		if !st.f.seen {
			return nil
		}
		bits := 64
		if t == Float32 {
			bits = 32
		}
		return g.opt.FormatFloat(nil, st.f.sum, bits)
	}
	if !st.i.seen {
		return nil
	}
	return st.i.text()
}

// avgText divides an AVG's total sum by its total count: NULL when the
// count is 0, exact decimal text for exact sums (see avgScale), a float
// for float sums.
func (g *groupStage) avgText(st *aggState, t Type) []byte {
	count := st.n.big()
	if count.Sign() <= 0 {
		return nil
	}
	switch t {
	case Float, Float32:
		if !st.f.seen {
			return nil
		}
		c, _ := new(big.Float).SetInt(count).Float64()
		return g.opt.FormatFloat(nil, st.f.sum/c, 64) // AVG of real is double
	case Decimal:
		if st.d == nil {
			return nil
		}
		if st.d.special != decFinite {
			return appendSpecial(nil, st.d.special)
		}
		return g.divide(&st.d.v, st.d.scale, count)
	}
	if !st.i.seen {
		return nil
	}
	return g.divide(st.i.big(), 0, count)
}

func (g *groupStage) divide(sum *big.Int, sumScale int, count *big.Int) []byte {
	scale := avgScale(sum, sumScale, count, g.opt.AvgScale)
	return appendDecimal(nil, avgQuotient(sum, sumScale, count, scale, g.opt.AvgScale), scale)
}

// sortRows sorts grouped rows by ORDER BY, stably. Keys are parsed once.
func sortRows(order []sortKey, rows []Row) error {
	type keyed struct {
		keys []keyVal
		row  Row
	}
	all := make([]keyVal, len(rows)*len(order))
	ks := make([]keyed, len(rows))
	for i, r := range rows {
		ks[i] = keyed{keys: all[i*len(order) : (i+1)*len(order)], row: r}
		if err := parseKeys(order, r, ks[i].keys); err != nil {
			return err
		}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return cmpKeys(order, a.keys, b.keys) })
	for i := range ks {
		rows[i] = ks[i].row
	}
	return nil
}
