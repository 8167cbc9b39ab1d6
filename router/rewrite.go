package router

import (
	"strconv"
	"strings"

	"github.com/shardgate/shardgate/router/sqltext"
)

// rewriter rebuilds statement text for one target from pieces of the
// normalized text: literals go back in as the client wrote them, and bound
// parameters are renumbered ($n) or re-listed (?) for the target.
type rewriter struct {
	dialect sqltext.Dialect
	text    string
	toks    []sqltext.Token
	b       binder
	slotAt  map[int]int // token start offset -> placeholder number, for MySQL's ordinal ?
}

func newRewriter(d sqltext.Dialect, text string, b binder) (*rewriter, error) {
	toks, err := sqltext.Tokens(d, text)
	if err != nil {
		return nil, err
	}
	w := &rewriter{dialect: d, text: text, toks: toks, b: b, slotAt: map[int]int{}}
	n := 0
	for _, t := range toks {
		if t.Kind != sqltext.TokParam {
			continue
		}
		n++
		if d == sqltext.MySQL {
			w.slotAt[t.Start] = n
		} else if v, err := strconv.Atoi(text[t.Start+1 : t.End]); err == nil {
			w.slotAt[t.Start] = v
		}
	}
	return w, nil
}

// piece is either a byte range of the normalized text or text to insert.
type piece struct {
	from, to int
	insert   string
}

func span(from, to int) piece { return piece{from: from, to: to} }
func lit(s string) piece      { return piece{insert: s} }

// render concatenates the pieces, replacing each placeholder inside text
// ranges: literal slots by their original text, parameter slots by a
// target-local number (PostgreSQL) or a ? (MySQL). It returns the text
// and, when the client bound parameters, which of them the text uses in
// placeholder order.
func (w *rewriter) render(pieces []piece) (string, []int) {
	var sb strings.Builder
	var params []int
	renum := map[int]int{} // PostgreSQL: client param -> target param
	for _, p := range pieces {
		if p.insert != "" {
			sb.WriteString(p.insert)
			continue
		}
		pos := p.from
		for _, t := range w.toks {
			if t.Kind != sqltext.TokParam || t.Start < p.from || t.End > p.to {
				continue
			}
			sb.WriteString(w.text[pos:t.Start])
			pos = t.End
			slot := w.slotAt[t.Start]
			param := slot
			if w.b.slots != nil && slot >= 1 && slot <= len(w.b.slots) {
				s := w.b.slots[slot-1]
				if s.Param == 0 {
					sb.WriteString(s.Raw)
					continue
				}
				param = s.Param
			}
			if w.dialect == sqltext.MySQL {
				sb.WriteByte('?')
				params = append(params, param)
				continue
			}
			n, ok := renum[param]
			if !ok {
				params = append(params, param)
				n = len(params)
				renum[param] = n
			}
			sb.WriteString("$" + strconv.Itoa(n))
		}
		sb.WriteString(w.text[pos:p.to])
	}
	if params == nil && w.hasClientParams() {
		// The rewrite dropped every parameter (LIMIT $1 became a
		// literal): the target takes none, which nil would not say.
		params = []int{}
	}
	return sb.String(), params
}

// hasClientParams reports whether the statement uses any parameter the
// client binds (a normalized literal is not one).
func (w *rewriter) hasClientParams() bool {
	for _, t := range w.toks {
		if t.Kind != sqltext.TokParam {
			continue
		}
		slot := w.slotAt[t.Start]
		if w.b.slots == nil || slot < 1 || slot > len(w.b.slots) || w.b.slots[slot-1].Param != 0 {
			return true
		}
	}
	return false
}

// word reports whether token i is the keyword kw (case-insensitive).
func (w *rewriter) word(i int, kw string) bool {
	t := w.toks[i]
	return t.Kind == sqltext.TokWord && strings.EqualFold(w.text[t.Start:t.End], kw)
}

// punct reports whether token i is the punctuation p.
func (w *rewriter) punct(i int, p string) bool {
	t := w.toks[i]
	return t.Kind == sqltext.TokPunct && w.text[t.Start:t.End] == p
}

// next returns the index of the next significant token after i (skipping
// spaces and comments), or len(toks).
func (w *rewriter) next(i int) int {
	for i++; i < len(w.toks); i++ {
		if k := w.toks[i].Kind; k != sqltext.TokSpace && k != sqltext.TokComment {
			return i
		}
	}
	return i
}

// closing returns the index of the ')' matching the '(' at i, or -1. A
// token's Depth is the paren depth before it, so the match is the first
// ')' seen at one level deeper than the '('.
func (w *rewriter) closing(i int) int {
	depth := w.toks[i].Depth + 1
	for j := i + 1; j < len(w.toks); j++ {
		if w.toks[j].Depth == depth && w.punct(j, ")") {
			return j
		}
	}
	return -1
}
