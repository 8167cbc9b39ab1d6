package myserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/shardgate/shardgate/proxy/merge"
	"github.com/shardgate/shardgate/proxy/mysqlwire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
)

// multi runs a plan on several targets at once: adding up the OKs of a
// scatter write, concatenating rows, or merging them per the plan. A read
// outside a transaction whose server connection fails before any of the
// answer left the proxy runs once more: the failed server is banned, so
// the second run reads elsewhere.
func (s *session) multi(ctx context.Context, db *topology.DB, plan *router.Plan, w *work) error {
	inTx := s.tx.open
	mark := s.c.Mark()
	err := s.multiOnce(ctx, db, plan, w)
	be := lostBackend(err)
	if be != nil {
		s.lostServer(be)
	}
	if be != nil && !inTx && !plan.Write && (s.forwarded == 0 || s.c.Rewind(mark)) {
		s.forwarded = 0
		s.srv.metrics.Retry(db.Name)
		err = s.multiOnce(ctx, db, plan, w)
	}
	return err
}

func (s *session) multiOnce(ctx context.Context, db *topology.DB, plan *router.Plan, w *work) error {
	n := len(plan.Targets)
	leases := make([]lease, n)
	errs := make([]error, n)
	if s.tx.open || !s.autocommit {
		// The transaction's connections: joining one changes s.tx.
		for i, t := range plan.Targets {
			leases[i], errs[i] = s.acquire(ctx, db, t)
		}
	} else {
		var wg sync.WaitGroup
		for i, t := range plan.Targets {
			wg.Go(func() { leases[i], errs[i] = s.acquire(ctx, db, t) })
		}
		wg.Wait()
	}
	broken := make([]bool, n)
	defer func() {
		for i, l := range leases {
			if l.conn != nil {
				s.release(l, broken[i] || s.killed.Load())
			}
		}
	}()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	results := make([]*shardResult, n)
	conns := make([]*backendConn, n)
	for i, l := range leases {
		if _, err := s.sendTo(l.conn, w, plan.Targets[i]); err != nil { // join left no opening: see acquire
			for j := range i + 1 {
				broken[j] = true // sent, with an answer nobody will read
			}
			return err
		}
		results[i] = &shardResult{c: l.conn, binary: w.binary}
		conns[i] = l.conn
		markState(l.conn, w)
	}
	s.watch(ctx, conns)
	defer s.unwatch()
	err := s.collect(results, plan, w)
	for i, r := range results {
		if !r.done && r.drain() != nil {
			broken[i] = true
		}
		if r.lost {
			broken[i] = true
		}
	}
	return err
}

// collect reads every shard's answer and sends the client one.
func (s *session) collect(results []*shardResult, plan *router.Plan, w *work) error {
	var first *mysqlwire.Error
	oks, sets := 0, 0
	for _, r := range results {
		if err := r.head(); err != nil {
			return err
		}
		switch {
		case r.err != nil:
			if first == nil {
				first = r.err
			}
		case r.ok != nil:
			oks++
		default:
			sets++
		}
	}
	if first != nil {
		return first
	}
	if oks == len(results) {
		return s.sumOKs(results, plan, w)
	}
	if sets != len(results) {
		return fmt.Errorf("%w: shards answered the statement differently (rows from some, none from others)", router.ErrUnsupported)
	}
	for _, r := range results[1:] {
		if len(r.cols) != len(results[0].cols) {
			return fmt.Errorf("%w: shards returned different columns (%d and %d)", router.ErrUnsupported, len(results[0].cols), len(r.cols))
		}
	}
	if plan.Merge != nil {
		return s.merged(results, plan, w)
	}
	return s.concat(results, w)
}

// sumOKs answers a scatter write with one OK: row counts added up (or the
// first shard's, for a reference table written on every shard) and the
// first insert id a shard reported.
func (s *session) sumOKs(results []*shardResult, plan *router.Plan, w *work) error {
	var affected, insertID uint64
	sum := plan.SumAffected || !plan.Write
	for i, r := range results {
		if sum || i == 0 {
			affected += s.affectedRows(*r.ok)
		}
		if insertID == 0 && r.ok.LastInsertID != 0 {
			insertID = r.ok.LastInsertID
		}
	}
	if insertID != 0 {
		s.lastInsertID = insertID
	}
	return s.sendOK(affected, insertID, w.more)
}

// concat streams every shard's rows in turn under the first shard's
// column definitions.
func (s *session) concat(results []*shardResult, w *work) error {
	if err := s.sendHeader(results[0].cols); err != nil {
		return err
	}
	for _, r := range results {
		for {
			p, err := r.nextRaw()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			if err := s.forward(p); err != nil {
				return err
			}
		}
	}
	return s.sendEOF(w.more)
}

// sendHeader writes a result set's column count, definitions and EOF.
func (s *session) sendHeader(cols []mysqlwire.Column) error {
	out := mysqlwire.AppendLenEncInt(s.out[:0], uint64(len(cols)))
	if err := s.forward(out); err != nil {
		return err
	}
	for _, c := range cols {
		out = mysqlwire.AppendColumn(out[:0], c)
		if err := s.forward(out); err != nil {
			return err
		}
	}
	s.out = out
	return s.forward(mysqlwire.AppendEOF(out[:0], 0, s.status()))
}

// sendEOF ends a result set the session assembled.
func (s *session) sendEOF(more bool) error {
	st := s.status()
	if more {
		st |= statusMoreResults
	}
	s.out = mysqlwire.AppendEOF(s.out[:0], 0, st)
	return s.forward(s.out)
}

// shardResult reads one shard's answer to a fan-out statement.
type shardResult struct {
	c      *backendConn
	binary bool
	cols   []mysqlwire.Column
	ok     *mysqlwire.OK    // the answer was an OK
	err    *mysqlwire.Error // the answer was an ERR
	headed bool             // head() ran
	done   bool             // the answer was read to its end
	lost   bool             // the connection failed
}

func (r *shardResult) fail(err error) error {
	r.done, r.lost = true, true
	return &backendError{r.c.addr, err}
}

// head reads the first packet of the answer and, for a result set, the
// column definitions and their EOF.
func (r *shardResult) head() error {
	r.headed = true
	p, err := r.c.ReadPacket()
	if err != nil {
		return r.fail(err)
	}
	switch {
	case mysqlwire.IsErr(p):
		r.err, r.done = mysqlwire.ParseError(p), true
		return nil
	case mysqlwire.IsOK(p):
		ok, err := mysqlwire.ParseOK(p)
		if err != nil {
			return r.fail(err)
		}
		r.ok, r.done = &ok, true
		if ok.Status&statusMoreResults != 0 {
			// A procedure's further results: the connection is dropped
			// with them rather than parsed.
			r.lost = true
		}
		return nil
	}
	n, err := mysqlwire.ParseColumnCount(p)
	if err != nil {
		return r.fail(err)
	}
	r.cols = make([]mysqlwire.Column, n)
	for i := range r.cols {
		p, err := r.c.ReadPacket()
		if err != nil {
			return r.fail(err)
		}
		if r.cols[i], err = mysqlwire.ParseColumn(p); err != nil {
			return r.fail(err)
		}
	}
	if p, err = r.c.ReadPacket(); err != nil {
		return r.fail(err)
	}
	if !mysqlwire.IsEOF(p) {
		return r.fail(errors.New("no EOF after the column definitions"))
	}
	return nil
}

// nextRaw returns the next row packet as the server sent it (valid until
// the next read), io.EOF after the last row, and a server's ERR packet as
// a *mysqlwire.Error.
func (r *shardResult) nextRaw() ([]byte, error) {
	if r.done {
		return nil, io.EOF
	}
	p, err := r.c.ReadPacket()
	if err != nil {
		return nil, r.fail(err)
	}
	switch {
	case mysqlwire.IsEOF(p):
		_, status, _ := mysqlwire.ParseEOF(p)
		if status&statusMoreResults != 0 {
			return nil, r.fail(errors.New("a fan-out statement returned several result sets"))
		}
		r.done = true
		return nil, io.EOF
	case mysqlwire.IsErr(p):
		r.done = true
		return nil, mysqlwire.ParseError(p)
	}
	return p, nil
}

// Next returns the next row decoded to text form (a merge source).
func (r *shardResult) Next() (merge.Row, error) {
	p, err := r.nextRaw()
	if err != nil {
		return nil, err
	}
	p = bytes.Clone(p) // the row outlives the read buffer
	row := make(merge.Row, len(r.cols))
	if r.binary {
		row, err = mysqlwire.ParseBinaryRow(p, r.cols, row[:0])
	} else {
		row, err = mysqlwire.ParseTextRow(p, len(r.cols), row[:0])
	}
	if err != nil {
		return nil, r.fail(err)
	}
	return row, nil
}

// drain reads what is left of the answer, up to its last packet.
func (r *shardResult) drain() error {
	if !r.headed {
		// The answer's first packets are not rows: read them as a head.
		if err := r.head(); err != nil {
			return err
		}
	}
	for !r.done {
		if _, err := r.nextRaw(); err != nil {
			if errors.Is(err, io.EOF) || isServerError(err) {
				return nil
			}
			return err
		}
	}
	return nil
}
