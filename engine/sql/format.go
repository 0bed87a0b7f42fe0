package sql

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/kgen-dev/kgen/engine/schema"
)

// The printer writes canonical SQL: keywords upper-case, strings in double
// quotes, identifiers backquoted only when needed, and parentheses only
// where precedence needs them, so that parsing the text again gives the same
// tree and the same text.

// Precedence levels, lowest first. A child is parenthesised when its level
// is below what its place requires.
const (
	precOr = iota + 1
	precAnd
	precNot
	precCmp // comparisons, IN, BETWEEN, LIKE, IS NULL
	precAdd
	precMul
	precUnary
	precPostfix
	precPrimary
)

func precedence(e Expr) int {
	switch e := e.(type) {
	case *Binary:
		switch e.Op {
		case OpOr:
			return precOr
		case OpAnd:
			return precAnd
		case OpAdd, OpSub:
			return precAdd
		case OpMul, OpDiv, OpMod:
			return precMul
		}
		return precCmp
	case *Unary:
		if e.Op == OpNot {
			return precNot
		}
		return precUnary
	case *In, *Between, *Like, *IsNull:
		return precCmp
	case *Literal:
		// A negative number prints with its sign, like a unary minus.
		if strings.HasPrefix(formatLiteral(e.Value), "-") {
			return precUnary
		}
	case *Member, *Index:
		return precPostfix
	}
	return precPrimary
}

func exprString(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e, 0)
	return b.String()
}

func writeExpr(b *strings.Builder, e Expr, min int) {
	if e == nil {
		b.WriteString("NULL")
		return
	}
	if precedence(e) < min {
		b.WriteByte('(')
		defer b.WriteByte(')')
	}
	switch e := e.(type) {
	case *Literal:
		b.WriteString(formatLiteral(e.Value))
	case *FieldRef:
		if e.Stream != "" {
			b.WriteString(quoteIdent(e.Stream))
			b.WriteByte('.')
		}
		b.WriteString(quoteIdent(e.Name))
	case *Member:
		writeExpr(b, e.X, precPostfix)
		if e.Arrow {
			b.WriteString("->")
		} else {
			b.WriteByte('.')
		}
		b.WriteString(quoteIdent(e.Name))
	case *Index:
		writeExpr(b, e.X, precPostfix)
		b.WriteByte('[')
		writeExpr(b, e.Index, 0)
		b.WriteByte(']')
	case *Unary:
		if e.Op == OpNot {
			b.WriteString("NOT ")
			writeExpr(b, e.X, precNot)
			return
		}
		// "-" before "-" would start a comment, and before a number it
		// would read back as a negative literal: parenthesise both.
		x := exprString(e.X)
		b.WriteByte('-')
		if precedence(e.X) < precUnary || x[0] == '-' || x[0] == '.' || isDigit(x[0]) {
			b.WriteString("(" + x + ")")
		} else {
			b.WriteString(x)
		}
	case *Binary:
		p := precedence(e)
		writeExpr(b, e.L, p)
		b.WriteString(" " + e.Op.String() + " ")
		writeExpr(b, e.R, p+1)
	case *In:
		writeExpr(b, e.X, precCmp)
		b.WriteString(not(e.Not) + " IN (")
		for i, x := range e.List {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, x, 0)
		}
		b.WriteByte(')')
	case *Between:
		writeExpr(b, e.X, precCmp)
		b.WriteString(not(e.Not) + " BETWEEN ")
		writeExpr(b, e.Lo, precAdd)
		b.WriteString(" AND ")
		writeExpr(b, e.Hi, precAdd)
	case *Like:
		writeExpr(b, e.X, precCmp)
		b.WriteString(not(e.Not) + " LIKE ")
		writeExpr(b, e.Pattern, precAdd)
	case *IsNull:
		writeExpr(b, e.X, precCmp)
		b.WriteString(" IS" + not(e.Not) + " NULL")
	case *Case:
		b.WriteString("CASE")
		if e.Operand != nil {
			b.WriteByte(' ')
			writeExpr(b, e.Operand, 0)
		}
		for _, w := range e.Whens {
			b.WriteString(" WHEN ")
			writeExpr(b, w.Cond, 0)
			b.WriteString(" THEN ")
			writeExpr(b, w.Result, 0)
		}
		if e.Else != nil {
			b.WriteString(" ELSE ")
			writeExpr(b, e.Else, 0)
		}
		b.WriteString(" END")
	case *Call:
		b.WriteString(e.Name)
		b.WriteByte('(')
		for i, x := range e.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, x, 0)
		}
		b.WriteByte(')')
	case *Star:
		if e.Stream != "" {
			b.WriteString(quoteIdent(e.Stream) + ".")
		}
		b.WriteByte('*')
		if len(e.Except) > 0 {
			b.WriteString(" EXCEPT(")
			for i, n := range e.Except {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(quoteIdent(n))
			}
			b.WriteByte(')')
		}
	case *Self:
		b.WriteString("self")
	case *Window:
		writeWindow(b, e)
	default:
		fmt.Fprintf(b, "%v", e)
	}
}

func not(b bool) string {
	if b {
		return " NOT"
	}
	return ""
}

func (e *Literal) String() string  { return exprString(e) }
func (e *FieldRef) String() string { return exprString(e) }
func (e *Member) String() string   { return exprString(e) }
func (e *Index) String() string    { return exprString(e) }
func (e *Unary) String() string    { return exprString(e) }
func (e *Binary) String() string   { return exprString(e) }
func (e *In) String() string       { return exprString(e) }
func (e *Between) String() string  { return exprString(e) }
func (e *Like) String() string     { return exprString(e) }
func (e *IsNull) String() string   { return exprString(e) }
func (e *Case) String() string     { return exprString(e) }
func (e *Call) String() string     { return exprString(e) }
func (e *Star) String() string     { return exprString(e) }
func (e *Self) String() string     { return exprString(e) }

// String returns the statement as canonical SQL: joins as INNER, LEFT,
// RIGHT, FULL or CROSS JOIN, the window first in GROUP BY, ASC left out.
func (s *Select) String() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, f := range s.Fields {
		if i > 0 {
			b.WriteString(", ")
		}
		writeExpr(&b, f.Expr, 0)
		if f.Alias != "" {
			b.WriteString(" AS " + quoteIdent(f.Alias))
		}
	}
	b.WriteString(" FROM ")
	writeSource(&b, s.From, s.Alias)
	for _, j := range s.Joins {
		b.WriteString(" " + j.Kind.String() + " JOIN ")
		writeSource(&b, j.Stream, j.Alias)
		if j.On != nil {
			b.WriteString(" ON ")
			writeExpr(&b, j.On, 0)
		}
	}
	if s.Where != nil {
		b.WriteString(" WHERE ")
		writeExpr(&b, s.Where, 0)
	}
	if s.Window != nil || len(s.GroupBy) > 0 {
		b.WriteString(" GROUP BY ")
		sep := ""
		if s.Window != nil {
			writeWindow(&b, s.Window)
			sep = ", "
		}
		for _, e := range s.GroupBy {
			b.WriteString(sep)
			writeExpr(&b, e, 0)
			sep = ", "
		}
	}
	if s.Having != nil {
		b.WriteString(" HAVING ")
		writeExpr(&b, s.Having, 0)
	}
	for i, o := range s.OrderBy {
		if i == 0 {
			b.WriteString(" ORDER BY ")
		} else {
			b.WriteString(", ")
		}
		writeExpr(&b, o.Expr, 0)
		if o.Desc {
			b.WriteString(" DESC")
		}
	}
	if s.Limit >= 0 {
		b.WriteString(" LIMIT " + strconv.FormatInt(s.Limit, 10))
	}
	return b.String()
}

func writeSource(b *strings.Builder, name, alias string) {
	b.WriteString(quoteIdent(name))
	if alias != "" {
		b.WriteString(" AS " + quoteIdent(alias))
	}
}

// String returns the window as canonical SQL, e.g.
// SLIDINGWINDOW(ss, 10, 2) FILTER (WHERE a > 1) OVER (WHEN b): the unit
// lower-case, a count window's hop left out when it equals n.
func (w *Window) String() string {
	var b strings.Builder
	writeWindow(&b, w)
	return b.String()
}

func writeWindow(b *strings.Builder, w *Window) {
	b.WriteString(w.Kind.String() + "(")
	if w.Kind == CountWindow {
		b.WriteString(strconv.FormatInt(w.Length, 10))
		if w.Interval != w.Length {
			b.WriteString(", " + strconv.FormatInt(w.Interval, 10))
		}
	} else {
		b.WriteString(w.Unit + ", " + strconv.FormatInt(w.Length, 10))
		if w.Interval != 0 {
			b.WriteString(", " + strconv.FormatInt(w.Interval, 10))
		}
	}
	b.WriteByte(')')
	if w.Filter != nil {
		b.WriteString(" FILTER (WHERE ")
		writeExpr(b, w.Filter, 0)
		b.WriteByte(')')
	}
	if w.Trigger != nil {
		b.WriteString(" OVER (WHEN ")
		writeExpr(b, w.Trigger, 0)
		b.WriteByte(')')
	}
}

var windowKindText = [...]string{
	TumblingWindow: "TUMBLINGWINDOW", HoppingWindow: "HOPPINGWINDOW", SlidingWindow: "SLIDINGWINDOW",
	SessionWindow: "SESSIONWINDOW", CountWindow: "COUNTWINDOW",
}

// String returns the window function's name, upper-case: TUMBLINGWINDOW, ...
func (k WindowKind) String() string {
	if k > 0 && int(k) < len(windowKindText) {
		return windowKindText[k]
	}
	return "WindowKind(" + strconv.Itoa(int(k)) + ")"
}

var joinKindText = [...]string{
	InnerJoin: "INNER", LeftJoin: "LEFT", RightJoin: "RIGHT", FullJoin: "FULL", CrossJoin: "CROSS",
}

// String returns the word before JOIN: INNER, LEFT, RIGHT, FULL or CROSS.
func (k JoinKind) String() string {
	if k > 0 && int(k) < len(joinKindText) {
		return joinKindText[k]
	}
	return "JoinKind(" + strconv.Itoa(int(k)) + ")"
}

// String returns the statement as canonical SQL, options sorted by key.
func (c *CreateStream) String() string {
	var b strings.Builder
	b.WriteString("CREATE STREAM " + quoteIdent(c.Name) + " (")
	writeColumns(&b, c.Schema)
	b.WriteByte(')')
	if len(c.Options) > 0 {
		keys := make([]string, 0, len(c.Options))
		for k := range c.Options {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(" WITH (")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteIdent(k) + "=" + quoteString(c.Options[k]))
		}
		b.WriteByte(')')
	}
	return b.String()
}

func writeColumns(b *strings.Builder, fields []schema.Field) {
	for i, f := range fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(f.Name) + " ")
		writeType(b, f.Type)
	}
}

func writeType(b *strings.Builder, t schema.Type) {
	switch t.Kind {
	case schema.Array:
		b.WriteString("ARRAY(")
		if t.Elem != nil {
			writeType(b, *t.Elem)
		}
		b.WriteByte(')')
	case schema.Struct:
		b.WriteString("STRUCT(")
		writeColumns(b, t.Fields)
		b.WriteByte(')')
	default:
		b.WriteString(t.Kind.String())
	}
}

// quoteIdent returns name bare when it lexes back as the same identifier,
// else backquoted with backquotes doubled.
func quoteIdent(name string) string {
	if isBareIdent(name) {
		return name
	}
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// quoteString returns s as a double-quoted SQL string literal.
func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case 0:
			b.WriteString(`\0`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func formatLiteral(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case bool:
		if v {
			return "TRUE"
		}
		return "FALSE"
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return formatFloatLiteral(v)
	case string:
		return quoteString(v)
	}
	return fmt.Sprintf("%v", v)
}

// formatFloatLiteral writes f so that it lexes back as the same float: with
// a "." or an exponent.
func formatFloatLiteral(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Sprintf("%v", f) // no SQL spelling; only from a hand-built tree
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}
