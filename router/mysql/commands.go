package mysql

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"

	"github.com/shardgate/shardgate/router"
)

// statement dispatches on the kind of the top-level statement.
func (an *analysis) statement(n ast.StmtNode) *router.Statement {
	switch x := n.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		return an.query(x.(ast.ResultSetNode), nil)
	case *ast.InsertStmt:
		return an.insert(x)
	case *ast.UpdateStmt:
		return an.update(x)
	case *ast.DeleteStmt:
		return an.delete(x)
	case *ast.ExplainStmt:
		return an.explain(x)
	case *ast.BeginStmt:
		st := &router.Statement{Kind: router.KindBegin}
		if x.ReadOnly {
			st.ReadOnly = 1
		}
		return st
	case *ast.CommitStmt:
		return &router.Statement{Kind: router.KindCommit}
	case *ast.RollbackStmt:
		if x.SavepointName != "" {
			return &router.Statement{Kind: router.KindSavepoint, Object: x.SavepointName}
		}
		return &router.Statement{Kind: router.KindRollback}
	case *ast.SavepointStmt:
		return &router.Statement{Kind: router.KindSavepoint, Object: x.Name}
	case *ast.ReleaseSavepointStmt:
		return &router.Statement{Kind: router.KindSavepoint, Object: x.Name}
	case *ast.SetStmt:
		st := an.generic(router.KindSet, x)
		if len(x.Variables) > 0 {
			st.Object = setObject(x.Variables[0])
		}
		for _, v := range x.Variables {
			st.SetGlobal = st.SetGlobal || v.IsGlobal
		}
		if w := leadingWords(an.sql, 2); len(w) == 2 && w[0] == "SET" && w[1] == "TRANSACTION" {
			// The parser reports SET TRANSACTION READ ONLY/WRITE as the
			// session variable: tell them apart by the text.
			st.Object = "transaction"
		}
		// SET TRANSACTION (no scope) lasts for the next transaction only:
		// SetLocal, as the PostgreSQL analyzer reports its SET TRANSACTION.
		st.SetLocal = st.Object == "transaction"
		accessModes(st, x)
		splitAutocommit(st, x)
		return st
	case *ast.SetRoleStmt:
		return &router.Statement{Kind: router.KindSet, Object: "role"}
	case *ast.UseStmt:
		return &router.Statement{Kind: router.KindUse, Object: x.DBName}
	case *ast.ShowStmt:
		st := an.generic(router.KindShow, x)
		st.Object = showObject(x)
		return st
	case *ast.PrepareStmt:
		st := an.generic(router.KindPrepare, x)
		st.Object = x.Name
		return st
	case *ast.ExecuteStmt:
		st := an.generic(router.KindPrepare, x)
		st.Object = x.Name
		return st
	case *ast.DeallocateStmt:
		return &router.Statement{Kind: router.KindPrepare, Object: x.Name}
	case *ast.GrantStmt:
		return an.grant(x.Level)
	case *ast.RevokeStmt:
		return an.grant(x.Level)
	case *ast.LockTablesStmt:
		return an.generic(router.KindLock, x)
	case *ast.UnlockTablesStmt, *ast.FlushStmt, *ast.KillStmt:
		return an.generic(router.KindOther, x)
	case *ast.CallStmt:
		st := an.generic(router.KindOther, x)
		if x.Procedure != nil {
			st.Object = x.Procedure.FnName.O
			if x.Procedure.Schema.O != "" {
				st.Object = x.Procedure.Schema.O + "." + st.Object
			}
		}
		return st
	case *ast.OptimizeTableStmt:
		// Its Accept does not visit its tables.
		st := &router.Statement{Kind: router.KindDDL}
		c := &collector{an: an, st: st}
		for _, tn := range x.Tables {
			if tn != nil {
				c.table(tn, "")
			}
		}
		return st
	case *ast.AnalyzeTableStmt, *ast.SetPwdStmt, *ast.SetDefaultRoleStmt,
		*ast.CreateUserStmt, *ast.AlterUserStmt, *ast.DropUserStmt, *ast.RenameUserStmt,
		*ast.GrantRoleStmt, *ast.RevokeRoleStmt, *ast.GrantProxyStmt,
		*ast.ProcedureInfo, *ast.DropProcedureStmt:
		return an.generic(router.KindDDL, x)
	case ast.DDLNode:
		return an.generic(router.KindDDL, x)
	}
	return an.generic(router.KindOther, n)
}

// generic describes a statement of the given kind by the tables and
// subqueries found anywhere in it.
func (an *analysis) generic(kind router.Kind, n ast.Node) *router.Statement {
	st := &router.Statement{Kind: kind}
	n.Accept(&collector{an: an, st: st})
	return st
}

// explain describes EXPLAIN/DESCRIBE as the statement explained.
func (an *analysis) explain(x *ast.ExplainStmt) *router.Statement {
	if x.Stmt == nil {
		return &router.Statement{Kind: router.KindOther}
	}
	inner := an.statement(x.Stmt)
	if _, ok := x.Stmt.(*ast.ShowStmt); ok {
		return inner // DESCRIBE t: a SHOW COLUMNS
	}
	if x.Analyze {
		switch inner.Kind {
		case router.KindInsert, router.KindUpdate, router.KindDelete:
			// EXPLAIN ANALYZE executes the statement: route it as the write it is.
			return inner
		}
	}
	inner.Explain = true
	return inner
}

// grant describes GRANT/REVOKE: DDL, naming the table of a table-level grant.
func (an *analysis) grant(l *ast.GrantLevel) *router.Statement {
	st := &router.Statement{Kind: router.KindDDL}
	if l != nil && l.Level == ast.GrantLevelTable && l.TableName != "" {
		st.Tables = []router.TableRef{{Schema: l.DBName, Name: l.TableName}}
	}
	return st
}

// setObject names the variable a SET assigns first.
// splitAutocommit takes autocommit out of a SET of several session
// variables: the session keeps autocommit itself (backends always
// autocommit), the rest is an ordinary SET. Left whole, the SET would
// either be refused or turn autocommit off on a pooled connection.
func splitAutocommit(st *router.Statement, x *ast.SetStmt) {
	if len(x.Variables) < 2 || st.SetGlobal {
		return
	}
	var rest []*ast.VariableAssignment
	value := ""
	for _, v := range x.Variables {
		if v.IsSystem && strings.EqualFold(v.Name, "autocommit") {
			var ok bool
			if value, ok = restoreValue(v.Value); !ok {
				return
			}
			continue
		}
		rest = append(rest, v)
	}
	if value == "" {
		return
	}
	text, ok := restoreNode(&ast.SetStmt{Variables: rest})
	if !ok {
		return
	}
	st.Autocommit, st.SetRest, st.Object = value, text, setObject(rest[0])
}

// accessModes reads what a SET says of transactions' access mode: SET
// TRANSACTION READ ONLY of the next one (Statement.ReadOnly), SET SESSION
// TRANSACTION READ ONLY or tx_read_only of the session's later ones
// (Statement.SessionReadOnly).
func accessModes(st *router.Statement, x *ast.SetStmt) {
	for _, v := range x.Variables {
		name := strings.ToLower(v.Name)
		if !v.IsSystem || v.IsGlobal || name != "tx_read_only" && name != "transaction_read_only" {
			continue
		}
		value, ok := restoreValue(v.Value)
		if !ok {
			continue
		}
		mode := router.AccessMode(value)
		if strings.EqualFold(value, "DEFAULT") {
			mode = -1
		}
		if st.Object == "transaction" {
			st.ReadOnly = mode
		} else {
			st.SessionReadOnly = mode
		}
	}
}

// restoreValue writes a value without quoting's extras (ON, not
// _UTF8MB4'ON').
func restoreValue(n ast.Node) (string, bool) {
	var sb strings.Builder
	if err := n.Restore(format.NewRestoreCtx(format.RestoreStringWithoutCharset, &sb)); err != nil {
		return "", false
	}
	return sb.String(), true
}

func restoreNode(n ast.Node) (string, bool) {
	var sb strings.Builder
	if err := n.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags, &sb)); err != nil {
		return "", false
	}
	return sb.String(), true
}

func setObject(v *ast.VariableAssignment) string {
	switch {
	case v.Name == ast.SetNames:
		return "names"
	case v.Name == ast.SetCharset:
		return "character set"
	case v.Name == "tx_isolation_one_shot":
		return "transaction" // SET TRANSACTION ISOLATION LEVEL: the next transaction only
	case !v.IsSystem:
		return "@" + strings.ToLower(v.Name)
	}
	return strings.ToLower(v.Name)
}

var showObjects = map[ast.ShowStmtType]string{
	ast.ShowEngines:         "engines",
	ast.ShowDatabases:       "databases",
	ast.ShowTables:          "tables",
	ast.ShowTableStatus:     "table status",
	ast.ShowColumns:         "columns",
	ast.ShowWarnings:        "warnings",
	ast.ShowCharset:         "charset",
	ast.ShowVariables:       "variables",
	ast.ShowStatus:          "status",
	ast.ShowCollation:       "collation",
	ast.ShowCreateTable:     "create table",
	ast.ShowCreateView:      "create view",
	ast.ShowCreateUser:      "create user",
	ast.ShowCreateSequence:  "create sequence",
	ast.ShowGrants:          "grants",
	ast.ShowTriggers:        "triggers",
	ast.ShowProcedureStatus: "procedure status",
	ast.ShowFunctionStatus:  "function status",
	ast.ShowIndex:           "index",
	ast.ShowProcessList:     "processlist",
	ast.ShowCreateDatabase:  "create database",
	ast.ShowConfig:          "config",
	ast.ShowEvents:          "events",
	ast.ShowPlugins:         "plugins",
	ast.ShowProfile:         "profile",
	ast.ShowProfiles:        "profiles",
	ast.ShowMasterStatus:    "master status",
	ast.ShowPrivileges:      "privileges",
	ast.ShowErrors:          "errors",
	ast.ShowOpenTables:      "open tables",
	ast.ShowBuiltins:        "builtins",
	ast.ShowCreateProcedure: "create procedure",
	ast.ShowBinlogStatus:    "binary log status",
	ast.ShowReplicaStatus:   "replica status",
}

// showObject names what a SHOW shows ("tables", "create table"...);
// "other" for the TiDB-specific kinds.
func showObject(x *ast.ShowStmt) string {
	if o, ok := showObjects[x.Tp]; ok {
		return o
	}
	return "other"
}
