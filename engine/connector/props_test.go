package connector

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/sdk"
)

func TestGetString(t *testing.T) {
	props := map[string]any{"s": "x", "i": 123456, "f": 3.1, "b": true, "n": nil, "m": map[string]any{}}
	for key, want := range map[string]string{"s": "x", "i": "123456", "f": "3.1", "b": "true", "n": "def", "missing": "def"} {
		got, err := getString(props, key, "def")
		if err != nil || got != want {
			t.Errorf("getString(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
	_, err := getString(props, "m", "")
	if want := `property "m": want string, got map[]`; err == nil || err.Error() != want {
		t.Errorf("getString(map) error = %v, want %q", err, want)
	}
}

func TestGetInt(t *testing.T) {
	props := map[string]any{"int": 2, "i64": int64(2), "f": 2.0, "s": "2", "num": json.Number("2"), "u8": uint8(2)}
	for key := range props {
		got, err := getInt(props, key, 9)
		if err != nil || got != 2 {
			t.Errorf("getInt(%q) = %d, %v; want 2", key, got, err)
		}
	}
	if got, err := getInt(props, "missing", 9); err != nil || got != 9 {
		t.Errorf("getInt(missing) = %d, %v; want default 9", got, err)
	}
	bad := map[string]string{
		"x":    `property "x": want int, got "x"`,
		"frac": `property "frac": want int, got 1.5`,
		"b":    `property "b": want int, got true`,
	}
	badProps := map[string]any{"x": "x", "frac": 1.5, "b": true}
	for key, want := range bad {
		if _, err := getInt(badProps, key, 0); err == nil || err.Error() != want {
			t.Errorf("getInt(%q) error = %v, want %q", key, err, want)
		}
	}
}

func TestGetIntRange(t *testing.T) {
	props := map[string]any{"qos": "x", "big": 3, "ok": 2.0}
	if n, err := getIntRange(props, "ok", 1, 0, 2); err != nil || n != 2 {
		t.Errorf("getIntRange(ok) = %d, %v", n, err)
	}
	for key, want := range map[string]string{
		"qos": `property "qos": want int 0..2, got "x"`,
		"big": `property "big": want int 0..2, got 3`,
	} {
		if _, err := getIntRange(props, key, 1, 0, 2); err == nil || err.Error() != want {
			t.Errorf("getIntRange(%q) error = %v, want %q", key, err, want)
		}
	}
}

func TestGetBool(t *testing.T) {
	props := map[string]any{"b": true, "s": "false", "bad": "yes", "num": 1}
	if v, err := getBool(props, "b", false); err != nil || !v {
		t.Errorf("getBool(b) = %v, %v", v, err)
	}
	if v, err := getBool(props, "s", true); err != nil || v {
		t.Errorf("getBool(s) = %v, %v", v, err)
	}
	if v, err := getBool(props, "missing", true); err != nil || !v {
		t.Errorf("getBool(missing) = %v, %v", v, err)
	}
	for key, want := range map[string]string{
		"bad": `property "bad": want bool, got "yes"`,
		"num": `property "num": want bool, got 1`,
	} {
		if _, err := getBool(props, key, false); err == nil || err.Error() != want {
			t.Errorf("getBool(%q) error = %v, want %q", key, err, want)
		}
	}
}

func TestGetDuration(t *testing.T) {
	props := map[string]any{"ms": 1500, "f": 1500.0, "str": "1.5s", "strms": "1500", "i64": int64(1500)}
	for key := range props {
		got, err := getDuration(props, key, 0)
		if err != nil || got != 1500*time.Millisecond {
			t.Errorf("getDuration(%q) = %v, %v; want 1.5s", key, got, err)
		}
	}
	if got, err := getDuration(props, "missing", time.Second); err != nil || got != time.Second {
		t.Errorf("getDuration(missing) = %v, %v", got, err)
	}
	badProps := map[string]any{"word": "soon", "neg": -5, "negs": "-1s", "b": false}
	for key, want := range map[string]string{
		"word": `property "word": want a duration (milliseconds or a string like "1s"), got "soon"`,
		"neg":  `property "neg": want a duration (milliseconds or a string like "1s"), got -5`,
		"negs": `property "negs": want a duration (milliseconds or a string like "1s"), got "-1s"`,
		"b":    `property "b": want a duration (milliseconds or a string like "1s"), got false`,
	} {
		if _, err := getDuration(badProps, key, 0); err == nil || err.Error() != want {
			t.Errorf("getDuration(%q) error = %v, want %q", key, err, want)
		}
	}
}

// Each connector reports a bad property with its own name first.
func TestProvisionErrors(t *testing.T) {
	ctx := newTestContext(t)
	cases := []struct {
		name  string
		props map[string]any
		want  string
	}{
		{"mqtt source qos", map[string]any{"datasource": "t", "qos": "x"},
			`mqtt source: property "qos": want int 0..2, got "x"`},
		{"mqtt source datasource", map[string]any{},
			`mqtt source: property "datasource" is required`},
		{"mqtt source protocol", map[string]any{"datasource": "t", "protocolVersion": "5"},
			`mqtt source: property "protocolVersion": want "3.1" or "3.1.1", got "5"`},
		{"mqtt source tls", map[string]any{"datasource": "t", "certificationPath": "c.pem"},
			`mqtt source: property "privateKeyPath" is required with "certificationPath"`},
		{"mqtt source tls outside", map[string]any{"datasource": "t", "rootCaPath": "/etc/ssl/ca.pem"},
			`mqtt source: property "rootCaPath": "/etc/ssl/ca.pem" is outside the engine root ` + ctx.root + ` and the paths in etc/kgen.yaml paths.allow`},
		{"mqtt sink tls outside", map[string]any{"topic": "t", "certificationPath": "../c.pem", "privateKeyPath": "k.pem"},
			`mqtt sink: property "certificationPath": "../c.pem" is outside the engine root ` + ctx.root + ` and the paths in etc/kgen.yaml paths.allow`},
		{"mqtt sink tls settings", map[string]any{"topic": "t", "certificationPath": "c.pem", "privateKeyPath": "etc/k.pem"},
			`mqtt sink: property "privateKeyPath": "etc/k.pem" is in the engine's own etc, which definitions may not use unless etc/kgen.yaml paths.allow lists it`},
		{"mqtt sink topic", map[string]any{"qos": 1},
			`mqtt sink: property "topic" is required`},
		{"mqtt sink wildcard", map[string]any{"topic": "plant/+/temp"},
			`mqtt sink: property "topic": "plant/+/temp": a topic to publish to has no wildcards (+, #) or NUL`},
		{"mqtt sink retained", map[string]any{"topic": "t", "retained": "maybe"},
			`mqtt sink: property "retained": want bool, got "maybe"`},
		{"file sink fileType", map[string]any{"path": "out.json", "fileType": "csv"},
			`file sink: property "fileType": want "lines" or "json", got "csv"`},
		{"file sink path", map[string]any{},
			`file sink: property "path" is required`},
		{"file sink outside", map[string]any{"path": "/tmp/x.jsonl"},
			`file sink "path": "/tmp/x.jsonl" is outside the engine root ` + ctx.root + ` and the paths in etc/kgen.yaml paths.allow`},
		{"file sink interval", map[string]any{"path": "o", "checkInterval": 0},
			`file sink: property "checkInterval": want a positive duration, got 0`},
		{"file source fileType", map[string]any{"datasource": "a.json", "fileType": "csv"},
			`file source: property "fileType": want "json" or "lines", got "csv"`},
		{"file source outside", map[string]any{"datasource": "../../a.json"},
			`file source "datasource": "../../a.json" is outside the engine root ` + ctx.root + ` and the paths in etc/kgen.yaml paths.allow`},
		{"file source folder outside", map[string]any{"datasource": "a.json", "path": "/var/log"},
			`file source "path": "/var/log" is outside the engine root ` + ctx.root + ` and the paths in etc/kgen.yaml paths.allow`},
		{"file source interval", map[string]any{"datasource": "a.json", "sendInterval": "later"},
			`file source: property "sendInterval": want a duration (milliseconds or a string like "1s"), got "later"`},
		{"memory source buffer", map[string]any{"datasource": "a", "bufferLength": 0},
			`memory source: property "bufferLength": want int 1..16777216, got 0`},
		{"memory source filter", map[string]any{"datasource": "a/#/b"},
			`memory source: datasource: topic filter "a/#/b": '#' must be the last level`},
		{"memory sink topic", map[string]any{},
			`memory sink: property "topic" is required`},
		{"memory sink wildcard", map[string]any{"topic": "a/+"},
			`memory sink: property "topic": must not contain wildcards, got "a/+"`},
	}
	for _, c := range cases {
		var err error
		switch {
		case strings.HasPrefix(c.name, "mqtt source"):
			err = (&mqttSource{}).Provision(ctx, c.props)
		case strings.HasPrefix(c.name, "mqtt sink"):
			err = (&mqttSink{}).Provision(ctx, c.props)
		case strings.HasPrefix(c.name, "file sink"):
			err = (&fileSink{}).Provision(ctx, c.props)
		case strings.HasPrefix(c.name, "file source"):
			err = (&fileSource{}).Provision(ctx, c.props)
		case strings.HasPrefix(c.name, "memory source"):
			err = (&memorySource{}).Provision(ctx, c.props)
		case strings.HasPrefix(c.name, "memory sink"):
			err = (&memorySink{}).Provision(ctx, c.props)
		}
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: Provision error = %v, want %q", c.name, err, c.want)
		}
	}
}

func TestRegistered(t *testing.T) {
	for _, e := range sdk.RegistrationErrors() {
		t.Errorf("registration: %v", e)
	}
	want := map[sdk.Kind]string{
		sdk.KindSource: "file memory mqtt",
		sdk.KindSink:   "file log memory mqtt nop",
	}
	for kind, names := range want {
		if got := strings.Join(sdk.Registered(kind), " "); got != names {
			t.Errorf("registered %ss: %s, want %s", kind, got, names)
		}
	}
}

// Every built-in connector refuses a property it does not know, naming the
// closest one it does, and accepts (logging them) eKuiper's properties that
// kgen ignores.
func TestUnknownProperties(t *testing.T) {
	for _, c := range []struct {
		kind  sdk.Kind
		typ   string
		props map[string]any
		want  string // "" for accepted
		// logged is the properties a warning names, for accepted ones.
		logged string
	}{
		{sdk.KindSink, "mqtt", map[string]any{"topic": "t", "qoss": 1}, `mqtt sink: unknown property "qoss", did you mean "qos"?`, ""},
		{sdk.KindSink, "mqtt", map[string]any{"topic": "t", "clientID": "c"}, `mqtt sink: unknown property "clientID", did you mean "clientId"?`, ""},
		{sdk.KindSink, "mqtt", map[string]any{"topic": "t", "zzz": 1}, `mqtt sink: unknown property "zzz" (known: certificationPath, clientId, clientid, insecureSkipVerify, password, privateKeyPath, protocolVersion, qos, retained, rootCaPath, server, topic, username)`, ""},
		{sdk.KindSink, "mqtt", map[string]any{"topic": "t", "qos": 1, "retained": true, "clientid": "x", "format": "json", "tlsMinVersion": "1.2"}, "", "[format tlsMinVersion]"},
		{sdk.KindSource, "mqtt", map[string]any{"datasource": "t", "server": "tcp://h:1", "qos": 1, "durableClientid": "d", "format": "json"}, "", ""},
		{sdk.KindSource, "mqtt", map[string]any{"datasource": "t", "sever": "tcp://h:1"}, `mqtt source: unknown property "sever", did you mean "server"?`, ""},
		{sdk.KindSource, "mqtt", map[string]any{"datasource": "t", "kubeedgeVersion": "1", "bufferLength": 10}, "", "[bufferLength kubeedgeVersion]"},
		{sdk.KindSink, "memory", map[string]any{"topic": "t", "topics": "x"}, `memory sink: unknown property "topics", did you mean "topic"?`, ""},
		{sdk.KindSink, "memory", map[string]any{"topic": "t", "keyField": "id"}, "", "[keyField]"},
		{sdk.KindSource, "memory", map[string]any{"datasource": "t", "bufferLenght": 10}, `memory source: unknown property "bufferLenght", did you mean "bufferLength"?`, ""},
		{sdk.KindSink, "file", map[string]any{"path": "o.jsonl", "filetype": "json"}, `file sink: unknown property "filetype", did you mean "fileType"?`, ""},
		{sdk.KindSink, "file", map[string]any{"path": "o.jsonl", "rollingCount": 3}, "", "[rollingCount]"},
		{sdk.KindSource, "file", map[string]any{"datasource": "in.json", "sendIntreval": "1s"}, `file source: unknown property "sendIntreval", did you mean "sendInterval"?`, ""},
		{sdk.KindSink, "log", map[string]any{"level": "info"}, `log sink: unknown property "level" (it takes none)`, ""},
		{sdk.KindSink, "log", map[string]any{"sendSingle": true}, `log sink: unknown property "sendSingle" (it takes none)`, ""},
		{sdk.KindSink, "log", map[string]any{"dataTemplate": "{{.}}"}, "", "[dataTemplate]"},
		{sdk.KindSink, "nop", map[string]any{"x": 1}, `nop sink: unknown property "x" (it takes none)`, ""},
	} {
		ctx := newTestContext(t)
		var err error
		if c.kind == sdk.KindSink {
			f, _ := sdk.LookupSink(c.typ)
			err = f().Provision(ctx, c.props)
		} else {
			f, _ := sdk.LookupSource(c.typ)
			err = f().Provision(ctx, c.props)
		}
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%s %s %v:\ngot  %s\nwant %s", c.typ, c.kind, c.props, got, c.want)
		}
		logs := ctx.logs.String()
		if c.logged == "" && strings.Contains(logs, "ignored") {
			t.Errorf("%s %s %v: logged %s", c.typ, c.kind, c.props, logs)
		}
		if c.logged != "" && (!strings.Contains(logs, `msg="eKuiper properties kgen does not implement are ignored"`) || !strings.Contains(logs, "properties="+c.logged) && !strings.Contains(logs, `properties="`+c.logged+`"`)) {
			t.Errorf("%s %s %v: logs %q, want the warning naming %s", c.typ, c.kind, c.props, logs, c.logged)
		}
	}
}
