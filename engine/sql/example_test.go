package sql_test

import (
	"fmt"

	"github.com/kgen-dev/kgen/engine/sql"
)

func Example() {
	cs, err := sql.ParseCreateStream(`CREATE STREAM demo (temperature FLOAT, humidity BIGINT) WITH (DATASOURCE="sensors/+/data", TYPE="mqtt")`)
	if err != nil {
		panic(err)
	}
	sel, err := sql.ParseSelect("SELECT temperature * 2 AS t, humidity FROM demo WHERE temperature > 50")
	if err != nil {
		panic(err)
	}
	prog, err := sql.Compile(sel, sql.Env{Schema: cs.Schema, Stream: cs.Name})
	if err != nil {
		panic(err)
	}
	for _, row := range []map[string]any{
		{"temperature": 72.5, "humidity": int64(40)},
		{"temperature": 20.0, "humidity": int64(80)},
	} {
		if ok, err := prog.Match(row); err != nil || !ok {
			continue
		}
		out, err := prog.Project(row)
		fmt.Println(out, err)
	}
	fmt.Println(prog.Columns())
	// Output:
	// map[humidity:40 t:145] <nil>
	// [t humidity]
}

func ExampleParse_error() {
	_, err := sql.Parse("SELECT temperature FROM demo WHERE (temperature > 1))")
	fmt.Println(err)

	cs, _ := sql.ParseCreateStream("CREATE STREAM demo (temperature FLOAT)")
	sel, _ := sql.ParseSelect("SELECT temperature, humidity FROM demo")
	_, err = sql.Compile(sel, sql.Env{Schema: cs.Schema})
	fmt.Println(err)
	// Output:
	// 1:53: unexpected ")"
	// 1:21: unknown field "humidity" in stream "demo"
}
