package pgserver

import (
	"encoding/json"
	"strings"
	"sync"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/shardgate/shardgate/proxy/merge"
)

// The order of text in a merge. The shards sort text columns by their
// database's collation; a merge of their rows must compare the same way.
// RowDescription does not say which collation a column has, so the
// database's default is learnt once per server database (pg_database)
// and given to the merge as a CLDR collation (golang.org/x/text): the
// same rules ICU implements, and close to glibc's locales for letters,
// digits and punctuation. The merge checks every shard's order against
// it and stops with an error where they disagree. C, POSIX, C.UTF-8 and
// the builtin provider order bytewise, as the merge does by default.

// textOrders caches each server database's collation tag ("" for
// bytewise), keyed by address and database.
type textOrders struct{ m sync.Map }

// of returns the collation tag of the database c is logged in to,
// asking the server the first time.
func (t *textOrders) of(c *backendConn, database string) string {
	key := c.addr + "/" + database
	if v, ok := t.m.Load(key); ok {
		return v.(string)
	}
	rows, err := c.column("SELECT to_jsonb(d)::text FROM pg_database d WHERE datname = current_database()")
	if err != nil || len(rows) != 1 {
		return "" // unknown: bytewise, the merge's own check still applies
	}
	tag := collationTag(rows[0])
	t.m.Store(key, tag)
	return tag
}

// collationTag maps a pg_database row (as JSON, any PostgreSQL version)
// to a BCP 47 tag for golang.org/x/text/collate, or "" for bytewise.
func collationTag(row string) string {
	var d struct {
		Provider   string `json:"datlocprovider"` // 15+: c libc, i icu, b builtin
		Collate    string `json:"datcollate"`
		ICULocale  string `json:"daticulocale"` // 15, 16
		LocaleName string `json:"datlocale"`    // 17+
	}
	if json.Unmarshal([]byte(row), &d) != nil {
		return ""
	}
	switch d.Provider {
	case "i":
		loc := d.ICULocale
		if loc == "" {
			loc = d.LocaleName
		}
		return parseTag(strings.ReplaceAll(loc, "_", "-"), "")
	case "b":
		return ""
	}
	// libc: "en_US.UTF-8", "de_DE@euro", "C", "POSIX", "C.UTF-8"
	name := d.Collate
	if i := strings.IndexAny(name, ".@"); i >= 0 {
		name = name[:i]
	}
	if name == "" || name == "C" || name == "POSIX" || strings.EqualFold(name, "ucs_basic") {
		return ""
	}
	// glibc's locales ignore punctuation and spaces at first: CLDR's
	// "shifted" alternate handling.
	return parseTag(strings.ReplaceAll(name, "_", "-"), "ka-shifted")
}

func parseTag(s, ext string) string {
	tag, err := language.Parse(s)
	if err != nil || tag == language.Und && s != "und" && s != "root" {
		return ""
	}
	if ext != "" {
		if t, err := language.Parse(tag.String() + "-u-" + ext); err == nil {
			tag = t
		}
	}
	return tag.String()
}

// isText: a text type whose column takes the database's collation
// (name is always "C").
func isText(oid uint32) bool {
	return oid == oidText || oid == oidVarchar || oid == oidBPChar
}

// collation orders text for one merge by a CLDR tag.
type collation struct {
	c   *collate.Collator
	buf collate.Buffer
}

func newCollation(tag string) merge.Collation {
	t, err := language.Parse(tag)
	if err != nil {
		return nil
	}
	return &collation{c: collate.New(t)}
}

func (k *collation) Key(dst, v []byte) []byte {
	dst = append(dst, k.c.Key(&k.buf, v)...)
	k.buf.Reset()
	return dst
}
