package router

import (
	"container/list"
	"sync"
)

// shapeCache is a bounded LRU of analyzed statement shapes keyed by their
// normalized text. A hit is what makes a repeated point query cost no
// parse. Errors are cached too, so a malformed statement repeated in a
// loop does not re-run the parser either.
type shapeCache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List // front: most recently used
	items map[string]*list.Element
}

type shapeEntry struct {
	key  string
	stmt *Statement
	err  error
}

func newShapeCache(max int) *shapeCache {
	return &shapeCache{max: max, ll: list.New(), items: make(map[string]*list.Element, max)}
}

func (c *shapeCache) get(key string) (*Statement, error, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, nil, false
	}
	c.ll.MoveToFront(el)
	e := el.Value.(*shapeEntry)
	return e.stmt, e.err, true
}

func (c *shapeCache) put(key string, stmt *Statement, err error) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.ll.MoveToFront(el)
		return
	}
	c.items[key] = c.ll.PushFront(&shapeEntry{key: key, stmt: stmt, err: err})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*shapeEntry).key)
	}
}

func (c *shapeCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
