package sqltext

import (
	"strconv"
	"strings"
)

// Denormalize puts the slots back into a normalized text: a literal's
// placeholder becomes its Raw text; a parameter's becomes "$"+renumber(n)
// in PostgreSQL (a nil renumber leaves the placeholder exactly as
// written, so Denormalize(Normalize(s)) == s byte for byte even for $01)
// and stays "?" in MySQL. Placeholders without a slot are left alone.
func Denormalize(d Dialect, text string, slots []Slot, renumber func(param int) int) string {
	if len(slots) == 0 || !d.valid() {
		return text
	}
	var b strings.Builder
	var nb [20]byte
	l := lexer{src: text, d: d}
	prev, q := 0, 0 // end of the text copied so far; MySQL ? so far
	for l.pos < len(text) {
		t, err := l.next()
		if err != nil {
			break // not a text Normalize produced; leave the rest as it is
		}
		if t.Kind != TokParam {
			continue
		}
		var s Slot
		if d == MySQL {
			q++
			if q > len(slots) || slots[q-1].Param > 0 {
				continue
			}
			s = slots[q-1]
		} else {
			n, ok := pgParam(text[t.Start+1 : t.End])
			if !ok || n > len(slots) || slots[n-1].Param > 0 && renumber == nil {
				continue
			}
			s = slots[n-1]
		}
		if b.Cap() == 0 {
			b.Grow(len(text) + rawSize(slots))
		}
		b.WriteString(text[prev:t.Start])
		prev = t.End
		if s.Param == 0 {
			b.WriteString(s.Raw)
			continue
		}
		b.WriteByte('$')
		b.Write(strconv.AppendInt(nb[:0], int64(renumber(s.Param)), 10))
	}
	if b.Cap() == 0 {
		return text
	}
	b.WriteString(text[prev:])
	return b.String()
}

func rawSize(slots []Slot) int {
	n := 0
	for _, s := range slots {
		n += len(s.Raw)
	}
	return n
}
