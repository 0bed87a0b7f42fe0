// Package sql parses kgen's SQL and compiles SELECT statements to closures
// that filter and project rows.
//
// The pipeline is Parse (lexer.go, parser.go) → syntax tree (ast.go, which
// prints itself back as canonical SQL, format.go) → Compile (compile.go,
// functions*.go) → Program, whose Match and Project run once per row
// without walking the tree. Everything is hand-written; there is no parser
// generator.
//
// # Grammar
//
// Keywords are case-insensitive. Only the words listed as reserved below
// must be backquoted to name a field; CREATE, STREAM, WITH, EXCEPT, type
// names and the clause words GROUP, BY, HAVING, ORDER, ASC, DESC, LIMIT,
// JOIN, INNER, LEFT, RIGHT, FULL, OUTER, CROSS, ON, FILTER and OVER are
// recognised by position: they come only where an expression or a name has
// ended, and no expression goes on with a bare word.
//
//	Statement    = ( Select | CreateStream ) [ ";" ] .
//	CreateStream = "CREATE" "STREAM" Name "(" [ Column { "," Column } ] ")"
//	               [ "WITH" "(" Option { "," Option } ")" ] .
//	Column       = Name Type .
//	Type         = "BIGINT" | "FLOAT" | "STRING" | "DATETIME" | "BOOLEAN" | "BYTEA"
//	             | "ARRAY" "(" Type ")" | "STRUCT" "(" Column { "," Column } ")" .
//	Option       = Name "=" String .
//	Select       = "SELECT" Field { "," Field } "FROM" Source { Join } [ "WHERE" Expr ]
//	               [ "GROUP" "BY" GroupItem { "," GroupItem } ] [ "HAVING" Expr ]
//	               [ "ORDER" "BY" OrderItem { "," OrderItem } ] [ "LIMIT" Int ] .
//	Field        = Star | Expr [ "AS" Name ] .
//	Source       = Name [ "AS" Name ] .
//	Join         = [ "INNER" | ( "LEFT" | "RIGHT" | "FULL" ) [ "OUTER" ] ] "JOIN" Source "ON" Expr
//	             | "CROSS" "JOIN" Source .
//	GroupItem    = Window | Expr .
//	Window       = WindowCall [ "FILTER" "(" "WHERE" Expr ")" ] [ "OVER" "(" "WHEN" Expr ")" ] .
//	WindowCall   = "TUMBLINGWINDOW" "(" Unit "," Int ")"
//	             | "HOPPINGWINDOW" "(" Unit "," Int "," Int ")"
//	             | "SLIDINGWINDOW" "(" Unit "," Int [ "," Int ] ")"
//	             | "SESSIONWINDOW" "(" Unit "," Int "," Int ")"
//	             | "COUNTWINDOW" "(" Int [ "," Int ] ")" .
//	Unit         = "MS" | "SS" | "MI" | "HH" | "DD" .
//	OrderItem    = Expr [ "ASC" | "DESC" ] .
//	Star         = [ Name "." ] "*" [ "EXCEPT" "(" Name { "," Name } ")" ] .
//	Expr         = And { "OR" And } .
//	And          = Not { "AND" Not } .
//	Not          = "NOT" Not | Comparison .
//	Comparison   = Sum { CompareOp Sum | "IS" [ "NOT" ] "NULL"
//	             | [ "NOT" ] ( "IN" "(" Expr { "," Expr } ")" | "BETWEEN" Sum "AND" Sum | "LIKE" Sum ) } .
//	CompareOp    = "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=" .
//	Sum          = Product { ( "+" | "-" ) Product } .
//	Product      = Unary { ( "*" | "/" | "%" ) Unary } .
//	Unary        = "-" Unary | Postfix .
//	Postfix      = Primary { "->" Name | "." Name | "[" Expr "]" } .
//	Primary      = Int | Float | String | "TRUE" | "FALSE" | "NULL" | "SELF"
//	             | Name | Call | Case | "(" Expr ")" .
//	Call         = Ident "(" [ ( Star | Expr ) { "," ( Star | Expr ) } ] ")" .
//	Case         = "CASE" [ Expr ] "WHEN" Expr "THEN" Expr { "WHEN" Expr "THEN" Expr }
//	               [ "ELSE" Expr ] "END" .
//	Name         = Ident | "`" any text, `` for ` "`" .
//
// Reserved words: SELECT FROM WHERE AS AND OR NOT IN BETWEEN LIKE IS CASE
// WHEN THEN ELSE END TRUE FALSE NULL SELF. Strings are written in double or
// single quotes; \n \t \r \0 \\ \' \" resolve, a doubled quote stands for
// itself, and any other backslash is kept with its character so that LIKE
// patterns ('50\%') and regular expressions ('\d+') read as written.
// Numbers are decimal; one with a fraction or exponent is a float. Comments
// are -- to the end of the line and /* ... */.
//
// In SELECT, s.x is the field x when s is the name or alias of a stream in
// FROM or JOIN, and nested access into field s otherwise; s->x is always
// nested access. The streams must go by distinct names: alias the same
// stream when it is joined twice.
//
// # Windows and the clauses after WHERE
//
// JOIN, GROUP BY, HAVING, ORDER BY and LIMIT are parsed into Select
// (Joins, GroupBy, Window, Having, OrderBy, Limit) and print back as
// canonical SQL, but Compile does not run them yet: it reports them as not
// supported until the compiler's support lands separately.
//
// A window is a call among the GROUP BY items, at most one, and nowhere
// else, so no function can take a window's name; eKuiper's STATEWINDOW is
// reported as not supported. Other items are expressions. Window names and units are
// case-insensitive, units unquoted words, and the lengths, hops, delays,
// timeouts and counts positive integer literals. SLIDINGWINDOW's third
// argument is a delay and SESSIONWINDOW's are the maximum duration then the
// timeout; COUNTWINDOW's hop, n when left out, cannot exceed n. FILTER
// (WHERE cond) keeps the rows that enter the window; OVER (WHEN cond),
// only on a sliding window, says which rows trigger it. Plain JOIN is an
// inner join; every join but CROSS JOIN needs ON. LIMIT takes an integer
// literal, 0 or more. The canonical text writes INNER JOIN, drops OUTER and
// ASC, and puts the window first in GROUP BY.
//
// # Errors
//
// Errors about the SQL text, from Parse, Compile, Match and Project, are
// *Error values that read "line:col: message", with the line and the
// column (in bytes, 1-based) of the offending token: for an operator, the
// operator; for a call, the function name; for WHERE, its start. Messages
// are lower-case and quote what was found:
//
//	1:17: unexpected ")"
//	1:8: expected FROM, got end of input
//	2:3: unknown type "INTEGR"
//	1:8: unknown field "x" in stream "demo"
//	1:44: TUMBLINGWINDOW: want 2 arguments (unit, length), got 3
//	1:12: cannot apply "*" to string and int64
//
// # Values
//
// Rows are map[string]any holding int64, float64, string, bool, []byte,
// time.Time, map[string]any, []any or nil; other Go number types are read
// as int64 or float64. A missing field, key or index is nil (NULL), not an
// error.
//
// Arithmetic on two int64 stays int64 (integer division, overflow is an
// error); a float64 operand makes it float64. Division or modulo by zero is
// an error, as is + on strings (use concat). NULL operands give NULL.
//
// Comparisons order numbers numerically across int64 and float64, strings
// bytewise, time.Time by instant and []byte bytewise; ordering other pairs
// is an error. = and != compare any values, lists and maps deeply; values
// of different types are simply not equal. Any comparison with NULL is
// false, including = NULL and != NULL: test with IS [NOT] NULL or
// isnull(). IN, BETWEEN and LIKE, and their NOT forms, are false for a
// NULL operand. AND, OR and NOT use three-valued logic; WHERE keeps a row
// only when it is true.
//
// # Functions
//
// Built-in functions (see Builtins) are matched in any case and run as Go
// closures; their argument counts and constant arguments are checked at
// compile time. Math and string functions return NULL for a NULL argument
// (concat skips NULLs). Other names go to Env.Function, which returns an
// sdk.Function per call site; Compile calls its Validate with sdk.Arg
// descriptions of the arguments, and a failing or panicking Exec becomes an
// error of that row. Without windows an aggregate function sees each row
// as a group of one: every argument is a one-element []any.
//
// Constant subexpressions are evaluated once at compile time, LIKE patterns
// and regular expressions that are constants are compiled once.
package sql
