package myserver

import (
	"strconv"
	"strings"
	"sync"

	"github.com/shardgate/shardgate/proxy/mysqlwire"
)

// Drivers such as go-sql-driver (without interpolateParams) prepare,
// execute and close every query that has arguments. Answering each
// COM_STMT_PREPARE from a server would cost a round trip per query on top
// of the execute, so the answers (parameter count, column count and the
// definitions) are kept per text and answered by the proxy; the servers
// prepare the text lazily on each connection that executes it, as for
// any client statement. The answer depends on the database and the
// session's settings (SET NAMES gives the column charsets), which are
// part of the key; a text reading user variables (@x, whose type is the
// value's) is never kept. DDL through the proxy forgets them all. DDL run
// on the servers directly can leave a kept column list stale until then;
// clients read the columns of each execute's own answer, which the
// server sends fresh.

// maxStmtDefs bounds the answers kept; past it the cache starts over.
const maxStmtDefs = 4096

// stmtDefs is a server's answer to COM_STMT_PREPARE for one text.
type stmtDefs struct {
	ok      mysqlwire.PrepareOK // StatementID unused
	packets [][]byte            // parameter then column definitions, each block with its EOF
}

// stmtDefsCache is shared by a Server's sessions.
type stmtDefsCache struct {
	mu    sync.Mutex
	epoch uint64 // bumped by forget: an answer read across a DDL is not kept
	m     map[string]*stmtDefs
}

func (c *stmtDefsCache) get(key string) (*stmtDefs, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key], c.epoch
}

func (c *stmtDefsCache) put(key string, d *stmtDefs, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return
	}
	if c.m == nil || len(c.m) >= maxStmtDefs {
		c.m = map[string]*stmtDefs{}
	}
	c.m[key] = d
}

// forget drops every answer (DDL may change any table's columns).
func (c *stmtDefsCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.m = nil
}

// defsKey is the cache key of a text for this session, "" for a text
// whose answer is not kept.
func (s *session) defsKey(sql string) string {
	if strings.IndexByte(sql, '@') >= 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(s.dbName)
	b.WriteByte(0)
	b.WriteString(strconv.FormatUint(uint64(len(s.sets)), 10))
	for _, st := range s.sets {
		b.WriteByte(0)
		b.WriteString(st.sql)
	}
	b.WriteByte(0)
	b.WriteString(sql)
	return b.String()
}

// answerPrepare answers COM_STMT_PREPARE from kept definitions.
func (s *session) answerPrepare(sql string, d *stmtDefs) error {
	st := s.newClientStmt(sql, d.ok)
	mine := d.ok
	mine.StatementID = st.id
	s.out = mysqlwire.AppendPrepareOK(s.out[:0], mine)
	if err := s.forward(s.out); err != nil {
		return err
	}
	for _, p := range d.packets {
		s.out = append(s.out[:0], p...)
		if mysqlwire.IsEOF(s.out) {
			s.patchStatus(s.out, false)
		}
		if err := s.forward(s.out); err != nil {
			return err
		}
	}
	return nil
}
