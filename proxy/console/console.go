// Package console answers SHOW SHARDGATE statements: what a DBA asks a
// running proxy from the SQL client already open on it (psql, the
// mariadb client), as vtgate answers SHOW VITESS_SHARDS and PgBouncer its
// admin console. The shards and their servers with health and pool use
// are the admin endpoint's /topology as tables; with them come the
// connected clients and where a key lives. Both proxies render a Result
// in their own protocol; only users marked admin: true may ask.
package console

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shardgate/shardgate/proxy/admin"
	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/topology"
)

var (
	// ErrUnknown: not a SHOW SHARDGATE command the console knows.
	ErrUnknown = errors.New("unknown SHOW SHARDGATE command")
	// ErrInvalid: a known command with arguments it cannot use.
	ErrInvalid = errors.New("invalid SHOW SHARDGATE arguments")
)

// Result is a table of text values ("" where a value is unknown).
type Result struct {
	Columns []string
	Rows    [][]string
}

// Client is one connected client session.
type Client struct {
	Protocol, User, Database, Remote string
	Since                            time.Time
	Active                           bool // running a statement or holding a transaction open
}

// Sources is what the console reads: the view the admin endpoint serves,
// the clients of both proxies and the statement counters of the
// metrics. Any may be nil.
type Sources struct {
	View    func() admin.View
	Clients func() []Client
	Stats   func() []metrics.QueryTotal
}

// commands lists what SHOW SHARDGATE answers, for HELP and errors.
var commands = [][2]string{
	{"SHOW SHARDGATE HELP", "this list"},
	{"SHOW SHARDGATE DATABASES", "the logical databases: protocol, shards, tables, transaction mode, read policy"},
	{"SHOW SHARDGATE SHARDS", "every server of every shard: role, health, replication lag, statements in flight"},
	{"SHOW SHARDGATE POOLS", "every server's connection pool: open, in use, idle, waiting clients"},
	{"SHOW SHARDGATE CLIENTS", "the connected clients: user, database, address, since when, active or idle"},
	{"SHOW SHARDGATE STATS", "statements since start by database and route: count, errors, total and average time"},
	{"SHOW SHARDGATE LOCATE table value", "where a key of the session's database lives: keyspace id, shard, servers"},
	{"SHOW SHARDGATE TOPOLOGY", "the topology file in force: path, SHA-256, when it was loaded"},
}

// IsCommand reports whether sql is a SHOW SHARDGATE statement. It
// allocates nothing and gives up at the first letter of other statements,
// so a proxy may ask it of every statement.
func IsCommand(sql string) bool {
	rest, ok := cutWord(sql, "SHOW")
	if ok {
		_, ok = cutWord(rest, "SHARDGATE")
	}
	return ok
}

// cutWord reports whether s, past leading white space, starts with word
// (in any case) as a whole word, and returns what follows it.
func cutWord(s, word string) (string, bool) {
	s = strings.TrimLeft(s, " \t\r\n")
	if len(s) < len(word) || !strings.EqualFold(s[:len(word)], word) {
		return "", false
	}
	rest := s[len(word):]
	if rest != "" && !strings.ContainsRune(" \t\r\n;", rune(rest[0])) {
		return "", false
	}
	return rest, true
}

// Run answers a SHOW SHARDGATE statement of a session whose logical
// database is db (nil: none chosen yet, MySQL).
func Run(sql string, db *topology.DB, src Sources) (*Result, error) {
	args, err := arguments(sql)
	if err != nil {
		return nil, err
	}
	if len(args) < 3 || !IsCommand(sql) {
		return nil, fmt.Errorf("%w: %q (SHOW SHARDGATE HELP lists them)", ErrUnknown, sql)
	}
	what, rest := strings.ToUpper(args[2]), args[3:]
	if what != "LOCATE" && len(rest) > 0 {
		return nil, fmt.Errorf("%w: SHOW SHARDGATE %s takes no arguments", ErrInvalid, what)
	}
	var view admin.View
	if src.View != nil {
		view = src.View()
	}
	switch what {
	case "HELP":
		r := &Result{Columns: []string{"command", "shows"}}
		for _, c := range commands {
			r.Rows = append(r.Rows, []string{c[0], c[1]})
		}
		return r, nil
	case "DATABASES":
		return databases(view), nil
	case "SHARDS":
		return shards(view), nil
	case "POOLS":
		return pools(view), nil
	case "CLIENTS":
		var cs []Client
		if src.Clients != nil {
			cs = src.Clients()
		}
		return clients(cs), nil
	case "STATS":
		var ts []metrics.QueryTotal
		if src.Stats != nil {
			ts = src.Stats()
		}
		return stats(ts), nil
	case "TOPOLOGY":
		return &Result{Columns: []string{"path", "sha256", "loaded_at"},
			Rows: [][]string{{view.Source.Path, view.Source.SHA256, stamp(view.Source.LoadedAt)}}}, nil
	case "LOCATE":
		if len(rest) != 2 {
			return nil, fmt.Errorf("%w: want SHOW SHARDGATE LOCATE table value", ErrInvalid)
		}
		if db == nil {
			return nil, fmt.Errorf("%w: the session has no database: choose one first (USE)", ErrInvalid)
		}
		return locate(db, rest[0], rest[1])
	}
	return nil, fmt.Errorf("%w: %s (SHOW SHARDGATE HELP lists them)", ErrUnknown, what)
}

// stamp writes a time as PostgreSQL and MySQL clients read it back.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05.000000")
}

// arguments splits a statement into words: bare words, or literals in
// single quotes (” for a quote inside) or double quotes (an identifier).
// One trailing ';' is allowed.
func arguments(sql string) ([]string, error) {
	var out []string
	s := strings.TrimRight(strings.TrimSpace(sql), ";")
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			return out, nil
		}
		if q := s[0]; q == '\'' || q == '"' || q == '`' {
			var b strings.Builder
			i := 1
			for ; i < len(s); i++ {
				if s[i] == q {
					if i+1 < len(s) && s[i+1] == q {
						b.WriteByte(q)
						i++
						continue
					}
					break
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("%w: unterminated quoted string", ErrInvalid)
			}
			out = append(out, b.String())
			s = s[i+1:]
			continue
		}
		end := strings.IndexAny(s, " \t\r\n")
		if end < 0 {
			end = len(s)
		}
		out = append(out, s[:end])
		s = s[end:]
	}
}
