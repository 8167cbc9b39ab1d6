// Package sqltext is the router's fast path over SQL text: a tokenizer for
// the PostgreSQL and MySQL dialects, a normalizer that lifts literals out
// of a statement so that every statement of one shape shares one cached
// parse, and a splitter for multi-statement strings.
//
// A real parse costs tens of microseconds; Normalize costs a fraction of
// one and allocates twice (the text and the slots), so the router can
// afford it on every query. It lexes in one pass without storing tokens,
// uses no regular expressions and keeps no state between calls. No input
// makes it panic or loop (it is fuzzed); text it cannot lex (an
// unterminated quote or comment) is reported with ErrUnterminated.
//
// # What Normalize replaces, and what it leaves
//
// The normalized text must parse with the dialect's grammar, because it is
// what the analyzers see. A literal is therefore replaced only where an
// expression may stand: after an operator, '(', ',', '[', a reserved word
// such as WHERE, AND, THEN, LIMIT (keywords.go), or at the start of a
// statement. Everything else keeps its literals inline, which is never
// wrong (the cache key then includes the value), only less shared:
//
//   - typed literals: DATE '2024-01-01', INTERVAL '1 day' and, in
//     PostgreSQL, any "typename 'text'" form, and a number after
//     PostgreSQL's INTERVAL. MySQL's INTERVAL takes an expression, so
//     INTERVAL 1 DAY becomes INTERVAL ? DAY (a string after it too);
//   - MySQL column aliases written as strings (SELECT a 'x', AS 'x'), the
//     path after -> and ->>, and COLLATE / ESCAPE / SEPARATOR strings;
//   - type modifiers and precisions, which the grammars require to be
//     constants: numeric(10,2), varchar(255), CAST(x AS CHAR(10)),
//     timestamp(3), now(6);
//   - whole items of ORDER BY, GROUP BY (ROLLUP, CUBE, GROUPING SETS
//     included) and PostgreSQL's DISTINCT ON lists: ORDER BY 2 names a
//     column and must not share a shape with ORDER BY 1;
//   - PostgreSQL's U&'...' followed by UESCAPE, and a PostgreSQL literal
//     glued to an identifier character (WHERE'a', 5$x$), where "$n" would
//     lex differently.
//
// TRUE, FALSE and NULL are keywords and stay. A '-' directly before a
// number folds into the literal when the token before it cannot end an
// operand (an operator, '(', ',', a reserved word, the start), so
// "id = -5" gives "id = $1" with the value "-5", while "a -5" keeps the
// minus as an operator: "a -$1".
//
// Adjacent string constants are one value. PostgreSQL joins 'a' and 'b'
// separated by whitespace containing a newline, and its lexer returns them
// as one token, as does this one. MySQL joins any run of quoted strings
// ('a' "b" 'c'); the run becomes one placeholder whose Raw spans it and
// whose value is the concatenation.
//
// Only statements whose first word is SELECT, INSERT, UPDATE, DELETE,
// REPLACE (MySQL), WITH, VALUES, TABLE, or EXPLAIN (MySQL also DESCRIBE)
// followed by one of those are normalized; in a multi-statement string
// each statement is judged by its own first word. A statement with more
// than 65535 placeholders (the most either server binds) is left as it is.
//
// # Hints
//
// Block comments anywhere in the text (/* */ and /*+ */, not MySQL's
// executable /*! */) carry routing hints as key=value pairs: shard=80-,
// key=42, role=primary. See parseHints for the syntax.
//
// # Assumptions about session settings
//
// PostgreSQL: standard_conforming_strings=on (backslashes are literal in
// '...'). MySQL: the default sql_mode, so "..." is a string (not
// ANSI_QUOTES) and backslash escapes are on (not NO_BACKSLASH_ESCAPES).
package sqltext
