package mysql

import (
	"regexp"
	"strings"

	"github.com/shardgate/shardgate/router/sqltext"
)

// The text is prepared before parsing by rewrites that keep its length,
// so that byte offsets (and so placeholder numbers) are those of the
// client's text.

// mariadbComments rewrites MariaDB executable comments (/*M!...*/ and
// /*M!NNNNNN ...*/), which MariaDB runs but the TiDB parser would skip as
// plain comments, into MySQL ones (/*!...*/) of the same length, so that
// byte offsets, and so placeholder numbers, stay those of the text. The
// version is not compared (the servers are assumed recent), except for
// 999999, mariadb-dump's never-run sandbox marker. Text inside quotes and
// plain comments is left alone.
func mariadbComments(sql string) string {
	if !strings.Contains(sql, "/*M!") {
		return sql
	}
	b := []byte(sql)
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(b, i)
		case c == '#' || (c == '-' && i+2 < len(b) && b[i+1] == '-' && isSpace(b[i+2])):
			for i < len(b) && b[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			switch {
			case i+2 < len(b) && b[i+2] == '!':
				i += 3 // a MySQL executable comment: its content is code
			case i+3 < len(b) && b[i+2] == 'M' && b[i+3] == '!':
				i = rewriteMariaDB(b, i)
			default:
				end := strings.Index(string(b[i+2:]), "*/")
				if end < 0 {
					return string(b)
				}
				i += end + 4
			}
		default:
			i++
		}
	}
	return string(b)
}

// rewriteMariaDB rewrites the /*M! opening at b[i:] and returns where
// scanning goes on.
func rewriteMariaDB(b []byte, i int) int {
	k := 0
	for k < 6 && i+4+k < len(b) && b[i+4+k] >= '0' && b[i+4+k] <= '9' {
		k++
	}
	switch {
	case k == 6 && string(b[i+4:i+10]) == "999999":
		end := strings.Index(string(b[i+2:]), "*/")
		if end < 0 {
			return len(b)
		}
		return i + end + 4 // never run: stays a comment
	case k >= 5:
		// /*M!NNNNN[N] -> /*!00000 plus spaces: the parser reads five digits
		// as the version.
		n := copy(b[i:], "/*!00000")
		for j := i + n; j < i+4+k; j++ {
			b[j] = ' '
		}
	default:
		copy(b[i:], "/*! ") // no version: digits, if any, are code
	}
	return i + 4 + k
}

// skipQuoted returns the index after the quoted string or identifier that
// starts at b[i].
func skipQuoted(b []byte, i int) int {
	q := b[i]
	for i++; i < len(b); i++ {
		switch {
		case b[i] == '\\' && q != '`':
			i++
		case b[i] == q:
			if i+1 < len(b) && b[i+1] == q {
				i++
				continue
			}
			return i + 1
		}
	}
	return len(b)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// leadingWords returns the first n words of sql, upper-cased, skipping
// whitespace, comments and the opening of executable comments (/*!40101).
func leadingWords(sql string, n int) []string {
	var words []string
	for _, w := range wordSpans(sql, n) {
		words = append(words, strings.ToUpper(sql[w[0]:w[1]]))
	}
	return words
}

// wordSpans returns the [start, end) byte spans of the first n words of
// sql (see leadingWords).
func wordSpans(sql string, n int) [][2]int {
	var spans [][2]int
	i := 0
	for i < len(sql) && len(spans) < n {
		c := sql[i]
		switch {
		case isSpace(c):
			i++
		case strings.HasPrefix(sql[i:], "/*!"):
			i += 3
			for i < len(sql) && sql[i] >= '0' && sql[i] <= '9' {
				i++
			}
		case strings.HasPrefix(sql[i:], "/*"):
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return spans
			}
			i += end + 4
		case c == '#' || strings.HasPrefix(sql[i:], "-- "):
			end := strings.IndexByte(sql[i:], '\n')
			if end < 0 {
				return spans
			}
			i += end + 1
		case isWordByte(c):
			j := i
			for j < len(sql) && isWordByte(sql[j]) {
				j++
			}
			spans = append(spans, [2]int{i, j})
			i = j
		default:
			return spans
		}
	}
	return spans
}

// maintenanceRE matches CHECK TABLE and REPAIR TABLE, which the TiDB
// grammar lacks, capturing their table list.
var maintenanceRE = regexp.MustCompile(`(?is)^\s*(?:check|repair(?:\s+(?:no_write_to_binlog|local))?)\s+tables?\s+(.*?)(?:\s+(?:quick|fast|medium|extended|changed|use_frm|for\s+upgrade))*\s*;?\s*$`)

// maintenanceAsOptimize rewrites CHECK TABLE and REPAIR TABLE as the
// OPTIMIZE TABLE of the same tables for analysis: all three are
// maintenance the proxy runs on every shard, each shard answering its own
// rows (the shards get the client's text). Unlike the other rewrites it
// changes the length: these statements take no placeholders.
func maintenanceAsOptimize(sql string) string {
	first := strings.TrimLeft(sql, " \t\r\n")
	if first == "" || !strings.ContainsRune("cCrR", rune(first[0])) {
		return sql
	}
	if m := maintenanceRE.FindStringSubmatch(sql); m != nil {
		return "OPTIMIZE TABLE " + m[1]
	}
	return sql
}

// dropWork blanks the optional WORK of BEGIN WORK, COMMIT WORK and
// ROLLBACK WORK, which the parser does not know, keeping the length.
func dropWork(sql string) string {
	w := wordSpans(sql, 2)
	if len(w) != 2 || !strings.EqualFold(sql[w[1][0]:w[1][1]], "WORK") {
		return sql
	}
	switch strings.ToUpper(sql[w[0][0]:w[0][1]]) {
	case "BEGIN", "COMMIT", "ROLLBACK":
		return sql[:w[1][0]] + "    " + sql[w[1][1]:]
	}
	return sql
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// dropReturning blanks MariaDB's RETURNING clause of INSERT, REPLACE and
// DELETE (Django uses it on MariaDB 10.5 and later), which the parser
// does not know, keeping the length: routing needs the rest, and the
// server gets the text as written (a split INSERT keeps the clause on
// every shard's part, and the shards' rows are concatenated).
func dropReturning(sql string) string {
	w := wordSpans(sql, 1)
	if len(w) != 1 {
		return sql
	}
	switch strings.ToUpper(sql[w[0][0]:w[0][1]]) {
	case "INSERT", "REPLACE", "DELETE":
	default:
		return sql
	}
	if !containsWordFold(sql, "returning") {
		return sql
	}
	toks, err := sqltext.Tokens(sqltext.MySQL, sql)
	if err != nil {
		return sql
	}
	depth := 0
	for _, t := range toks {
		text := t.Text(sql)
		switch {
		case t.Kind == sqltext.TokPunct && text == "(":
			depth++
		case t.Kind == sqltext.TokPunct && text == ")":
			depth--
		case depth == 0 && t.Kind == sqltext.TokWord && strings.EqualFold(text, "RETURNING"):
			end := len(sql)
			for end > t.Start && (isSpace(sql[end-1]) || sql[end-1] == ';') {
				end--
			}
			return sql[:t.Start] + strings.Repeat(" ", end-t.Start) + sql[end:]
		}
	}
	return sql
}

// containsWordFold reports whether s contains word, ASCII case-insensitively
// (a cheap test before tokenizing).
func containsWordFold(s, word string) bool {
	return strings.Contains(strings.ToLower(s), word)
}
