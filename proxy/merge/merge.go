// Package merge combines the rows of a scatter SELECT's shards into the
// one result a single database would have returned, following the
// router's *router.Merge: a k-way merge for ORDER BY, grouping and
// aggregate combination, DISTINCT, then OFFSET and LIMIT, and finally the
// removal of the columns the rewrite added.
//
// It is protocol-neutral: values are the protocol's text bytes and a Type
// per column says how to compare and add them. It starts no goroutines:
// the caller's Sources are pulled synchronously, one row at a time, and
// memory stays bounded (one row per source for an ordered merge; at most
// Options.MaxRows for groups, DISTINCT and sort buffers).
package merge

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/shardgate/shardgate/router"
)

// Row is one result row: one value per column, nil for SQL NULL (an empty
// non-nil value is the empty string). Values are the protocol's text
// bytes (PostgreSQL text format, MySQL text protocol). Rows handed to the
// merger are owned by it (a Source must not reuse their memory). Rows it
// returns are the caller's to keep, but their values must not be modified:
// the merger compares the next row with the one it returned before.
type Row [][]byte

// Source yields one shard's rows in order; io.EOF ends it.
type Source interface {
	Next() (Row, error)
}

// Options bound and tune a Merger.
type Options struct {
	// MaxRows is how many rows the merger may hold at once, summed over
	// its group table, DISTINCT set and sort buffer. 0 means 100000; a
	// negative value means no limit. Past it: ErrTooManyRows.
	MaxRows int
	// AvgScale chooses the fractional digits of a merged AVG over exact
	// numbers. 0 (the default) is PostgreSQL's rule: 16 significant
	// digits, at least the sum's scale (avg of 2 and 3 is
	// 2.5000000000000000). n > 0 is MySQL's rule: the sum's scale plus n
	// (with MySQL's rounding, see avgQuotient); the MySQL proxy sets 4,
	// the default div_precision_increment, so AVG of integers prints
	// 2.5000.
	AvgScale int
	// Collation orders TextLocale columns; nil orders them bytewise.
	Collation Collation
	// FormatFloat prints SUM and AVG results of Float and Float32
	// columns; nil is PostgresFloat.
	FormatFloat FormatFloat
}

// DefaultMaxRows is MaxRows when Options leave it 0.
const DefaultMaxRows = 100000

var (
	// ErrTooManyRows: the merge would hold more rows than Options.MaxRows.
	ErrTooManyRows = errors.New("merge: too many rows to hold in memory while merging shards (add the sharding key to the WHERE clause to run on one shard, add a LIMIT or a more selective WHERE, or raise the merge row limit)")
	// ErrBadValue: a value does not parse as its column's Type.
	ErrBadValue = errors.New("merge: value does not parse as its column type")
	// ErrBadSpec: the merge spec or column types are inconsistent.
	ErrBadSpec = errors.New("merge: invalid merge spec")
	// ErrBadRow: a shard returned a row with the wrong number of columns.
	ErrBadRow = errors.New("merge: row has the wrong number of columns")
	// ErrUnsorted: a shard's rows are not in the ORDER BY order as this
	// package compares them (typically a text column under a collation
	// other than bytewise): merging would return a wrongly ordered
	// result, so the merge stops instead.
	ErrUnsorted = errors.New("merge: rows not in ORDER BY order as the proxy compares them")
)

// SourceError is an error returned by one Source, with its index in the
// sources given to New.
type SourceError struct {
	Source int
	Err    error
}

func (e *SourceError) Error() string {
	return fmt.Sprintf("merge: source %d: %s", e.Source, strings.TrimPrefix(e.Err.Error(), "merge: "))
}

func (e *SourceError) Unwrap() error { return e.Err }

// Merger yields the merged rows. It is not safe for concurrent use.
type Merger struct {
	out     stage
	visible int
	err     error // sticky: io.EOF or the first error
}

// stage is one step of the pipeline; each pulls from the one before.
type stage interface {
	next() (Row, error)
}

// New starts merging the sources as spec says. types[i] is the type of
// column i of the shards' rows, hidden columns included, so len(types) is
// the width every row must have. A nil spec concatenates the sources.
// Nothing is read before the first call to Next.
func New(spec *router.Merge, types []Type, sources []Source, opt Options) (*Merger, error) {
	if spec == nil {
		spec = &router.Merge{Limit: -1}
	}
	p, err := compile(spec, types, opt.Collation)
	if err != nil {
		return nil, err
	}
	b := &budget{max: opt.MaxRows}
	if b.max == 0 {
		b.max = DefaultMaxRows
	}
	in := make([]input, len(sources))
	for i, s := range sources {
		in[i] = input{src: s, index: i, width: len(types)}
	}
	var s stage
	switch {
	case p.grouping:
		s = newGroupStage(p, in, b, opt)
	case len(p.order) > 0:
		s = &heapMerge{p: p, in: in}
	default:
		s = &concat{in: in}
	}
	if spec.Distinct {
		s = newDistinct(p, s, b)
	}
	if spec.Offset > 0 || spec.Limit >= 0 {
		s = &limiter{up: s, offset: spec.Offset, limit: spec.Limit}
	}
	return &Merger{out: s, visible: p.visible}, nil
}

// Next returns the next row for the client, without the hidden columns,
// or io.EOF. After an error every call returns the same error.
func (m *Merger) Next() (Row, error) {
	if m.err != nil {
		return nil, m.err
	}
	r, err := m.out.next()
	if err != nil {
		m.err = err
		return nil, err
	}
	return r[:m.visible:m.visible], nil
}

// Columns is how many columns the client sees: the shards' columns minus
// the hidden ones.
func (m *Merger) Columns() int { return m.visible }

// plan is the spec with column indexes resolved and checked.
type plan struct {
	width, visible int
	types          []Type
	order          []sortKey
	group          []int
	aggs           []aggSpec
	having         []havingSpec
	grouping       bool
}

type sortKey struct {
	col        int
	t          Type
	coll       Collation // TextLocale
	desc       bool
	nullsFirst bool
}

type aggSpec struct {
	col      int
	fn       router.Aggregate
	t        Type
	coll     Collation // TextLocale
	countCol int       // AVG, and a coalesced aggregate's count of values
	// coalesced: the shards return COALESCE(agg, default); a row whose
	// count is 0 holds the default, not a value (see router.AggColumn).
	coalesced  bool
	defaultCol int
}

// compile checks spec against the row width and resolves negative column
// indexes (counted from the end, as the router writes them for SELECT *).
func compile(spec *router.Merge, types []Type, coll Collation) (*plan, error) {
	w := len(types)
	p := &plan{width: w, types: types}
	for i, t := range types {
		if !t.valid() {
			return nil, fmt.Errorf("%w: column %d has unknown type %d", ErrBadSpec, i, t)
		}
	}
	if spec.Hidden < 0 || spec.Hidden > w {
		return nil, fmt.Errorf("%w: %d hidden columns of %d", ErrBadSpec, spec.Hidden, w)
	}
	if spec.Offset < 0 {
		return nil, fmt.Errorf("%w: negative OFFSET %d", ErrBadSpec, spec.Offset)
	}
	p.visible = w - spec.Hidden
	col := func(c int, what string) (int, error) {
		if c < 0 {
			c += w
		}
		if c < 0 || c >= w {
			return 0, fmt.Errorf("%w: %s column %d out of range for %d columns", ErrBadSpec, what, c, w)
		}
		return c, nil
	}
	for _, k := range spec.OrderBy {
		c, err := col(k.Column, "ORDER BY")
		if err != nil {
			return nil, err
		}
		p.order = append(p.order, sortKey{col: c, t: types[c], coll: coll, desc: k.Desc, nullsFirst: k.NullsFirst})
	}
	for _, g := range spec.GroupBy {
		c, err := col(g, "GROUP BY")
		if err != nil {
			return nil, err
		}
		p.group = append(p.group, c)
	}
	for _, a := range spec.Aggregates {
		c, err := col(a.Column, "aggregate")
		if err != nil {
			return nil, err
		}
		s := aggSpec{col: c, fn: a.Func, t: types[c], coll: coll, countCol: -1, coalesced: a.Coalesced}
		switch a.Func {
		case router.AggMin, router.AggMax:
		case router.AggCount, router.AggSum, router.AggAvg:
			if !s.t.numeric() {
				return nil, fmt.Errorf("%w: cannot add values of column %d (type %s)", ErrBadSpec, c, s.t)
			}
		default:
			return nil, fmt.Errorf("%w: aggregate %d of column %d cannot be merged", ErrBadSpec, a.Func, c)
		}
		if a.Func == router.AggAvg || a.Coalesced {
			if s.countCol, err = col(a.CountColumn, "aggregate count"); err != nil {
				return nil, err
			}
		}
		if a.Coalesced {
			if s.defaultCol, err = col(a.DefaultColumn, "COALESCE default"); err != nil {
				return nil, err
			}
		}
		p.aggs = append(p.aggs, s)
	}
	for _, h := range spec.Having {
		c, err := col(h.Column, "HAVING")
		if err != nil {
			return nil, err
		}
		hs, err := newHaving(h, c, types[c])
		if err != nil {
			return nil, err
		}
		p.having = append(p.having, hs)
	}
	p.grouping = len(p.aggs) > 0 || len(p.group) > 0 || len(p.having) > 0
	return p, nil
}

// input is one source, pulled with its errors attributed and its row
// width checked.
type input struct {
	src   Source
	index int
	width int
	done  bool
}

// pull returns the source's next row, io.EOF at its end.
func (in *input) pull() (Row, error) {
	if in.done {
		return nil, io.EOF
	}
	r, err := in.src.Next()
	if err == io.EOF {
		in.done = true
		return nil, io.EOF
	}
	if err != nil {
		return nil, &SourceError{Source: in.index, Err: err}
	}
	if len(r) != in.width {
		return nil, &SourceError{Source: in.index, Err: fmt.Errorf("%w: %d columns, expected %d", ErrBadRow, len(r), in.width)}
	}
	return r, nil
}

// budget counts the rows held in memory against Options.MaxRows.
type budget struct {
	max, used int
}

func (b *budget) take(n int) error {
	if b.max > 0 && b.used+n > b.max {
		return fmt.Errorf("%w: more than %d rows", ErrTooManyRows, b.max)
	}
	b.used += n
	return nil
}

func (b *budget) release(n int) { b.used -= n }

// concat yields the sources one after another, in source order.
type concat struct {
	in []input
	i  int
}

func (c *concat) next() (Row, error) {
	for c.i < len(c.in) {
		r, err := c.in[c.i].pull()
		if err == io.EOF {
			c.i++
			continue
		}
		return r, err
	}
	return nil, io.EOF
}

// limiter applies OFFSET, then LIMIT (-1: none). It stops pulling as soon
// as the limit is reached, so LIMIT 0 reads nothing.
type limiter struct {
	up            stage
	offset, limit int64
	sent          int64
}

func (l *limiter) next() (Row, error) {
	if l.limit >= 0 && l.sent >= l.limit {
		return nil, io.EOF
	}
	for ; l.offset > 0; l.offset-- {
		if _, err := l.up.next(); err != nil {
			return nil, err
		}
	}
	r, err := l.up.next()
	if err == nil {
		l.sent++
	}
	return r, err
}
