package pgserver

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/shardgate/shardgate/topology"
)

// rowSplitter cuts COPY data (text or CSV) into rows, whatever the
// CopyData message boundaries, and appends each row to the buffer of the
// shard its key hashes to.
type rowSplitter struct {
	opts    copyOptions
	key     int
	keyType topology.KeyType
	db      *topology.DB
	out     [][]byte // per shard: complete rows waiting to be sent
	pending []byte   // an incomplete row carried to the next message
	rows    int
	sawEnd  bool // the text format's \. end marker
}

func (sp *rowSplitter) outputs() [][]byte { return sp.out }

func (sp *rowSplitter) feed(data []byte) error {
	buf := data
	if len(sp.pending) > 0 {
		sp.pending = append(sp.pending, data...)
		buf = sp.pending
	}
	start := 0
	for {
		end := sp.rowEnd(buf, start)
		if end < 0 {
			break
		}
		if err := sp.row(buf[start : end+1]); err != nil {
			return err
		}
		start = end + 1
	}
	sp.pending = append(sp.pending[:0], buf[start:]...)
	return nil
}

// end handles a last row without a trailing newline.
func (sp *rowSplitter) end() error {
	if len(sp.pending) == 0 {
		return nil
	}
	row := append(sp.pending, '\n')
	sp.pending = nil
	return sp.row(row)
}

// rowEnd finds the newline that ends the row starting at start; in CSV a
// newline inside quotes belongs to the field.
func (sp *rowSplitter) rowEnd(b []byte, start int) int {
	if !sp.opts.csv {
		if i := bytes.IndexByte(b[start:], '\n'); i >= 0 {
			return start + i
		}
		return -1
	}
	inQuote := false
	for i := start; i < len(b); i++ {
		switch {
		case b[i] == sp.opts.quote:
			inQuote = !inQuote // a doubled quote toggles twice: still right
		case b[i] == '\n' && !inQuote:
			return i
		}
	}
	return -1
}

// row routes one complete row (with its newline).
func (sp *rowSplitter) row(r []byte) error {
	sp.rows++
	if sp.sawEnd {
		return nil
	}
	if sp.rows == 1 && sp.opts.header {
		for i := range sp.out { // every shard's COPY expects the header
			sp.out[i] = append(sp.out[i], r...)
		}
		return nil
	}
	line := bytes.TrimRight(r, "\r\n")
	if !sp.opts.csv && bytes.Equal(line, []byte(`\.`)) {
		sp.sawEnd = true
		return nil
	}
	v, null, err := sp.field(line, sp.key)
	if err != nil {
		return fmt.Errorf("COPY row %d: %w", sp.rows, err)
	}
	if null {
		return fmt.Errorf("COPY row %d: the sharding key is NULL", sp.rows)
	}
	id, err := sp.keyType.TextKeyspaceID(v)
	if err != nil {
		return fmt.Errorf("COPY row %d: %w", sp.rows, err)
	}
	i := sp.db.ShardIndex(id)
	sp.out[i] = append(sp.out[i], r...)
	return nil
}

// field returns field k of a row, unescaped, and whether it is NULL.
func (sp *rowSplitter) field(line []byte, k int) (string, bool, error) {
	if sp.opts.csv {
		return csvField(line, k, sp.opts.delim, sp.opts.quote)
	}
	f := line
	for range k {
		i := bytes.IndexByte(f, sp.opts.delim)
		if i < 0 {
			return "", false, fmt.Errorf("missing data for column %d", k+1)
		}
		f = f[i+1:]
	}
	if i := bytes.IndexByte(f, sp.opts.delim); i >= 0 {
		f = f[:i]
	}
	if bytes.Equal(f, []byte(`\N`)) {
		return "", true, nil
	}
	return unescapeText(f), false, nil
}

// csvField reads field k of a CSV line: an unquoted empty field is NULL.
func csvField(line []byte, k int, delim, quote byte) (string, bool, error) {
	field, i := 0, 0
	for {
		var val []byte
		quoted := false
		if i < len(line) && line[i] == quote {
			quoted = true
			for i++; ; i++ {
				if i >= len(line) {
					return "", false, fmt.Errorf("unterminated CSV quoted field")
				}
				if line[i] == quote {
					if i+1 < len(line) && line[i+1] == quote {
						val = append(val, quote)
						i++
						continue
					}
					i++
					break
				}
				val = append(val, line[i])
			}
		} else {
			j := bytes.IndexByte(line[i:], delim)
			if j < 0 {
				j = len(line) - i
			}
			val = line[i : i+j]
			i += j
		}
		if field == k {
			return string(val), !quoted && len(val) == 0, nil
		}
		if i >= len(line) || line[i] != delim {
			return "", false, fmt.Errorf("missing data for column %d", k+1)
		}
		i++
		field++
	}
}

// unescapeText undoes the text format's backslash escapes.
func unescapeText(f []byte) string {
	if bytes.IndexByte(f, '\\') < 0 {
		return string(f)
	}
	var out []byte
	for i := 0; i < len(f); i++ {
		if f[i] != '\\' || i+1 == len(f) {
			out = append(out, f[i])
			continue
		}
		i++
		switch c := f[i]; c {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case 'x':
			j := i + 1
			for j < len(f) && j < i+3 && isHex(f[j]) {
				j++
			}
			if n, err := strconv.ParseUint(string(f[i+1:j]), 16, 8); err == nil && j > i+1 {
				out = append(out, byte(n))
				i = j - 1
			} else {
				out = append(out, c)
			}
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(f) && j < i+3 && f[j] >= '0' && f[j] <= '7' {
				j++
			}
			n, _ := strconv.ParseUint(string(f[i:j]), 8, 8)
			out = append(out, byte(n))
			i = j - 1
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
