package schema_test

import (
	"fmt"

	"github.com/kgen-dev/kgen/engine/schema"
)

func ExampleDecoder_DecodeInto() {
	d, err := schema.NewDecoder("json", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	payload := []byte(`{"temperature": 63.5, "humidity": 45, "device": "s-17"}`)
	err = d.DecodeInto(payload, func(row map[string]any) error {
		for _, k := range []string{"temperature", "humidity", "device"} {
			fmt.Printf("%s: %T %v\n", k, row[k], row[k])
		}
		return nil
	})
	fmt.Println(err)
	// Output:
	// temperature: float64 63.5
	// humidity: int64 45
	// device: string s-17
	// <nil>
}

func ExampleSchema_Convert() {
	s := schema.Schema{
		{Name: "temperature", Type: schema.Type{Kind: schema.Float}},
		{Name: "device", Type: schema.Type{Kind: schema.String}},
	}
	row := map[string]any{"temperature": int64(63), "device": "s-17", "undeclared": true}
	fmt.Println(s.Convert(row), row)

	row = map[string]any{"temperature": "hot"}
	fmt.Println(s.Convert(row))
	// Output:
	// <nil> map[device:s-17 temperature:63]
	// field "temperature": want FLOAT, got string "hot"
}
