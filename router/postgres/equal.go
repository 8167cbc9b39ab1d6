package postgres

import (
	"bytes"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// visit calls fn on n and, while fn returns true, on every node below it.
func visit(n *pg.Node, fn func(*pg.Node) bool) {
	if n == nil || n.Node == nil || !fn(n) {
		return
	}
	switch x := n.Node.(type) {
	case *pg.Node_ColumnRef, *pg.Node_ParamRef, *pg.Node_AConst, *pg.Node_AStar, *pg.Node_String_:
		return
	case *pg.Node_AExpr:
		visit(x.AExpr.Lexpr, fn)
		visit(x.AExpr.Rexpr, fn)
		return
	case *pg.Node_TypeCast:
		visit(x.TypeCast.Arg, fn)
		return
	case *pg.Node_FuncCall:
		fc := x.FuncCall
		for _, a := range fc.Args {
			visit(a, fn)
		}
		for _, a := range fc.AggOrder {
			visit(a, fn)
		}
		visit(fc.AggFilter, fn)
		if fc.Over != nil {
			visitMsg(fc.Over.ProtoReflect(), fn)
		}
		return
	}
	visitMsg(n.ProtoReflect().Get(whichField(n)).Message(), fn)
}

// visitMsg visits the nodes found in any message's fields.
func visitMsg(m protoreflect.Message, fn func(*pg.Node) bool) {
	if n, ok := m.Interface().(*pg.Node); ok {
		visit(n, fn)
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind || fd.IsMap() {
			return true
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				visitMsg(l.Get(i).Message(), fn)
			}
		} else {
			visitMsg(v.Message(), fn)
		}
		return true
	})
}

// whichField is the set member of a Node's oneof.
func whichField(n *pg.Node) protoreflect.FieldDescriptor {
	m := n.ProtoReflect()
	return m.WhichOneof(m.Descriptor().Oneofs().Get(0))
}

// exprEqual compares two expressions structurally, ignoring locations.
// Column references are equal when their names are and their qualifiers
// are, or one of them is unqualified (GROUP BY id matches SELECT u.id).
func exprEqual(a, b *pg.Node) bool {
	if a == nil || b == nil {
		return a == b
	}
	ca, cb := a.GetColumnRef(), b.GetColumnRef()
	if ca != nil || cb != nil {
		if ca == nil || cb == nil {
			return false
		}
		x, okx := columnRef(ca)
		y, oky := columnRef(cb)
		return okx && oky && x.Name == y.Name &&
			(x.Qualifier == "" || y.Qualifier == "" || x.Qualifier == y.Qualifier)
	}
	fa, fb := whichField(a), whichField(b)
	if fa != fb {
		return false
	}
	if fa == nil {
		return true
	}
	return msgEqual(a.ProtoReflect().Get(fa).Message(), b.ProtoReflect().Get(fb).Message())
}

func msgEqual(x, y protoreflect.Message) bool {
	if x.Descriptor() != y.Descriptor() {
		return false
	}
	if xn, ok := x.Interface().(*pg.Node); ok {
		return exprEqual(xn, y.Interface().(*pg.Node))
	}
	fields := x.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if strings.HasSuffix(string(fd.Name()), "location") {
			continue
		}
		hx, hy := x.Has(fd), y.Has(fd)
		if hx != hy {
			return false
		}
		if !hx {
			continue
		}
		vx, vy := x.Get(fd), y.Get(fd)
		switch {
		case fd.IsMap():
			return false
		case fd.IsList():
			lx, ly := vx.List(), vy.List()
			if lx.Len() != ly.Len() {
				return false
			}
			for j := 0; j < lx.Len(); j++ {
				if !valueEqual(fd, lx.Get(j), ly.Get(j)) {
					return false
				}
			}
		default:
			if !valueEqual(fd, vx, vy) {
				return false
			}
		}
	}
	return true
}

func valueEqual(fd protoreflect.FieldDescriptor, x, y protoreflect.Value) bool {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return msgEqual(x.Message(), y.Message())
	case protoreflect.BytesKind:
		return bytes.Equal(x.Bytes(), y.Bytes())
	}
	return x.Interface() == y.Interface()
}
