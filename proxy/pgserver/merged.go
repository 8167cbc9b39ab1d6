package pgserver

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/jackc/pgproto3/v2"

	"github.com/shardgate/shardgate/proxy/merge"
	"github.com/shardgate/shardgate/proxy/pgwire"
	"github.com/shardgate/shardgate/router"
)

// Type OIDs the merge needs to know (pg_type.dat).
const (
	oidBool    = 16
	oidInt8    = 20
	oidInt2    = 21
	oidInt4    = 23
	oidOID     = 26
	oidFloat4  = 700
	oidFloat8  = 701
	oidNumeric = 1700
)

// mergeType is how the merge compares and adds a column of this type.
// Text-format dates, times and timestamps compare correctly as bytes.
func mergeType(oid uint32) merge.Type {
	switch oid {
	case oidInt2, oidInt4, oidInt8, oidOID:
		return merge.Int
	case oidNumeric:
		return merge.Decimal
	case oidFloat4:
		return merge.Float32
	case oidFloat8:
		return merge.Float
	case oidBool:
		return merge.Bool
	}
	return merge.Bytes
}

// merged combines the shards' rows per the plan's merge spec.
func (s *session) merged(conns []*backendConn, plan *router.Plan, broken []bool, w *work) error {
	// Every shard answers the same columns; the first RowDescription
	// describes them (an error instead ends the statement).
	var desc *pgproto3.RowDescription
	var pgErr *pgproto3.ErrorResponse
	sources := make([]*shardRows, len(conns))
	for i, c := range conns {
		src := &shardRows{c: c, inTx: s.tx.open}
		sources[i] = src
		d, perr, err := src.describe()
		if err != nil {
			broken[i] = true
			return err
		}
		if perr != nil && pgErr == nil {
			pgErr = perr
		}
		if d != nil && desc == nil {
			desc = d
		}
	}
	if pgErr != nil || desc == nil {
		drainAll(sources, broken)
		if pgErr == nil {
			pgErr = pgwire.ErrorResponse("ERROR", "XX000", "shards returned no row description")
		}
		s.w.Send(pgErr)
		return errRelayed
	}
	types := make([]merge.Type, len(desc.Fields))
	var coll merge.Collation
	for i, f := range desc.Fields {
		if f.Format == 1 {
			continue // passed through in the client's format: never compared (Bytes)
		}
		types[i] = mergeType(f.DataTypeOID)
		if tag := conns[0].textOrder; tag != "" && isText(f.DataTypeOID) {
			types[i] = merge.TextLocale
			if coll == nil {
				coll = newCollation(tag)
			}
		}
	}
	for _, a := range plan.Merge.Aggregates {
		// The shards sent an integer SUM; the client gets avg's numeric,
		// and sorts and compares it as such.
		if a.Func == router.AggAvg && a.Column >= 0 && a.Column < len(types) && types[a.Column] == merge.Int {
			types[a.Column] = merge.Decimal
		}
	}
	srcs := make([]merge.Source, len(sources))
	for i, src := range sources {
		srcs[i] = src
	}
	m, err := merge.New(plan.Merge, types, srcs, merge.Options{MaxRows: s.srv.opts.MaxMergeRows, Collation: coll})
	if err != nil {
		drainAll(sources, broken)
		return &clientError{code: "0A000", msg: err.Error(), cause: err}
	}
	out := clientDescription(desc, plan.Merge)
	var formats []int16
	if w.ext != nil {
		formats = w.ext.bind.ResultFormatCodes
		for i := range out.Fields {
			out.Fields[i].Format = formatOf(formats, i)
		}
	}
	if w.ext == nil || w.ext.describe {
		s.w.Send(out)
	}
	var n int64
	var row pgproto3.DataRow
	for {
		r, err := m.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			drainAll(sources, broken)
			var be *backendError
			if errors.As(err, &be) {
				return err
			}
			var pe *shardError
			if errors.As(err, &pe) {
				s.w.Send(pe.resp)
				return errRelayed
			}
			code := "XX000"
			switch {
			case errors.Is(err, merge.ErrTooManyRows):
				code = "54000"
			case errors.Is(err, merge.ErrUnsorted):
				// Shards sorted text by a collation the merge cannot follow.
				code = "0A000"
			case errors.Is(err, merge.ErrBadValue):
				code = "22P02"
			}
			return &clientError{code: code, msg: err.Error(), cause: err}
		}
		if err := encodeRow(r, out, desc, formats); err != nil {
			drainAll(sources, broken)
			return &clientError{code: "0A000", msg: "binary result format: " + err.Error()}
		}
		row.Values = r
		s.w.Send(&row)
		n++
		if s.w.Buffered() > flushEvery {
			if err := s.w.Flush(); err != nil {
				return err
			}
		}
	}
	drainAll(sources, broken)
	s.w.Send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT " + strconv.FormatInt(n, 10))})
	return nil
}

// clientDescription drops the hidden columns and gives AVG columns the
// type of PostgreSQL's avg (numeric), since shards returned SUMs.
func clientDescription(d *pgproto3.RowDescription, m *router.Merge) *pgproto3.RowDescription {
	fields := append([]pgproto3.FieldDescription(nil), d.Fields[:len(d.Fields)-m.Hidden]...)
	for i := range fields { // the decoded names point into a reader's buffer, reused by the rows
		fields[i].Name = bytes.Clone(fields[i].Name)
	}
	for _, a := range m.Aggregates {
		if a.Func == router.AggAvg && a.Column >= 0 && a.Column < len(fields) {
			f := &fields[a.Column]
			f.DataTypeOID, f.DataTypeSize, f.TypeModifier = oidNumeric, -1, -1
		}
	}
	return &pgproto3.RowDescription{Fields: fields}
}

// shardFormats are the result formats a merge asks its shards for: text
// for every column the merge reads (sort and group keys, aggregates,
// hidden columns; all of them under DISTINCT), the client's own format
// for the others, which then pass through untouched, so a binary array or
// interval needs no encoding by the proxy. nil (all text) when the
// client asked for none in binary, or its row width is not known (no
// Describe of the statement).
func shardFormats(m *router.Merge, e *extExec) []int16 {
	client := e.bind.ResultFormatCodes
	if m.Distinct || len(client) == 0 || len(e.stmt.rowDesc) < 2 {
		return nil
	}
	visible := int(binary.BigEndian.Uint16(e.stmt.rowDesc))
	if len(client) != 1 && len(client) != visible {
		return nil
	}
	n := visible + m.Hidden
	out := make([]int16, n)
	for i := range visible {
		out[i] = formatOf(client, i)
	}
	text := func(c int) {
		if c < 0 {
			c += n // counted from the end (SELECT *)
		}
		if c >= 0 && c < n {
			out[c] = 0
		}
	}
	for _, k := range m.OrderBy {
		text(k.Column)
	}
	for _, g := range m.GroupBy {
		text(g)
	}
	for _, a := range m.Aggregates {
		text(a.Column)
		if a.Func == router.AggAvg || a.Coalesced {
			text(a.CountColumn)
		}
		if a.Coalesced {
			text(a.DefaultColumn)
		}
	}
	if !slices.Contains(out, 1) {
		return nil
	}
	return out
}

// shardRows reads one shard's result as a merge source.
type shardRows struct {
	c    *backendConn
	done bool // CommandComplete or an error was read
	z    bool // ReadyForQuery was read
	inTx bool // the statement runs in a transaction, which must stay open
}

// shardError is an ErrorResponse a shard sent mid-result.
type shardError struct{ resp *pgproto3.ErrorResponse }

func (e *shardError) Error() string { return "shard error: " + e.resp.Message }

// describe reads up to the RowDescription (or the error replacing it).
func (r *shardRows) describe() (*pgproto3.RowDescription, *pgproto3.ErrorResponse, error) {
	for {
		typ, body, err := r.c.r.ReadRaw()
		if err != nil {
			return nil, nil, &backendError{r.c.addr, err}
		}
		switch typ {
		case 'T':
			msg, err := pgwire.DecodeBackend(typ, body)
			if err != nil {
				return nil, nil, &backendError{r.c.addr, err}
			}
			return msg.(*pgproto3.RowDescription), nil, nil
		case 'E':
			if isFatal(body) {
				return nil, nil, sessionEnded(r.c, body)
			}
			r.done = true
			r.c.failed(body)
			msg, err := pgwire.DecodeBackend(typ, body)
			if err != nil {
				return nil, nil, &backendError{r.c.addr, err}
			}
			return nil, msg.(*pgproto3.ErrorResponse), nil
		case 'Z':
			r.done, r.z = true, true
			return nil, nil, nil
		case 'S':
			r.c.noteParameter(body)
		}
	}
}

// Next returns the shard's next row in text format.
func (r *shardRows) Next() (merge.Row, error) {
	for !r.done {
		typ, body, err := r.c.r.ReadRaw()
		if err != nil {
			return nil, &backendError{r.c.addr, err}
		}
		switch typ {
		case 'D':
			msg, err := pgwire.DecodeBackend(typ, body)
			if err != nil {
				return nil, &backendError{r.c.addr, err}
			}
			vals := msg.(*pgproto3.DataRow).Values
			row := make(merge.Row, len(vals))
			for i, v := range vals {
				row[i] = bytes.Clone(v) // body is reused by the next read; '' stays '', NULL stays nil
			}
			return row, nil
		case 'C':
			r.done = true
		case 'E':
			if isFatal(body) {
				return nil, sessionEnded(r.c, body)
			}
			r.done = true
			msg, err := pgwire.DecodeBackend(typ, body)
			if err != nil {
				return nil, &backendError{r.c.addr, err}
			}
			return nil, &shardError{msg.(*pgproto3.ErrorResponse)}
		case 'Z':
			r.done, r.z = true, true
		}
	}
	return nil, io.EOF
}

// drain reads the rest of the shard's answer up to ReadyForQuery.
func (r *shardRows) drain() error {
	for !r.z {
		typ, body, err := r.c.r.ReadRaw()
		if err != nil {
			return &backendError{r.c.addr, err}
		}
		if typ == 'Z' {
			r.z = true
			if !settled(body, r.inTx) {
				return fmt.Errorf("shard %s left its connection in an unexpected transaction state", r.c.addr)
			}
		}
	}
	return nil
}

func drainAll(srcs []*shardRows, broken []bool) {
	for i, s := range srcs {
		if s != nil && s.drain() != nil {
			broken[i] = true
		}
	}
}

// encodeRow turns the text values of a merged row into the formats the
// client asked for (columns the shards sent in binary already are).
func encodeRow(r merge.Row, d, shard *pgproto3.RowDescription, formats []int16) error {
	if len(formats) == 0 {
		return nil
	}
	for i, v := range r {
		if v == nil || formatOf(formats, i) == 0 || i >= len(d.Fields) || shard.Fields[i].Format == 1 {
			continue
		}
		b, err := textToBinary(d.Fields[i].DataTypeOID, v)
		if err != nil {
			return fmt.Errorf("column %s: %w", d.Fields[i].Name, err)
		}
		r[i] = b
	}
	return nil
}
