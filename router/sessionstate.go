package router

import (
	"fmt"
	"strings"
)

// set_config and LOCK TABLE: statements that change what a session or a
// transaction holds on its servers, so the proxy must see them as such.

// setConfig plans SELECT set_config(name, value, is_local) as the SET it
// is: with is_local false it changes the session, which the proxy must
// carry to every server connection the session uses (run on a pooled
// connection as a plain SELECT, it would stay there for the next client).
func (c *planner) setConfig() (*Plan, error) {
	args := *c.st.SetConfig
	name, null, err := c.b.text(args[0])
	if err != nil || null || name == "" {
		return nil, fmt.Errorf("%w: set_config() whose setting name the proxy cannot read", ErrUnsupported)
	}
	local, err := c.boolValue(args[2])
	if err != nil {
		return nil, err
	}
	st := *c.st // the analyzed statement is shared through the cache: a copy
	st.Object, st.SetLocal = strings.ToLower(name), local
	if st.Object == "default_transaction_read_only" && !local {
		if value, null, err := c.b.text(args[1]); err == nil && !null {
			st.SessionReadOnly = AccessMode(value)
		}
	}
	p := &Plan{Statement: &st, Route: RouteLocal, Reason: "set_config() is a SET: handled by the session"}
	if c.b.fromClient(args[0]) || c.b.fromClient(args[1]) || c.b.fromClient(args[2]) {
		// The session keeps settings as statements to run again: one
		// with the values written in.
		value, null, err := c.b.text(args[1])
		if err != nil {
			return nil, fmt.Errorf("%w: set_config() whose value the proxy cannot read", ErrUnsupported)
		}
		v := "NULL"
		if !null {
			v = quoteLiteral(value)
		}
		p.SessionSQL = fmt.Sprintf("SELECT pg_catalog.set_config(%s, %s, %t)", quoteLiteral(name), v, local)
	}
	return p, nil
}

// AccessMode reads a boolean setting's value (on/off, true/false, yes/no,
// 1/0, in any case) as an access mode (see Statement.ReadOnly): 1 for
// read only, -1 for read write, 0 when it is none of those.
func AccessMode(value string) int8 {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "on", "true", "yes", "1", "t", "y":
		return 1
	case "off", "false", "no", "0", "f", "n":
		return -1
	}
	return 0
}

// quoteLiteral writes s as a PostgreSQL string constant, whatever
// standard_conforming_strings says.
func quoteLiteral(s string) string {
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		return "E" + strings.ReplaceAll(q, `\`, `\\`)
	}
	return q
}

// checkConfigLocals refuses a statement that calls set_config with
// is_local other than true inside a larger statement: that changes the
// session on one server connection where the proxy cannot see it.
func (c *planner) checkConfigLocals() error {
	for _, v := range c.st.ConfigLocals {
		if local, err := c.boolValue(v); err != nil || !local {
			return fmt.Errorf("%w: set_config(name, value, false) inside a larger statement (a session setting the proxy could not carry to its other server connections); run SELECT set_config(...) on its own, or use SET", ErrUnsupported)
		}
	}
	return nil
}

// boolValue reads a boolean constant as PostgreSQL's input function does.
func (c *planner) boolValue(v ValueRef) (bool, error) {
	if v.Lit == nil && v.Slot == 0 {
		return false, fmt.Errorf("%w: set_config() whose is_local argument is not a constant", ErrUnsupported)
	}
	s, null, err := c.b.text(v)
	if err != nil || null {
		return false, fmt.Errorf("%w: set_config() whose is_local argument the proxy cannot read", ErrUnsupported)
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "t", "true", "y", "yes", "on", "1":
		return true, nil
	case "f", "false", "n", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%w: set_config() is_local %q is not a boolean", ErrUnsupported, s)
}

// fromClient reports whether v is one of the client's bound parameters
// rather than a constant in the text.
func (b binder) fromClient(v ValueRef) bool {
	if v.Lit != nil || v.Slot == 0 {
		return false
	}
	if b.slots == nil {
		return true // analyzed as written: every placeholder is the client's
	}
	return v.Slot <= len(b.slots) && b.slots[v.Slot-1].Param != 0
}

// lock plans LOCK TABLE(S): a sharded or reference table has rows (or a
// copy) on every shard, so it is locked on every shard's primary; a table
// not listed only on the unsharded shard. PostgreSQL allows LOCK only in
// a transaction; outside one a server says so. MySQL's LOCK TABLES lasts
// the session: the proxy keeps each connection it ran on for the client
// until UNLOCK TABLES (see the MySQL proxy).
func (c *planner) lock() (*Plan, error) {
	every := false
	for _, r := range c.st.Tables {
		if lookupTable(c.db, r) != nil {
			every = true
		}
	}
	if !every {
		p := c.anyShard(RolePrimary, "LOCK of tables not listed: the unsharded shard")
		if c.sess.Pinned == nil {
			p.Targets[0].Shard, p.AnyShard = c.db.Unsharded, false
		}
		return p, nil
	}
	p := &Plan{Statement: c.st, Route: RouteBroadcast, Reason: "LOCK of a sharded or reference table: every shard primary"}
	for _, sh := range c.db.Shards {
		p.Targets = append(p.Targets, Target{Shard: sh, Role: RolePrimary})
	}
	return p, nil
}

// readOnlySpan reports whether a transaction may span shards because it
// was declared READ ONLY (see Statement.ReadOnly).
func readOnlySpan(p *Plan, s Session) bool {
	return s.ReadOnly && !p.Write
}
