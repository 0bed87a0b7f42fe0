package sql

import (
	"time"

	"github.com/kgen-dev/kgen/engine/schema"
)

// Statement is a parsed statement: *Select or *CreateStream.
type Statement interface {
	String() string
	statement()
}

// CreateStream is `CREATE STREAM name (columns) WITH (options)`.
type CreateStream struct {
	Name string
	// Schema is nil for a schemaless stream, written "()".
	Schema schema.Schema
	// Options holds the WITH options: keys upper-cased (DATASOURCE, TYPE,
	// FORMAT, CONF_KEY, KEY, ...), values as written with escapes resolved.
	// Parsing always sets it, empty without WITH.
	Options map[string]string
}

// Select is `SELECT fields FROM stream [AS alias] {join} [WHERE expr]
// [GROUP BY items] [HAVING expr] [ORDER BY items] [LIMIT n]`.
type Select struct {
	Fields []Field
	From   string
	Alias  string
	Joins  []Join
	Where  Expr // nil without WHERE

	// GroupBy holds the GROUP BY expressions other than the window, in
	// order; Window the window call among them, nil when there is none.
	GroupBy []Expr
	Window  *Window
	Having  Expr // nil without HAVING
	OrderBy []OrderItem
	// Limit is the LIMIT count; -1 without LIMIT.
	Limit int64
}

// JoinKind is the kind of a JOIN.
type JoinKind int

const (
	InnerJoin JoinKind = iota + 1
	LeftJoin
	RightJoin
	FullJoin
	CrossJoin
)

// Join is `[INNER|LEFT|RIGHT|FULL|CROSS] JOIN stream [AS alias] [ON expr]`
// (CROSS JOIN has no ON; the others require one).
type Join struct {
	node
	Kind   JoinKind
	Stream string
	Alias  string
	On     Expr
}

// OrderItem is one ORDER BY key.
type OrderItem struct {
	Expr Expr
	Desc bool
}

// Field is one entry of the select list.
type Field struct {
	// Expr is the expression; *Star for `*`, `* EXCEPT(...)` and `s.*`.
	Expr Expr
	// Alias is the AS name, or "".
	Alias string
	// Name is the output column name, as eKuiper names it: the alias if
	// given; for a column, s.a or a.b, the last name ("a", "b"); for a call
	// the function name as written; "self" for self; "" for a star, whose
	// columns are the row's keys; for anything else (a->b, a[0], f(x)->y,
	// arithmetic, literals, CASE) kuiper_field_<n>, with n counting such
	// fields of the statement from 0 in select order.
	Name string
}

// WindowKind is the kind of a window.
type WindowKind int

const (
	TumblingWindow WindowKind = iota + 1
	HoppingWindow
	SlidingWindow
	SessionWindow
	CountWindow
)

// Window is the window of a grouped SELECT, a call in GROUP BY:
//
//	TUMBLINGWINDOW(unit, length)
//	HOPPINGWINDOW(unit, length, hop)
//	SLIDINGWINDOW(unit, length[, delay]) [OVER (WHEN cond)]
//	SESSIONWINDOW(unit, maxDuration, timeout)
//	COUNTWINDOW(n[, hop])
//
// each optionally followed by FILTER (WHERE cond), before OVER. Units are
// ms, ss, mi, hh and dd; lengths and counts are positive integer literals.
type Window struct {
	node
	Kind WindowKind
	// Unit is the time unit, lower-cased (ms, ss, mi, hh, dd); "" for
	// count windows.
	Unit string
	// Length is the window size in Unit, the session's maximum duration,
	// or the count window's row count.
	Length int64
	// Interval is the hop of a hopping window, the delay of a sliding one,
	// the timeout of a session and the hop of a count window (n when not
	// written); 0 when the kind has none.
	Interval int64
	// Filter is FILTER (WHERE cond): rows it does not keep never enter
	// the window. nil without FILTER.
	Filter Expr
	// Trigger is OVER (WHEN cond) of a sliding window: only rows for which
	// it is true trigger an emission. nil without OVER.
	Trigger Expr
}

// UnitDuration is the length of one Unit: ms, ss, mi, hh or dd (24h); 0
// for a count window.
func (w *Window) UnitDuration() time.Duration {
	switch w.Unit {
	case "ms":
		return time.Millisecond
	case "ss":
		return time.Second
	case "mi":
		return time.Minute
	case "hh":
		return time.Hour
	case "dd":
		return 24 * time.Hour
	}
	return 0
}

func (*Select) statement()       {}
func (*CreateStream) statement() {}

// Expr is an expression node. Pos is the position of the token that
// identifies the node: the operator for operators (the "*" of a * b, the
// "->" of a->b, the "[" of a[0]), otherwise the node's first token. Errors
// about a node point there.
type Expr interface {
	Pos() Pos
	// String returns the expression as canonical SQL.
	String() string
	exprNode()
}

type node struct{ pos Pos }

func (n node) Pos() Pos { return n.pos }
func (node) exprNode()  {}
func at(p Pos) node     { return node{pos: p} }

// Literal is a constant: int64, float64, string, bool or nil (NULL).
type Literal struct {
	node
	Value any
}

// FieldRef is a column of the input row: name, `quoted name` or stream.name.
type FieldRef struct {
	node
	// Stream is the qualifier when written as stream.name (the stream name
	// or its alias), else "".
	Stream string
	Name   string
}

// Member is nested access: X->Name, or X.Name when X is not the stream.
// A missing key gives nil.
type Member struct {
	node
	X     Expr
	Name  string
	Arrow bool // written with -> rather than .
}

// Index is X[Index]: a list element (negative counts from the end) or,
// with a string index, a map key. Out of range gives nil.
type Index struct {
	node
	X, Index Expr
}

// Op is a unary or binary operator.
type Op int

const (
	OpOr Op = iota + 1
	OpAnd
	OpNot
	OpEq
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpAdd
	OpSub
	OpMul
	OpDiv
	OpMod
	OpNeg
)

var opText = [...]string{
	OpOr: "OR", OpAnd: "AND", OpNot: "NOT",
	OpEq: "=", OpNe: "!=", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">=",
	OpAdd: "+", OpSub: "-", OpMul: "*", OpDiv: "/", OpMod: "%", OpNeg: "-",
}

func (o Op) String() string {
	if o > 0 && int(o) < len(opText) {
		return opText[o]
	}
	return "?"
}

// Unary is -X or NOT X.
type Unary struct {
	node
	Op Op // OpNeg or OpNot
	X  Expr
}

// Binary is L Op R for arithmetic, comparison, AND and OR.
type Binary struct {
	node
	Op   Op
	L, R Expr
}

// In is X [NOT] IN (List...).
type In struct {
	node
	X    Expr
	List []Expr
	Not  bool
}

// Between is X [NOT] BETWEEN Lo AND Hi (inclusive).
type Between struct {
	node
	X, Lo, Hi Expr
	Not       bool
}

// Like is X [NOT] LIKE Pattern: % matches any run of characters, _ one
// character, and a backslash makes the next character literal.
type Like struct {
	node
	X, Pattern Expr
	Not        bool
}

// IsNull is X IS [NOT] NULL.
type IsNull struct {
	node
	X   Expr
	Not bool
}

// Case is CASE [Operand] WHEN ... THEN ... [ELSE Else] END. With an Operand
// each When.Cond is a value compared to it; without, a condition.
type Case struct {
	node
	Operand Expr // nil for a searched CASE
	Whens   []When
	Else    Expr // nil: NULL
}

// When is one WHEN Cond THEN Result arm.
type When struct {
	Cond, Result Expr
}

// Call is a function call Name(Args...). Name is as written.
type Call struct {
	node
	Name string
	Args []Expr
}

// Star is the whole row, `*` or `stream.*`, less the EXCEPT columns. It
// appears as a select field or a function argument.
type Star struct {
	node
	Stream string // qualifier of stream.*, or ""
	Except []string
}

// Self is `self`: the whole message. For a row that is exactly
// {"self": v} (how binary payloads are decoded) it is v.
type Self struct {
	node
}
