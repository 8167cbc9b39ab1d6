package router

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shardgate/shardgate/router/sqltext"
)

// clauses locates, by tokens at paren depth 0, the parts of the top-level
// SELECT that a merge rewrite touches. Analyzers report meaning; this
// finds text, so both dialects share one rewrite.
type clauses struct {
	items    [][2]int // token index ranges [from, to) of each select item
	itemsEnd int      // byte offset just after the last select item
	groupBy  [][2]int
	orderBy  [][2]int // without ASC/DESC/NULLS FIRST|LAST
	limit    [2]int   // byte range of LIMIT/OFFSET/FETCH, empty when none
	having   [2]int   // token range [HAVING, end of its condition), empty when none
}

// Words that end a clause of a SELECT at depth 0.
var clauseWords = []string{"FROM", "WHERE", "GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT", "OFFSET",
	"FETCH", "FOR", "UNION", "INTERSECT", "EXCEPT", "INTO", "LOCK"}

// Select modifiers between SELECT and the first item.
var selectModifiers = []string{"ALL", "DISTINCT", "DISTINCTROW", "HIGH_PRIORITY", "STRAIGHT_JOIN",
	"SQL_SMALL_RESULT", "SQL_BIG_RESULT", "SQL_BUFFER_RESULT", "SQL_NO_CACHE", "SQL_CACHE", "SQL_CALC_FOUND_ROWS"}

func (w *rewriter) upperWord(i int) string {
	t := w.toks[i]
	if t.Kind != sqltext.TokWord {
		return ""
	}
	return strings.ToUpper(w.text[t.Start:t.End])
}

func (w *rewriter) clauses() (*clauses, error) {
	cl := &clauses{}
	sel := -1
	for i := range w.toks {
		if w.toks[i].Depth == 0 && w.word(i, "SELECT") {
			sel = i
			break
		}
	}
	if sel < 0 {
		return nil, fmt.Errorf("%w: no top-level SELECT found to rewrite", ErrUnsupported)
	}
	i := w.next(sel)
	for i < len(w.toks) && slices.Contains(selectModifiers, w.upperWord(i)) {
		if w.upperWord(i) == "DISTINCT" && w.next(i) < len(w.toks) && w.word(w.next(i), "ON") {
			return nil, fmt.Errorf("%w: DISTINCT ON across shards", ErrUnsupported)
		}
		i = w.next(i)
	}
	cl.items, i = w.list(i, clauseWords)
	if len(cl.items) > 0 {
		last := cl.items[len(cl.items)-1]
		cl.itemsEnd = w.toks[last[1]-1].End
	}
	for i < len(w.toks) {
		switch {
		case w.toks[i].Depth != 0:
			i++
		case w.word(i, "GROUP") || w.word(i, "ORDER"):
			isOrder := w.word(i, "ORDER")
			j := w.next(i) // BY
			var list [][2]int
			list, i = w.list(w.next(j), clauseWords)
			if isOrder {
				for k := range list {
					list[k] = w.trimOrderSuffix(list[k])
				}
				cl.orderBy = list
			} else {
				cl.groupBy = list
			}
		case w.word(i, "HAVING"):
			j := w.next(i)
			for j < len(w.toks) && !(w.toks[j].Depth == 0 &&
				(slices.Contains(clauseWords, w.upperWord(j)) || w.punct(j, ";") || w.punct(j, ")"))) {
				j = w.next(j)
			}
			cl.having = [2]int{i, j}
			i = j
		case w.word(i, "LIMIT") || w.word(i, "OFFSET") || w.word(i, "FETCH"):
			if cl.limit[1] == 0 {
				cl.limit[0] = w.toks[i].Start
			}
			j := w.next(i)
			for j < len(w.toks) && !w.isClauseEnd(j) {
				j = w.next(j)
			}
			cl.limit[1] = w.toks[w.prevSignificant(j)].End
			i = j
		default:
			i = w.next(i)
		}
	}
	return cl, nil
}

// isClauseEnd: a token that ends a LIMIT clause (another LIMIT-family
// keyword starts a new one; FOR UPDATE, LOCK IN SHARE MODE, INTO, ';').
func (w *rewriter) isClauseEnd(i int) bool {
	if w.toks[i].Depth != 0 {
		return false
	}
	if w.punct(i, ";") || w.punct(i, ")") {
		return true
	}
	switch w.upperWord(i) {
	case "LIMIT", "OFFSET", "FETCH", "FOR", "LOCK", "INTO", "UNION", "INTERSECT", "EXCEPT":
		return true
	}
	return false
}

func (w *rewriter) prevSignificant(i int) int {
	for i--; i > 0; i-- {
		if k := w.toks[i].Kind; k != sqltext.TokSpace && k != sqltext.TokComment {
			return i
		}
	}
	return 0
}

// list splits a comma-separated list at depth 0 starting at token i until
// a depth-0 stop word, ';' or ')' closing the statement level.
func (w *rewriter) list(i int, stop []string) ([][2]int, int) {
	var out [][2]int
	start := i
	flush := func(end int) {
		if start < end {
			out = append(out, [2]int{start, w.prevSignificant(end) + 1})
		}
	}
	for i < len(w.toks) {
		t := w.toks[i]
		if t.Depth == 0 {
			if slices.Contains(stop, w.upperWord(i)) || w.punct(i, ";") || w.punct(i, ")") {
				break
			}
			if w.punct(i, ",") {
				flush(i)
				start = w.next(i)
				i = start
				continue
			}
		}
		i = w.next(i)
	}
	flush(i)
	return out, i
}

// trimOrderSuffix drops ASC, DESC and NULLS FIRST|LAST from an ORDER BY
// item, leaving the expression.
func (w *rewriter) trimOrderSuffix(r [2]int) [2]int {
	for r[1] > r[0] {
		last := w.prevSignificant(r[1])
		switch w.upperWord(last) {
		case "ASC", "DESC", "FIRST", "LAST", "NULLS":
			r[1] = last
			continue
		}
		break
	}
	return r
}

// listItem returns the text of item k of a clause list (normalized text,
// placeholders and all, to be rendered as a span).
func (cl *clauses) listItem(w *rewriter, list [][2]int, k int) ([]piece, bool) {
	if k >= len(list) {
		return nil, false
	}
	r := list[k]
	return []piece{span(w.toks[r[0]].Start, w.toks[r[1]-1].End)}, true
}

// aggCall finds, in select item i, the aggregate's name token, its
// argument's byte range and where the call ends: `avg(x + 1) AS a` gives
// "avg", "x + 1" and the offset after ")". coalesced: the call is the
// first argument of the item's COALESCE (or IFNULL).
func (cl *clauses) aggCall(w *rewriter, i int, coalesced bool) (fn sqltext.Token, arg [2]int, callEnd int, ok bool) {
	if i >= len(cl.items) {
		return fn, arg, 0, false
	}
	r := cl.items[i]
	first := r[0]
	if coalesced { // COALESCE ( agg ( ... ) , default ): the inner call
		if open := w.next(first); open < r[1] && w.punct(open, "(") {
			first = w.next(open)
		} else {
			return fn, arg, 0, false
		}
	}
	open := w.next(first)
	if w.toks[first].Kind != sqltext.TokWord || open >= r[1] || !w.punct(open, "(") {
		return fn, arg, 0, false
	}
	end := w.closing(open)
	if end < 0 {
		return fn, arg, 0, false
	}
	return w.toks[first], [2]int{w.toks[open].End, w.toks[end].Start}, w.toks[end].End, true
}

// outerCall is the byte range of the function call that starts select
// item i: `COALESCE(avg(x), 0) AS a` gives "COALESCE(avg(x), 0)".
func (cl *clauses) outerCall(w *rewriter, i int) (from, to int, ok bool) {
	if i >= len(cl.items) {
		return 0, 0, false
	}
	first := cl.items[i][0]
	open := w.next(first)
	if open >= cl.items[i][1] || !w.punct(open, "(") {
		return 0, 0, false
	}
	end := w.closing(open)
	if end < 0 {
		return 0, 0, false
	}
	return w.toks[first].Start, w.toks[end].End, true
}

// itemText is select item i as the client wrote it (literals restored).
func (cl *clauses) itemText(w *rewriter, i int) string {
	r := cl.items[i]
	text, _ := w.render([]piece{span(w.toks[r[0]].Start, w.toks[r[1]-1].End)})
	return text
}

// edit replaces the byte range [from, to) of the normalized text.
type edit struct {
	from, to int
	repl     []piece
}

// applyEdits turns non-overlapping edits into the pieces of the new text.
func applyEdits(n int, edits []edit) []piece {
	slices.SortStableFunc(edits, func(a, b edit) int { return a.from - b.from })
	var out []piece
	pos := 0
	for _, e := range edits {
		out = append(out, span(pos, e.from))
		out = append(out, e.repl...)
		pos = e.to
	}
	return append(out, span(pos, n))
}
