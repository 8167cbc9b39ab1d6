package mysqlwire

import "fmt"

// result is a text result set being read from a backend.
type result struct {
	b        *Backend
	cols     []Column
	row      [][]byte
	done     bool // the EOF (or an ERR) after the rows was read
	status   uint16
	warnings uint16
}

// next returns the next row (aliasing the read buffer until the next
// call), or nil at the end.
func (r *result) next() ([][]byte, error) {
	if r.done {
		return nil, nil
	}
	p, err := r.b.ReadPacket()
	if err != nil {
		return nil, err
	}
	switch {
	case IsEOF(p):
		r.done = true
		r.warnings, r.status, err = ParseEOF(p)
		return nil, err
	case IsErr(p):
		r.done = true
		return nil, ParseError(p)
	}
	r.row, err = ParseTextRow(p, len(r.cols), r.row)
	return r.row, err
}

// query sends a COM_QUERY and reads every result of its response; fn sees
// each result set (it may stop reading early: the rest is drained). The
// last OK, or the last result set's EOF, goes to *last when it is not nil.
// A server's ERR ends the response and is returned as *Error.
func (b *Backend) query(q string, fn func(*result) error, last *OK) error {
	b.ResetSequence()
	pkt := make([]byte, 0, 1+len(q))
	pkt = append(append(pkt, ComQuery), q...)
	if err := b.WritePacket(pkt); err != nil {
		return err
	}
	if err := b.Flush(); err != nil {
		return err
	}
	var fnErr error
	for {
		p, err := b.ReadPacket()
		if err != nil {
			return err
		}
		var ok OK
		switch {
		case IsErr(p):
			return ParseError(p)
		case IsOK(p):
			if ok, err = ParseOK(p); err != nil {
				return err
			}
		case len(p) > 0 && p[0] == headerLocalInfile:
			return fmt.Errorf("%w: LOCAL INFILE request without CLIENT_LOCAL_FILES", ErrProtocol)
		default:
			r, err := b.readColumns(p)
			if err != nil {
				return err
			}
			if fnErr == nil {
				fnErr = fn(r)
			}
			for !r.done { // drain what fn did not read
				if _, err := r.next(); err != nil {
					return err
				}
			}
			ok.Status, ok.Warnings = r.status, r.warnings
		}
		b.Status = ok.Status
		if ok.Status&StatusMoreResults == 0 {
			if last != nil {
				*last = ok
			}
			return fnErr
		}
	}
}

// readColumns reads a result set's column definitions and the EOF after
// them; p is its first packet (the column count).
func (b *Backend) readColumns(p []byte) (*result, error) {
	n, err := ParseColumnCount(p)
	if err != nil {
		return nil, err
	}
	r := &result{b: b, cols: make([]Column, n)}
	for i := range r.cols {
		if p, err = b.ReadPacket(); err != nil {
			return nil, err
		}
		if r.cols[i], err = ParseColumn(p); err != nil {
			return nil, err
		}
	}
	if p, err = b.ReadPacket(); err != nil {
		return nil, err
	}
	if !IsEOF(p) {
		return nil, fmt.Errorf("%w: no EOF after the column definitions", ErrProtocol)
	}
	return r, nil
}
