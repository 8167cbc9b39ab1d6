package router

import "sync"

// ColumnCache remembers tables' column orders that a proxy learnt from a
// server for INSERTs naming no columns (see ColumnsNeededError). Safe for
// concurrent use; the zero value is ready.
type ColumnCache struct {
	mu     sync.Mutex
	tables map[columnKey][]string
}

type columnKey struct{ database, table string }

// Get returns the columns of a table of a logical database, if known.
func (c *ColumnCache) Get(database, table string) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cols, ok := c.tables[columnKey{database, table}]
	return cols, ok
}

// Put records a table's columns.
func (c *ColumnCache) Put(database, table string, cols []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tables == nil {
		c.tables = map[columnKey][]string{}
	}
	c.tables[columnKey{database, table}] = cols
}

// Forget drops what is known of a database's tables (after DDL).
func (c *ColumnCache) Forget(database string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.tables {
		if k.database == database {
			delete(c.tables, k)
		}
	}
}
