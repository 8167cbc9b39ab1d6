package pgserver

import (
	"fmt"
	"strings"

	"github.com/shardgate/shardgate/router/sqltext"
)

// sessionCommand handles statements about session state, which under
// transaction pooling belongs to the client, not to a server connection:
// DISCARD and DEALLOCATE are answered here (running them on a pooled
// connection would drop the statements shardgate prepared there), and
// session-lasting state a pooled connection cannot keep is refused.
func (s *session) sessionCommand(sql string) (done bool, err error) {
	w := leadingWords(sql, 3)
	if len(w) == 0 {
		return false, nil
	}
	switch w[0] {
	case "DISCARD":
		if len(w) > 1 && w[1] == "ALL" {
			if s.tx.open {
				return true, &clientError{code: "25001", msg: "DISCARD ALL cannot run inside a transaction block"}
			}
			s.resetAllSettings()
			clear(s.ext.stmts)
			clear(s.sqlStmts)
			clear(s.ext.portals)
			s.closeHeld() // DISCARD ALL releases advisory locks: closing their connections does
		}
		return true, s.complete(strings.Join(w[:min(2, len(w))], " "))
	case "DEALLOCATE":
		// SQL-level PREPARE is refused, but clients drop protocol-level
		// statements this way too (libpq, Rails): forget the client's.
		name, all := deallocated(sql)
		if all {
			clear(s.ext.stmts)
			clear(s.sqlStmts)
			return true, s.complete("DEALLOCATE ALL")
		}
		_, protocol := s.ext.stmts[name]
		_, sql := s.sqlStmts[name]
		if !protocol && !sql {
			return true, &clientError{code: "26000", msg: fmt.Sprintf("prepared statement %q does not exist", name)}
		}
		delete(s.ext.stmts, name)
		delete(s.sqlStmts, name)
		return true, s.complete("DEALLOCATE")
	case "LISTEN", "UNLISTEN":
		return true, &clientError{code: "0A000", msg: w[0] + " needs a server connection of its own for the whole session; shardgate pools connections per transaction"}
	case "CREATE":
		temp := len(w) > 1 && (w[1] == "TEMP" || w[1] == "TEMPORARY") ||
			len(w) > 2 && (w[1] == "LOCAL" || w[1] == "GLOBAL") && (w[2] == "TEMP" || w[2] == "TEMPORARY")
		if temp {
			return true, &clientError{code: "0A000", msg: "temporary tables last a session, but shardgate pools server connections per transaction; use a regular table"}
		}
	}
	return false, nil
}

// deallocated reads DEALLOCATE [PREPARE] { name | ALL }: the statement's
// name (folded to lower case unless quoted), or all.
func deallocated(sql string) (name string, all bool) {
	toks, err := sqltext.Tokens(sqltext.Postgres, sql)
	if err != nil {
		return "", false
	}
	var words []sqltext.Token
	for _, t := range toks {
		if t.Kind == sqltext.TokWord || t.Kind == sqltext.TokQuotedIdent {
			words = append(words, t)
		}
	}
	if len(words) > 2 && words[1].Kind == sqltext.TokWord && strings.EqualFold(words[1].Text(sql), "PREPARE") {
		words = append(words[:1], words[2:]...)
	}
	if len(words) < 2 {
		return "", false
	}
	text := words[1].Text(sql)
	if words[1].Kind == sqltext.TokWord && strings.EqualFold(text, "ALL") {
		return "", true
	}
	return unquoteIdent(text), false
}

// leadingWords returns the first n words of a statement, upper-cased.
func leadingWords(sql string, n int) []string {
	toks, err := sqltext.Tokens(sqltext.Postgres, sql)
	if err != nil {
		return nil
	}
	var out []string
	for _, t := range toks {
		if t.Kind != sqltext.TokWord {
			if t.Kind == sqltext.TokSpace || t.Kind == sqltext.TokComment {
				continue
			}
			break
		}
		out = append(out, strings.ToUpper(t.Text(sql)))
		if len(out) == n {
			break
		}
	}
	return out
}
