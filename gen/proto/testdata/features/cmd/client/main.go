// Command client runs the generated function plugins (package ../../client)
// against a running Bookstore server, for gen/proto's tests. The engine root
// given by -root holds data/services/features.json with the server's
// address, which overrides the address baked into the plugins.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	client "github.com/kgen-dev/kgen/gen/proto/testdata/features/client"
	"github.com/kgen-dev/kgen/sdk"
)

// fnContext is the sdk.FunctionContext of the calls.
type fnContext struct {
	context.Context
	root string
}

func (c fnContext) GetLogger() *slog.Logger        { return slog.New(slog.DiscardHandler) }
func (c fnContext) GetRuleId() string              { return "rule" }
func (c fnContext) GetOpId() string                { return "op" }
func (c fnContext) GetInstanceId() int             { return 0 }
func (c fnContext) GetRootPath() string            { return c.root }
func (c fnContext) PutState(string, any) error     { return nil }
func (c fnContext) GetState(string) (any, error)   { return nil, nil }
func (c fnContext) IncrCounter(string, int) error  { return nil }
func (c fnContext) GetCounter(string) (int, error) { return 0, nil }
func (c fnContext) DeleteState(string) error       { return nil }
func (c fnContext) GetFuncId() int                 { return 0 }

// lookup returns a new instance of a registered function.
func lookup(name string) sdk.Function {
	ctor, ok := sdk.LookupFunction(name)
	if !ok {
		fmt.Fprintf(os.Stderr, "client: function %q is not registered\n", name)
		os.Exit(1)
	}
	return ctor()
}

func lit(v any) sdk.Arg         { return sdk.Arg{Kind: sdk.ArgLiteral, Value: v, Text: fmt.Sprint(v)} }
func field(name string) sdk.Arg { return sdk.Arg{Kind: sdk.ArgField, Name: name, Text: name} }

func validate(name string, args ...sdk.Arg) error { return lookup(name).Validate(args) }

func main() {
	root := flag.String("root", "", "the engine root `folder`")
	flag.Parse()
	if errs := sdk.RegistrationErrors(); len(errs) > 0 {
		fmt.Fprintln(os.Stderr, "client:", errs)
		os.Exit(1)
	}
	ctx := fnContext{Context: context.Background(), root: *root}
	fmt.Println("registered:", sdk.Registered(sdk.KindFunction))
	fmt.Println("constructor GetBook aggregate:", client.GetBook().IsAggregate())

	exec := func(call, name string, args ...any) {
		res, ok := lookup(name).Exec(ctx, args)
		fmt.Printf("%s = %v (ok=%v)\n", call, res, ok)
	}
	exec("getBook(1, 1)", "getBook", int64(1), int64(1))
	exec(`greet("exec")`, "greet", "exec")
	exec("createShelf({theme})", "createShelf", map[string]any{"theme": "poetry"})
	exec("createBook(3, {...})", "createBook", int64(3), map[string]any{
		"title": "Odes", "genre": "SCIENCE", "ratings": map[string]any{"carol": int64(3)},
		"published": "2001-02-03T04:05:06Z", "minutes": 90.5, "authors": []any{map[string]any{"name": "Keats"}},
	})
	exec("listBooks(3)", "listBooks", int64(3))
	exec("getBook(1, 99)", "getBook", int64(1), int64(99))
	exec("reset()", "reset")
	exec(`getBook("one", 1)`, "getBook", "one", int64(1))

	fmt.Println("validate getBook(1, 2, 3):", validate("getBook", lit(int64(1)), lit(int64(2)), lit(int64(3))))
	fmt.Println("validate getBook(row):", validate("getBook", field("row")))
	fmt.Println(`validate greet(1):`, validate("greet", lit(int64(1))))
	fmt.Println("validate reset():", validate("reset"))
	fmt.Println("validate reset(x):", validate("reset", field("x")))
}
