package myserver

import (
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/charset"

	"github.com/shardgate/shardgate/proxy/merge"
	"github.com/shardgate/shardgate/proxy/mysqlwire"
	"github.com/shardgate/shardgate/router"
)

// MySQL column types the merge treats specially.
const (
	typeNewDecimal = 0xf6
	typeDouble     = 0x05
)

// avgExtraDigits is MySQL's div_precision_increment default: AVG of
// exact numbers has the sum's scale plus this many digits.
const avgExtraDigits = 4

// merged combines the shards' rows per the plan's merge spec and sends
// the client one result set.
func (s *session) merged(results []*shardResult, plan *router.Plan, w *work) error {
	spec := plan.Merge
	cols := results[0].cols
	types := make([]merge.Type, len(cols))
	for i, c := range cols {
		types[i] = mergeType(c)
	}
	out := make([]mysqlwire.Column, len(cols)-spec.Hidden)
	copy(out, cols)
	for _, a := range spec.Aggregates {
		if a.Func != router.AggAvg || a.Column < 0 || a.Column >= len(out) {
			continue
		}
		// Shards sent SUM (DECIMAL for exact numbers, DOUBLE otherwise);
		// the client gets AVG's type and scale.
		if types[a.Column] == merge.Int || types[a.Column] == merge.Uint {
			types[a.Column] = merge.Decimal
		}
		c := &out[a.Column]
		if c.Type != typeDouble {
			c.Type = typeNewDecimal
			c.Decimals = min(c.Decimals+avgExtraDigits, 30)
			c.Length += avgExtraDigits
		}
	}
	srcs := make([]merge.Source, len(results))
	for i, r := range results {
		srcs[i] = r
	}
	m, err := merge.New(spec, types, srcs, merge.Options{MaxRows: s.srv.opts.MaxMergeRows, AvgScale: avgExtraDigits, FormatFloat: mysqlFloat})
	if err != nil {
		return err
	}
	if err := s.sendHeader(out); err != nil {
		return err
	}
	buf := s.out
	defer func() { s.out = buf }()
	for {
		row, err := m.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *merge.SourceError
			if errors.As(err, &se) {
				err = se.Err // a shard's ERR packet or lost connection
			}
			return err
		}
		if w.binary {
			if buf, err = mysqlwire.AppendBinaryRow(buf[:0], out, row); err != nil {
				return err
			}
		} else {
			buf = mysqlwire.AppendTextRow(buf[:0], row)
		}
		if err := s.forward(buf); err != nil {
			return err
		}
	}
	return s.sendEOF(w.more)
}

// mergeType is how the merge compares and adds a column. Text under a
// case-insensitive collation compares as MySQL's _ci collations do
// (case and accents folded, trailing spaces ignored).
func mergeType(c mysqlwire.Column) merge.Type {
	t := c.MergeType()
	if t == merge.Bytes && c.Charset != 63 && ciCollation(c.Charset) {
		return merge.TextCI
	}
	return t
}

func ciCollation(id uint16) bool {
	col, err := charset.GetCollationByID(int(id))
	return err == nil && strings.HasSuffix(col.Name, "_ci")
}

// mysqlFloat prints a DOUBLE the way MySQL does: the shortest digits that
// read back, in plain notation for moderate exponents and as 1.5e20 or
// 1e-7 otherwise.
func mysqlFloat(dst []byte, f float64, bitSize int) []byte {
	b := strconv.AppendFloat(nil, f, 'e', -1, bitSize)
	mant, exp, _ := strings.Cut(string(b), "e")
	e, _ := strconv.Atoi(exp)
	if e < -15 || e > 14 {
		if e < 0 {
			return append(append(append(dst, mant...), "e-"...), strconv.Itoa(-e)...)
		}
		return append(append(append(dst, mant...), 'e'), strconv.Itoa(e)...)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, bitSize)
}
