package postgres

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/shardgate/shardgate/router"
)

// utility describes the statements not handled in statement: DDL (KindDDL,
// run on every shard) and the rest (KindOther: LOCK, LISTEN, NOTIFY,
// DISCARD, DO, CALL, DECLARE/FETCH/CLOSE, CHECKPOINT, LOAD...). Tables are
// the tables the statement names; indexes, sequences and types are not
// tables.
func (a *analysis) utility(n *pg.Node) *built {
	fd := whichField(n)
	if fd == nil {
		return newBuilt(router.KindOther)
	}
	inner := n.ProtoReflect().Get(fd).Message()
	kind := router.KindOther
	if isDDL(string(inner.Descriptor().Name())) {
		kind = router.KindDDL
	}
	if _, ok := n.Node.(*pg.Node_LockStmt); ok {
		kind = router.KindLock
	}
	b := newBuilt(kind)
	switch x := n.Node.(type) {
	case *pg.Node_DropStmt:
		if tableLike(x.DropStmt.RemoveType) {
			for _, o := range x.DropStmt.Objects {
				addNamed(b, o.GetList().GetItems())
			}
		}
	case *pg.Node_CommentStmt:
		names := x.CommentStmt.Object.GetList().GetItems()
		switch {
		case tableLike(x.CommentStmt.Objtype):
			addNamed(b, names)
		case x.CommentStmt.Objtype == pg.ObjectType_OBJECT_COLUMN && len(names) > 1:
			addNamed(b, names[:len(names)-1])
		}
	case *pg.Node_ReindexStmt:
		if x.ReindexStmt.Kind == pg.ReindexObjectType_REINDEX_OBJECT_TABLE {
			b.addTable(x.ReindexStmt.Relation, nil)
		}
	case *pg.Node_AlterTableStmt:
		if tableLike(x.AlterTableStmt.Objtype) {
			b.addTable(x.AlterTableStmt.Relation, nil)
			a.walkList(b, x.AlterTableStmt.Cmds, nil)
		}
	case *pg.Node_RenameStmt:
		r := x.RenameStmt
		if !notTable(r.RenameType) && !notTable(r.RelationType) {
			b.addTable(r.Relation, nil)
		}
	case *pg.Node_AlterObjectSchemaStmt:
		if tableLike(x.AlterObjectSchemaStmt.ObjectType) {
			b.addTable(x.AlterObjectSchemaStmt.Relation, nil)
		}
	case *pg.Node_GrantStmt:
		g := x.GrantStmt
		if g.Objtype == pg.ObjectType_OBJECT_TABLE && g.Targtype == pg.GrantTargetType_ACL_TARGET_OBJECT {
			a.walkList(b, g.Objects, nil)
		}
	case *pg.Node_CreateSeqStmt, *pg.Node_AlterSeqStmt:
		// sequences are not tables
	default:
		a.walkMsg(b, inner, nil)
	}
	return b.finish()
}

// isDDL classifies a utility statement by its node name: schema changes,
// privileges and maintenance (VACUUM, ANALYZE, CLUSTER, REINDEX) run on
// every shard.
func isDDL(name string) bool {
	for _, p := range []string{"Create", "Alter", "Drop", "Define"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	switch name {
	case "TruncateStmt", "CommentStmt", "GrantStmt", "GrantRoleStmt", "RenameStmt", "IndexStmt",
		"ReindexStmt", "VacuumStmt", "ClusterStmt", "RefreshMatViewStmt", "SecLabelStmt", "ViewStmt",
		"RuleStmt", "CompositeTypeStmt", "ReassignOwnedStmt", "ImportForeignSchemaStmt":
		return true
	}
	return false
}

func tableLike(t pg.ObjectType) bool {
	switch t {
	case pg.ObjectType_OBJECT_TABLE, pg.ObjectType_OBJECT_VIEW, pg.ObjectType_OBJECT_MATVIEW,
		pg.ObjectType_OBJECT_FOREIGN_TABLE:
		return true
	}
	return false
}

func notTable(t pg.ObjectType) bool {
	switch t {
	case pg.ObjectType_OBJECT_INDEX, pg.ObjectType_OBJECT_SEQUENCE, pg.ObjectType_OBJECT_TYPE:
		return true
	}
	return false
}

// addNamed adds a table given as a dotted name list ([catalog.][schema.]name).
func addNamed(b *built, names []*pg.Node) {
	if len(names) == 0 {
		return
	}
	t := router.TableRef{Name: names[len(names)-1].GetString_().GetSval()}
	if len(names) > 1 {
		t.Schema = names[len(names)-2].GetString_().GetSval()
	}
	if t.Name != "" {
		b.tables = append(b.tables, locTable{ref: t})
	}
}
