package pgserver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgproto3/v2"

	"github.com/shardgate/shardgate/proxy/pgwire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/sqltext"
	"github.com/shardgate/shardgate/topology"
)

// copySplit runs COPY t FROM STDIN for a sharded table: the client's rows
// are split by their key and streamed to the COPY of the shard that owns
// each row. It runs in the client's transaction when there is one (the
// database's transactions mode must allow several shards), else in one of
// its own over all shards, committed only when every shard accepted its
// rows, as any multi-shard transaction: in turn, or with two-phase commit.
func (s *session) copySplit(ctx context.Context, db *topology.DB, plan *router.Plan, sql string) error {
	t, ok := db.Table(plan.Statement.Object)
	if !ok || t.Kind != topology.Sharded && t.Kind != topology.Reference {
		return &clientError{code: "0A000", msg: "COPY FROM STDIN to several shards is only supported for sharded and reference tables"}
	}
	opts, err := parseCopy(sql)
	if err != nil {
		return &clientError{code: "0A000", msg: err.Error()}
	}
	if s.tx.open {
		tag, err := s.copySplitTx(ctx, db, t, opts, sql)
		if err != nil {
			return err
		}
		return s.complete(tag)
	}
	s.tx = txState{open: true, deferred: []string{"BEGIN"}, savedSettings: s.settings}
	defer s.endTx(false)
	tag, err := s.copySplitTx(ctx, db, t, opts, sql)
	if err != nil {
		s.rollbackFrom(0)
		return err
	}
	if err := s.commitAll(); err != nil {
		return err
	}
	return s.complete(tag)
}

// copySplitTx is copySplit on the open transaction's connections; it
// returns the command tag with the rows of all shards.
func (s *session) copySplitTx(ctx context.Context, db *topology.DB, t *topology.Table, opts copyOptions, sql string) (string, error) {
	leases := make([]*lease, len(db.Shards))
	for i, sh := range db.Shards {
		l, err := s.join(ctx, db, sh, false)
		if err != nil {
			return "", err
		}
		leases[i] = l
	}
	if t.Kind == topology.Reference {
		// Every shard keeps a copy: each gets the client's data as it is.
		if err := s.startCopies(leases, sql); err != nil {
			return "", err
		}
		sp := &copyToAll{out: make([][]byte, len(db.Shards))}
		return s.finishCopy(leases, s.pumpCopy(leases, sp), true)
	}
	var keyOID uint32
	if opts.columns == nil || opts.binary {
		cols, oids, err := tableColumns(leases[0].conn, t.Name)
		if err != nil {
			return "", s.copyBroke(err)
		}
		if opts.columns == nil {
			opts.columns = cols
		}
		for i, c := range cols {
			if strings.EqualFold(c, t.Key) {
				keyOID = oids[i]
			}
		}
	}
	key := -1
	for i, c := range opts.columns {
		if strings.EqualFold(c, t.Key) {
			key = i
		}
	}
	if key < 0 {
		return "", &clientError{code: "0A000", msg: fmt.Sprintf("COPY into sharded table %s must include its key column %s", t.Name, t.Key)}
	}
	if err := s.startCopies(leases, sql); err != nil {
		return "", err
	}
	var sp copySplitter = &rowSplitter{opts: opts, key: key, keyType: t.KeyType, db: db, out: make([][]byte, len(db.Shards))}
	if opts.binary {
		sp = &binarySplitter{key: key, keyOID: keyOID, keyType: t.KeyType, db: db, out: make([][]byte, len(db.Shards))}
	}
	clientErr := s.pumpCopy(leases, sp)
	return s.finishCopy(leases, clientErr, false)
}

// startCopies starts the COPY on every shard and tells the client to send
// its data.
func (s *session) startCopies(leases []*lease, sql string) error {
	var copyIn []byte
	for _, l := range leases {
		body, err := startCopy(l.conn, sql)
		if err != nil {
			return s.copyBroke(err)
		}
		copyIn = body
	}
	s.w.WriteRaw('G', copyIn)
	return s.w.Flush()
}

// copyToAll is the copySplitter of a reference table: all data to every
// shard.
type copyToAll struct{ out [][]byte }

func (c *copyToAll) feed(data []byte) error {
	for i := range c.out {
		c.out[i] = append(c.out[i], data...)
	}
	return nil
}
func (c *copyToAll) end() error        { return nil }
func (c *copyToAll) outputs() [][]byte { return c.out }

// copyBroke reports a failure of a shard during COPY: a lost connection
// aborts the transaction (the others then may hold a half-done COPY).
func (s *session) copyBroke(err error) error {
	var pe *pgwire.PgError
	if !errors.As(err, &pe) {
		s.abortTx()
	}
	return classify(err)
}

// copySplitter cuts the client's COPY data into rows and appends each to
// its shard's output (text and CSV: rowSplitter; binary: binarySplitter).
type copySplitter interface {
	feed(data []byte) error
	end() error
	// outputs are the rows waiting per shard; the caller sends and
	// empties them.
	outputs() [][]byte
}

// pumpCopy reads the client's CopyData and forwards each row to its shard.
func (s *session) pumpCopy(leases []*lease, sp copySplitter) error {
	out := sp.outputs()
	send := func(i int, force bool) error {
		if len(out[i]) == 0 || (!force && len(out[i]) < flushEvery) {
			return nil
		}
		c := leases[i].conn
		c.w.WriteRaw('d', out[i])
		out[i] = out[i][:0]
		return c.w.Flush()
	}
	for {
		typ, body, err := s.r.ReadRaw()
		if err != nil {
			return err
		}
		switch typ {
		case 'd':
			if err := sp.feed(body); err != nil {
				return &clientError{code: "22P04", msg: err.Error()}
			}
			for i := range out {
				if err := send(i, false); err != nil {
					return &backendError{leases[i].conn.addr, err}
				}
			}
		case 'c':
			if err := sp.end(); err != nil {
				return &clientError{code: "22P04", msg: err.Error()}
			}
			for i := range out {
				if err := send(i, true); err != nil {
					return &backendError{leases[i].conn.addr, err}
				}
			}
			return nil
		case 'f':
			return &clientError{code: "57014", msg: "COPY from stdin failed: " + string(trimNul(body))}
		case 'H', 'S':
		default:
			return s.fatal("08P01", fmt.Sprintf("unexpected message %q during COPY", typ))
		}
	}
}

// finishCopy ends every shard's COPY: CopyDone, or CopyFail when the
// client or a shard failed. The total row count is kept for the tag
// (copies: each shard took the same rows, so one shard's count).
func (s *session) finishCopy(leases []*lease, clientErr error, copies bool) (string, error) {
	var firstErr error = clientErr
	var total int64
	for i, l := range leases {
		c := l.conn
		if firstErr != nil {
			c.w.Send(&pgproto3.CopyFail{Message: "shardgate: COPY aborted"})
		} else {
			c.w.Send(&pgproto3.CopyDone{})
		}
		if err := c.w.Flush(); err != nil {
			s.abortTx()
			return "", &clientError{code: "08006", msg: (&backendError{c.addr, err}).Error()}
		}
		tag, err := readCopyResult(c)
		var be *backendError
		if errors.As(err, &be) {
			s.abortTx()
			return "", &clientError{code: "08006", msg: be.Error()}
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		var t commandTag
		t.add(tag, true, true)
		if !copies || i == 0 {
			total += t.count
		}
	}
	if firstErr != nil {
		return "", classify(firstErr)
	}
	return fmt.Sprintf("COPY %d", total), nil
}

// startCopy sends the COPY statement and waits for CopyInResponse.
func startCopy(c *backendConn, sql string) ([]byte, error) {
	c.w.Send(&pgproto3.Query{String: sql})
	if err := c.w.Flush(); err != nil {
		return nil, &backendError{c.addr, err}
	}
	for {
		typ, body, err := c.r.ReadRaw()
		if err != nil {
			return nil, &backendError{c.addr, err}
		}
		switch typ {
		case 'G':
			return append([]byte(nil), body...), nil
		case 'E':
			msg, derr := pgwire.DecodeBackend(typ, body)
			if derr != nil {
				return nil, derr
			}
			err := pgwire.NewPgError(msg.(*pgproto3.ErrorResponse))
			for typ != 'Z' { // finish the exchange
				if typ, _, derr = c.r.ReadRaw(); derr != nil {
					return nil, &backendError{c.addr, derr}
				}
			}
			return nil, err
		}
	}
}

// readCopyResult reads a shard's answer to the end of COPY data.
func readCopyResult(c *backendConn) (string, error) {
	var tag string
	var result error
	for {
		typ, body, err := c.r.ReadRaw()
		if err != nil {
			return "", &backendError{c.addr, err}
		}
		switch typ {
		case 'C':
			tag = string(trimNul(body))
		case 'E':
			if msg, derr := pgwire.DecodeBackend(typ, body); derr == nil && result == nil {
				result = pgwire.NewPgError(msg.(*pgproto3.ErrorResponse))
			}
		case 'Z':
			return tag, result
		}
	}
}

// tableColumns lists a table's columns in order, with their type OIDs:
// for a COPY without a column list, and for reading the key of binary
// COPY data.
func tableColumns(c *backendConn, table string) ([]string, []uint32, error) {
	q := "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = " + quoteLiteral(table) +
		"::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
	c.w.Send(&pgproto3.Query{String: q})
	if err := c.w.Flush(); err != nil {
		return nil, nil, &backendError{c.addr, err}
	}
	var cols []string
	var oids []uint32
	var result error
	for {
		typ, body, err := c.r.ReadRaw()
		if err != nil {
			return nil, nil, &backendError{c.addr, err}
		}
		switch typ {
		case 'D':
			msg, derr := pgwire.DecodeBackend(typ, body)
			if derr == nil && len(msg.(*pgproto3.DataRow).Values) == 2 {
				v := msg.(*pgproto3.DataRow).Values
				oid, _ := strconv.ParseUint(string(v[1]), 10, 32)
				cols, oids = append(cols, string(v[0])), append(oids, uint32(oid))
			}
		case 'E':
			if msg, derr := pgwire.DecodeBackend(typ, body); derr == nil {
				result = pgwire.NewPgError(msg.(*pgproto3.ErrorResponse))
			}
		case 'Z':
			return cols, oids, result
		}
	}
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// copyOptions is what splitting needs of a COPY statement.
type copyOptions struct {
	columns []string // nil: all, in table order
	csv     bool
	binary  bool
	header  bool
	delim   byte
	quote   byte
}

// parseCopy reads the column list and format options of
// COPY t [(cols)] FROM STDIN [WITH] (options) or the old option syntax.
func parseCopy(sql string) (copyOptions, error) {
	o := copyOptions{delim: '\t', quote: '"'}
	toks, err := sqltext.Tokens(sqltext.Postgres, sql)
	if err != nil {
		return o, err
	}
	var words []string // significant tokens
	for _, t := range toks {
		if t.Kind != sqltext.TokSpace && t.Kind != sqltext.TokComment {
			words = append(words, t.Text(sql))
		}
	}
	i := 0
	for i < len(words) && !strings.EqualFold(words[i], "FROM") {
		if words[i] == "(" && o.columns == nil {
			o.columns = []string{}
			for i++; i < len(words) && words[i] != ")"; i++ {
				if words[i] != "," {
					o.columns = append(o.columns, unquoteIdent(words[i]))
				}
			}
		}
		i++
	}
	delimSet := false
	for ; i < len(words); i++ {
		w := strings.ToUpper(words[i])
		next := ""
		if i+1 < len(words) {
			next = words[i+1]
		}
		switch w {
		case "CSV":
			o.csv = true
		case "BINARY": // the old syntax, as pgx's CopyFrom writes it
			o.binary = true
		case "FORMAT":
			switch strings.ToLower(strings.Trim(next, "'")) {
			case "csv":
				o.csv = true
			case "binary":
				o.binary = true
			}
		case "HEADER":
			o.header = !strings.EqualFold(next, "false") && !strings.EqualFold(next, "off") && next != "0"
		case "DELIMITER":
			if v := strings.Trim(next, "'"); len(v) == 1 {
				o.delim, delimSet = v[0], true
			}
		case "QUOTE":
			if v := strings.Trim(next, "'"); len(v) == 1 {
				o.quote = v[0]
			}
		}
	}
	if o.csv && !delimSet {
		o.delim = ','
	}
	return o, nil
}

func unquoteIdent(s string) string {
	if len(s) >= 2 && s[0] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return strings.ToLower(s)
}

// copyIn forwards the client's COPY data to the server until CopyDone or
// CopyFail.
func (s *session) copyIn(c *backendConn) error {
	for {
		typ, body, err := s.r.ReadRaw()
		if err != nil {
			return err
		}
		switch typ {
		case 'd':
			c.w.WriteRaw(typ, body)
			if c.w.Buffered() > flushEvery {
				if err := c.w.Flush(); err != nil {
					return &backendError{c.addr, err}
				}
			}
		case 'c', 'f':
			c.w.WriteRaw(typ, body)
			if err := c.w.Flush(); err != nil {
				return &backendError{c.addr, err}
			}
			return nil
		case 'H', 'S': // allowed and ignored during COPY
		default:
			return s.fatal("08P01", fmt.Sprintf("unexpected message %q during COPY", typ))
		}
	}
}
