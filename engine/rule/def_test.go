package rule

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

var ruleSeeds = []string{
	`{"id":"r1","sql":"SELECT a FROM s","actions":[{"log":{}}]}`,
	`{"id":"r2","sql":"SELECT * FROM s","actions":[{"mqtt":{"topic":"t","qos":1}},{"nop":null}],"options":{"bufferLength":8,"bufferFullPolicy":"drop","qos":1}}`,
	`{"id":"r","sql":"x","actions":[{"a":{},"b":{}}]}`,
	`{"id":"r","sql":"x","actions":[{"a":[]}]}`,
	`{"id":"r","sql":"x","actions":[{"a":{}}],"options":{"nosuch":1}}`,
	`{"id":"r","sql":"x","actions":[{"a":{}}]} trailing`,
	`{"id":1}`,
	`{"id":"r",`,
	"",
	`null`,
}

func TestParseRuleRoundTrip(t *testing.T) {
	def, err := Parse([]byte(ruleSeeds[1]))
	if err != nil {
		t.Fatal(err)
	}
	if def.Options.BufferLength != 8 || def.Options.BufferFullPolicy != "drop" || def.Options.Qos != 1 {
		t.Fatalf("options = %+v extra = %v", def.Options, def.Extra)
	}
	if def.Actions[0].Props["qos"] != int64(1) {
		t.Fatalf("numbers in props must be int64: %T", def.Actions[0].Props["qos"])
	}
	again := roundTrip(t, def)
	if !reflect.DeepEqual(def, again) {
		t.Fatalf("round trip:\n%+v\n%+v", def, again)
	}
}

func TestParseRuleErrors(t *testing.T) {
	cases := map[string]string{
		ruleSeeds[2]: `rule "r": actions[0]: want one sink type as the only key, got 2 keys`,
		ruleSeeds[3]: `rule "r": actions[0] (a): want an object of properties: json: cannot unmarshal array into Go value of type map[string]interface {}`,
		ruleSeeds[4]: `rule "r": options: unknown option "nosuch" (known: bufferLength, bufferFullPolicy, checkpointInterval, concurrency, functionBatchSize, isEventTime, lateTolerance, maxGroups, maxWindowRows, qos)`,
		ruleSeeds[5]: `rule JSON: line 1, column 43: unexpected data after the rule object`,
		ruleSeeds[6]: `rule JSON: line 1, column 8: field "id": want string, got number`,
		ruleSeeds[7]: `rule JSON: line 1, column 11: unexpected end of input`,
		"":           `rule JSON: line 1, column 1: unexpected end of input`,
		"null":       `rule JSON: "id" is required`,
		`{"id":"r","sql":"x","actions":[{"a":{}}],"options":{"concurrency":0}}`:           `rule "r": options.concurrency: want an integer from 1 to 256, got 0`,
		`{"id":"r","sql":"x","actions":[{"a":{}}],"options":{"concurrency":"8"}}`:         `rule "r": options.concurrency: want an integer from 1 to 256, got "8"`,
		`{"id":"r","sql":"x","actions":[{"a":{}}],"options":{"bufferLength":2000000000}}`: `rule "r": options.bufferLength: want an integer from 1 to 1048576, got 2000000000`,
		`{"id":"r","sql":"x","actions":[{"a":{}}],"options":{"functionBatchSize":0}}`:     `rule "r": options.functionBatchSize: want an integer from 1 to 4096, got 0`,
		`{"id":"r","sql":"x","actions":[{"a":{}}],"options":{"functionBatchSize":5000}}`:  `rule "r": options.functionBatchSize: want an integer from 1 to 4096, got 5000`,
		`{"id":"r","sql":"x","actions":[{"a":{}}],"options":{"isEventTime":1}}`:           `rule "r": options.isEventTime: want true or false, got 1`,
		`{"id":"r","sql":"x","actions":[{"a":{}}],"options":{"lateTolerance":-5}}`:        `rule "r": options.lateTolerance: want milliseconds or a duration like "1s", not negative, got -5`,
		`{"id":"r","sql":"x","actions":[{"a":{}}],"options":{"lateTolerance":"x"}}`:       `rule "r": options.lateTolerance: want milliseconds or a duration like "1s", not negative, got "x"`,
		`{"id":"r","sql":"x","actions":[{"a":{}}],"options":{"maxWindowRows":0}}`:         `rule "r": options.maxWindowRows: want a positive integer, got 0`,
		`{"id":"r","sql":"x","actions":[{"a":{}}],"options":{"maxGroups":-1}}`:            `rule "r": options.maxGroups: want a positive integer, got -1`,
		`{"id":"r","sql":"x","actions":[{"a":{}}],"options":{"qoss":1}}`:                  `rule "r": options: unknown option "qoss", did you mean "qos"?`,
		`{"id":"r","sql":"x","actions":[{"a":{}}],"options":{"bufferlength":1}}`:          `rule "r": options: unknown option "bufferlength", did you mean "bufferLength"?`,
		`{"id":"r","sql":"x","acions":[{"a":{}}]}`:                                        `rule JSON: line 1, column 21: unknown key "acions", did you mean "actions"?`,
		"{\"id\":\"r\",\n \"sql\":\"x\",\n \"grpah\":{}}":                                 `rule JSON: line 3, column 2: unknown key "grpah" (known: id, sql, actions, options, triggered, name, tags)`,
		`{"id":"r","sql":"x","actions":[{"a":{}}],"triggered":"no"}`:                      `rule JSON: line 1, column 58: field "triggered": want bool, got string`,
	}
	for in, want := range cases {
		if _, err := Parse([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("Parse(%s)\n got: %v\nwant: %s", in, err, want)
		}
	}
}

// eKuiper's keys kgen does not implement load, and are named for the
// engine's warning; they are kept when the rule is written back.
func TestParseRuleIgnoredAndTriggered(t *testing.T) {
	in := `{"id":"r","name":"R","tags":["a"],"triggered":false,"sql":"x","actions":[{"a":{}}],"options":{"sendError":true,"logFilename":"r.log","qos":1}}`
	def, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := def.Ignored(), []string{"options.logFilename", "options.sendError", "tags"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Ignored = %q, want %q", got, want)
	}
	if def.Triggered == nil || *def.Triggered {
		t.Errorf("Triggered = %v, want false", def.Triggered)
	}
	out, _ := json.Marshal(def)
	if want := `{"id":"r","sql":"x","actions":[{"a":{}}],"options":{"logFilename":"r.log","qos":1,"sendError":true},"triggered":false,"tags":["a"]}`; string(out) != want {
		t.Errorf("written back:\n%s\nwant\n%s", out, want)
	}
	if again := roundTrip(t, def); !reflect.DeepEqual(def, again) {
		t.Errorf("round trip:\n%+v\n%+v", def, again)
	}
	if def, _ := Parse([]byte(ruleSeeds[0])); def.Triggered != nil || def.Ignored() != nil {
		t.Errorf("plain rule: triggered %v, ignored %q", def.Triggered, def.Ignored())
	}
}

func TestPullInterval(t *testing.T) {
	cases := map[any]time.Duration{nil: time.Second, 250: 250 * time.Millisecond, int64(5): 5 * time.Millisecond, "2s": 2 * time.Second, "30": 30 * time.Millisecond}
	for in, want := range cases {
		if got, err := pullInterval(in); err != nil || got != want {
			t.Errorf("pullInterval(%v) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, want := range map[any]string{
		"soon": `property "interval": want milliseconds or a duration like "1s", got "soon"`,
		0:      `property "interval": must be positive, got 0`,
		true:   `property "interval": want milliseconds or a duration like "1s", got bool`,
	} {
		if _, err := pullInterval(in); err == nil || err.Error() != want {
			t.Errorf("pullInterval(%v) error = %v, want %s", in, err, want)
		}
	}
}

func roundTrip(t testing.TB, def *Def) *Def {
	data, err := json.Marshal(def)
	if err != nil {
		t.Fatalf("marshal %+v: %v", def, err)
	}
	again, err := Parse(data)
	if err != nil {
		t.Fatalf("re-parse %s: %v", data, err)
	}
	return again
}

// FuzzParseRule: no input panics, and what parses survives a round trip.
func FuzzParseRule(f *testing.F) {
	for _, s := range ruleSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		def, err := Parse(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		again := roundTrip(t, def)
		a, _ := json.Marshal(def)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Fatalf("round trip changed the rule:\n%s\n%s", a, b)
		}
	})
}

func TestParseWindowOptions(t *testing.T) {
	for in, want := range map[string]RuleOptions{
		`{"isEventTime":true,"lateTolerance":1500,"maxWindowRows":10,"maxGroups":3}`: {IsEventTime: true, LateTolerance: Duration(1500 * time.Millisecond), MaxWindowRows: 10, MaxGroups: 3},
		`{"lateTolerance":"250ms"}`: {LateTolerance: Duration(250 * time.Millisecond)},
	} {
		def, err := Parse([]byte(`{"id":"r","sql":"x","actions":[{"a":{}}],"options":` + in + `}`))
		if err != nil {
			t.Fatal(err)
		}
		if def.Options != want {
			t.Errorf("options %s: got %+v, want %+v", in, def.Options, want)
		}
		if again := roundTrip(t, def); again.Options != want {
			t.Errorf("options %s after a round trip: %+v", in, again.Options)
		}
	}
}
