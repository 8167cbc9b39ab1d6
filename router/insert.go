package router

import (
	"fmt"
	"strings"

	"github.com/shardgate/shardgate/topology"
)

// insert routes INSERT/REPLACE: each VALUES row to the primary of the
// shard its key hashes to; rows for several shards split the statement.
func (c *planner) insert() (*Plan, error) {
	ins := c.st.Insert
	if ins == nil {
		return nil, fmt.Errorf("%w: INSERT without a description", ErrUnsupported)
	}
	t := lookupTable(c.db, ins.Table)
	switch {
	case t == nil:
		return c.write("INSERT into an unsharded table")
	case t.Kind == topology.Reference:
		if ins.Select != nil {
			loc, err := c.locate()
			if err != nil {
				return nil, err
			}
			if !loc.reference {
				return nil, fmt.Errorf("%w: INSERT ... SELECT into reference table %s may read only reference tables (every shard runs it on its own copy)", ErrUnsupported, t.Name)
			}
		}
		return c.broadcast("reference table write: every shard primary"), nil
	}
	if ins.Select != nil {
		return c.insertSelect(t)
	}
	for _, col := range ins.UpsertSets {
		if strings.EqualFold(col, t.Key) {
			return nil, fmt.Errorf("%w: the upsert sets %s.%s, the sharding key; a row cannot move between shards", ErrKeyChange, t.Name, t.Key)
		}
	}
	cols := ins.Columns
	if cols == nil && c.columns != nil {
		cols = c.columns(t.Name) // INSERT INTO t VALUES (...): the table's own order
	}
	keyCol := -1
	for i, col := range cols {
		if strings.EqualFold(col, t.Key) {
			keyCol = i
			break
		}
	}
	switch {
	case cols == nil:
		return nil, &ColumnsNeededError{Table: t.Name, Key: t.Key}
	case keyCol < 0:
		return nil, fmt.Errorf("%w: INSERT into sharded table %s does not set its key column %s; every row must carry its key (it decides the shard)", ErrMissingKey, t.Name, t.Key)
	case len(ins.Rows) == 0:
		return nil, fmt.Errorf("%w: INSERT into sharded table %s has no VALUES rows", ErrMissingKey, t.Name)
	}

	// Shard of every row, and the rows of each shard in order.
	rowsOf := map[int][]int{}
	var order []int // shard indexes in first-row order
	for r, row := range ins.Rows {
		if keyCol >= len(row) {
			return nil, fmt.Errorf("%w: row %d of the INSERT has no value for key %s", ErrMissingKey, r+1, t.Key)
		}
		id, err := c.b.keyspaceID(t.KeyType, row[keyCol])
		if err != nil {
			return nil, fmt.Errorf("%w: row %d: key %s.%s: %v", ErrMissingKey, r+1, t.Name, t.Key, err)
		}
		s := c.db.ShardIndex(id)
		if _, ok := rowsOf[s]; !ok {
			order = append(order, s)
		}
		rowsOf[s] = append(rowsOf[s], r)
	}
	p := &Plan{Statement: c.st, Route: RouteSingle, Write: true}
	if len(order) == 1 {
		p.Reason = "sharding key: one shard"
		p.Targets = []Target{{Shard: c.db.Shards[order[0]], Role: RolePrimary}}
		return p, nil
	}
	spans, err := c.valuesRows(len(ins.Rows))
	if err != nil {
		return nil, err
	}
	w := spans.w
	p.Route, p.SumAffected = RouteScatter, true
	p.Reason = fmt.Sprintf("multi-row INSERT split over %d shards", len(order))
	for _, s := range order {
		pieces := []piece{span(0, spans.rows[0][0])}
		for i, r := range rowsOf[s] {
			if i > 0 {
				pieces = append(pieces, lit(", "))
			}
			pieces = append(pieces, span(spans.rows[r][0], spans.rows[r][1]))
		}
		pieces = append(pieces, span(spans.rows[len(spans.rows)-1][1], len(c.text)))
		sql, params := w.render(pieces)
		p.Targets = append(p.Targets, Target{Shard: c.db.Shards[s], Role: RolePrimary, SQL: sql, Params: params})
	}
	return p, nil
}

type valuesSpans struct {
	w    *rewriter
	rows [][2]int // byte range of each "( ... )" row in the normalized text
}

// valuesRows finds the text of each VALUES row: the parenthesized groups
// separated by commas right after the top-level VALUES keyword.
func (c *planner) valuesRows(want int) (valuesSpans, error) {
	w, err := newRewriter(c.dialect, c.text, c.b)
	if err != nil {
		return valuesSpans{}, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	i := 0
	for ; i < len(w.toks); i++ {
		if w.toks[i].Depth == 0 && (w.word(i, "VALUES") || w.word(i, "VALUE")) {
			break
		}
	}
	var rows [][2]int
	for i = w.next(i); i < len(w.toks) && w.punct(i, "("); {
		end := w.closing(i)
		if end < 0 {
			break
		}
		rows = append(rows, [2]int{w.toks[i].Start, w.toks[end].End})
		i = w.next(end)
		if i >= len(w.toks) || !w.punct(i, ",") {
			break
		}
		i = w.next(i)
	}
	if len(rows) != want {
		return valuesSpans{}, fmt.Errorf("%w: found %d VALUES rows in the text but the parser saw %d; cannot split this INSERT", ErrUnsupported, len(rows), want)
	}
	return valuesSpans{w: w, rows: rows}, nil
}

// insertSelect routes INSERT INTO t (..., key, ...) SELECT ..., k, ...
// where k is the sharding key column of a source table with the same key
// type: every selected row carries a key that lives on the shard the row
// is read from, so each shard inserts its own rows, and the statement
// runs on the shards of the source (all of them without a key). Anything
// else is refused: the proxy cannot see where each selected row belongs.
func (c *planner) insertSelect(t *topology.Table) (*Plan, error) {
	ins := c.st.Insert
	refuse := fmt.Errorf("%w: INSERT ... SELECT into sharded table %s must select its key %s from the key column of a sharded source table (same key type), so every row stays on its shard", ErrUnsupported, t.Name, t.Key)
	keyCol := -1
	for i, col := range ins.Columns {
		if strings.EqualFold(col, t.Key) {
			keyCol = i
		}
	}
	src := ins.Select
	if keyCol < 0 || src.Select == nil || src.Select.Compound != "" || keyCol >= len(src.Select.Items) || src.Select.Items[keyCol].Column == nil {
		return nil, refuse
	}
	col := *src.Select.Items[keyCol].Column
	found := false
	for _, r := range ownTables(src) {
		st := lookupTable(c.db, r)
		if st == nil || st.Kind != topology.Sharded || st.KeyType != t.KeyType || !strings.EqualFold(st.Key, col.Name) {
			continue
		}
		name := r.Alias
		if name == "" {
			name = r.Name
		}
		if col.Qualifier == "" || strings.EqualFold(col.Qualifier, name) {
			found = true
		}
	}
	if !found {
		return nil, refuse
	}
	sub := *c
	sub.st = src
	loc, err := sub.locate()
	if err != nil {
		return nil, err
	}
	shards := loc.shards.shards(c.db)
	if len(shards) == 0 {
		shards = []*topology.Shard{c.db.Shards[0]}
	}
	p := &Plan{Statement: c.st, Route: RouteSingle, Write: true, Reason: "INSERT ... SELECT keeps rows on their shard: " + reasonFor(loc, len(shards), len(c.db.Shards))}
	for _, sh := range shards {
		p.Targets = append(p.Targets, Target{Shard: sh, Role: RolePrimary})
	}
	if len(shards) > 1 {
		p.Route, p.SumAffected = RouteScatter, true
	}
	return p, nil
}
