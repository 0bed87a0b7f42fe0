package service

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/engine/pluginzip"
	"github.com/kgen-dev/kgen/internal/testutil/ziptest"
)

// zipEntry is one entry of a zip made by attackZip.
type zipEntry struct {
	name string
	body string
	mode fs.FileMode // 0 means a regular file
	// declared, when not 0, is the size the header claims instead of
	// len(body).
	declared uint64
}

// attackZip writes entries into a zip, as they are.
func attackZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var zs []ziptest.Entry
	for _, e := range entries {
		zs = append(zs, ziptest.Entry{Name: e.name, Body: e.body, Mode: e.mode, Declared: e.declared})
	}
	return ziptest.Zip(t, zs...)
}

const attackBaseProto = `syntax = "proto3";
package greeter;
service Greeter { rpc Hello(HelloRequest) returns (HelloReply); }
message HelloRequest { string name = 1; }
message HelloReply { string message = 1; }
`

const attackBaseDesc = `{"interfaces": {"greeter": {"address": "http://127.0.0.1:9", "protocol": "rest",
  "schemaFile": "greeter.proto", "functions": [{"name": "hi", "serviceName": "Hello"}]}}}`

// attackProto is the schema of the services the cases add; secret.proto,
// outside the root, is a valid one too, so that reading it would pass.
const attackProto = `syntax = "proto3";
package z;
service Z { rpc Ping(Msg) returns (Msg); }
message Msg { string s = 1; }
`

// attackDesc is a description of service "z" whose interface takes body,
// a list of keys.
func attackDesc(body string) string {
	return `{"interfaces": {"z": {"address": "http://127.0.0.1:9", "protocol": "rest", ` + body + `}}}`
}

// TestAttackCorpusServiceZips feeds the registry service zips built to
// escape the schema folder, exhaust the engine or slip a wrong definition
// in. Each one must be refused with an error that names the entry, key or
// file and why, and leave the whole temporary folder (the root and a
// folder beside it) as it was: nothing written outside, nothing half
// installed, an updated service still the old one.
func TestAttackCorpusServiceZips(t *testing.T) {
	good := func(extra ...zipEntry) []byte {
		return attackZip(t, append([]zipEntry{
			{name: "z.json", body: attackDesc(`"schemaFile": "z.proto"`)},
			{name: "schemas/z.proto", body: attackProto},
		}, extra...)...)
	}
	// withDesc is a zip of service z with the description desc.
	withDesc := func(desc string, extra ...zipEntry) []byte {
		return attackZip(t, append([]zipEntry{{name: "z.json", body: desc}, {name: "schemas/z.proto", body: attackProto}}, extra...)...)
	}
	// importing is a zip whose schema z.proto imports file.
	importing := func(file string) []byte {
		return attackZip(t,
			zipEntry{name: "z.json", body: attackDesc(`"schemaFile": "z.proto"`)},
			zipEntry{name: "schemas/z.proto", body: "syntax = \"proto3\";\nimport \"" + file + "\";\n" + attackProto[len("syntax = \"proto3\";\n"):]},
		)
	}
	zeros := strings.Repeat("\x00", maxZipFile+1)
	long := strings.Repeat("a", 256)
	deep := strings.Repeat("d/", pluginzip.MaxDepth)
	many := []zipEntry{{name: "z.json", body: attackDesc(`"schemaFile": "z.proto"`)}}
	for i := range maxZipEntries {
		many = append(many, zipEntry{name: fmt.Sprintf("schemas/f%d.proto", i)})
	}
	valid := good()
	corrupt := bytes.Clone(valid)
	// The first entry's compressed data starts after its 30-byte local
	// header and its name, z.json.
	copy(corrupt[30+len("z.json"):], "\xff\xff\xff\xff\xff\xff")

	cases := []struct {
		name string
		// update replaces service "base" instead of adding "z".
		update bool
		zip    []byte
		// zipIn, when set, makes the zip instead, for names and contents
		// that hold the temporary folder (written $T in want).
		zipIn func(tmp string) []byte
		want  string
	}{
		// Entries that would land outside the schema folder.
		{name: "zip slip", zip: good(zipEntry{name: "../x.proto"}),
			want: `add service "z": zip entry "../x.proto": ".." is not allowed`},
		{name: "zip slip to the folder beside the root", zip: good(zipEntry{name: "schemas/../../../../outside/pwned.proto", body: "x"}),
			want: `add service "z": zip entry "schemas/../../../../outside/pwned.proto": ".." is not allowed`},
		{name: "nested zip slip", zip: good(zipEntry{name: "schemas/a/../../../x.proto"}),
			want: `add service "z": zip entry "schemas/a/../../../x.proto": ".." is not allowed`},
		{name: "absolute", zip: good(zipEntry{name: "/etc/x.proto"}),
			want: `add service "z": zip entry "/etc/x.proto": absolute paths are not allowed`},
		{name: "absolute into the folder beside the root", zipIn: func(tmp string) []byte { return good(zipEntry{name: tmp + "/outside/pwned.proto"}) },
			want: `add service "z": zip entry "$T/outside/pwned.proto": absolute paths are not allowed`},
		{name: "backslash", zip: good(zipEntry{name: `schemas\x.proto`}),
			want: `add service "z": zip entry "schemas\\x.proto": backslashes are not allowed`},
		{name: "backslash slip", zip: good(zipEntry{name: `schemas\..\..\x.proto`}),
			want: `add service "z": zip entry "schemas\\..\\..\\x.proto": backslashes are not allowed`},
		{name: "drive letter", zip: good(zipEntry{name: `C:\x.proto`}),
			want: `add service "z": zip entry "C:\\x.proto": absolute paths are not allowed`},
		{name: "drive letter with a slash", zip: good(zipEntry{name: "C:/x.proto"}),
			want: `add service "z": zip entry "C:/x.proto": absolute paths are not allowed`},
		{name: "symlink", zipIn: func(tmp string) []byte {
			return good(zipEntry{name: "schemas/l.proto", body: tmp + "/outside/secret.proto", mode: fs.ModeSymlink | 0o777})
		},
			want: `add service "z": zip entry "schemas/l.proto": symbolic links are not allowed`},
		{name: "symlink as the description", zipIn: func(tmp string) []byte {
			return attackZip(t, zipEntry{name: "z.json", body: tmp + "/outside/secret.json", mode: fs.ModeSymlink | 0o777})
		},
			want: `add service "z": zip entry "z.json": symbolic links are not allowed`},
		{name: "fifo", zip: good(zipEntry{name: "schemas/fifo", mode: fs.ModeNamedPipe | 0o644}),
			want: `add service "z": zip entry "schemas/fifo": only files and folders are allowed, not p---------`},
		{name: "device", zip: good(zipEntry{name: "schemas/sda", mode: fs.ModeDevice | 0o644}),
			want: `add service "z": zip entry "schemas/sda": only files and folders are allowed, not D---------`},
		{name: "setuid", zip: good(zipEntry{name: "schemas/x.proto", mode: fs.ModeSetuid | 0o755}),
			want: `add service "z": zip entry "schemas/x.proto": setuid, setgid and sticky bits are not allowed (mode urwxr-xr-x)`},
		{name: "setgid folder", zip: good(zipEntry{name: "schemas/d/", mode: fs.ModeDir | fs.ModeSetgid | 0o755}),
			want: `add service "z": zip entry "schemas/d/": setuid, setgid and sticky bits are not allowed (mode dgrwxr-xr-x)`},
		{name: "sticky", zip: good(zipEntry{name: "schemas/x.proto", mode: fs.ModeSticky | 0o644}),
			want: `add service "z": zip entry "schemas/x.proto": setuid, setgid and sticky bits are not allowed (mode trw-r--r--)`},
		{name: "not the layout", zip: good(zipEntry{name: "install.sh", body: "rm -rf /"}),
			want: `add service "z": zip entry "install.sh": want z.json or schemas/**`},
		{name: "no description", zip: attackZip(t, zipEntry{name: "schemas/z.proto", body: attackProto}),
			want: `add service "z": zip has no z.json`},

		// Size and count.
		{name: "honest bomb", zip: good(zipEntry{name: "schemas/big.proto", body: zeros}),
			want: `add service "z": zip entry "schemas/big.proto": larger than the limit of 16777216 bytes`},
		{name: "honest bomb in many files", zip: good(
			zipEntry{name: "schemas/1", body: zeros[:maxZipFile]}, zipEntry{name: "schemas/2", body: zeros[:maxZipFile]},
			zipEntry{name: "schemas/3", body: zeros[:maxZipFile]}, zipEntry{name: "schemas/4", body: zeros[:maxZipFile]}),
			want: `add service "z": zip contents are larger than the limit of 67108864 bytes`},
		{name: "lying bomb", zip: good(zipEntry{name: "schemas/big.proto", body: zeros, declared: 10}),
			want: `add service "z": zip entry "schemas/big.proto": decompresses to more than the 10 bytes its header declares`},
		{name: "lying description", zip: attackZip(t, zipEntry{name: "z.json", body: attackDesc(`"schemaFile": "z.proto"`) + strings.Repeat(" ", 1<<20), declared: 100}),
			want: `add service "z": zip entry "z.json": decompresses to more than the 100 bytes its header declares`},
		{name: "huge declared size", zip: good(zipEntry{name: "schemas/big.proto", body: "x", declared: 1 << 62}),
			want: `add service "z": zip entry "schemas/big.proto": larger than the limit of 16777216 bytes`},
		{name: "too many files", zip: attackZip(t, many...),
			want: `add service "z": zip has 1001 entries, more than the limit of 1000`},
		{name: "not a zip", zip: []byte("PK\x03\x04 but not really"),
			want: `add service "z": open zip: zip: not a valid zip file`},
		{name: "empty", zip: nil,
			want: `add service "z": open zip: zip: not a valid zip file`},
		{name: "truncated", zip: valid[:len(valid)-10],
			want: `add service "z": open zip: zip: not a valid zip file`},
		{name: "corrupt data", zip: corrupt,
			want: `add service "z": zip entry "z.json": flate: corrupt input before offset 1`},

		// Names that repeat, clash or cannot be written.
		{name: "duplicate schema", zip: good(zipEntry{name: "schemas/z.proto", body: "syntax = \"proto3\";\n"}),
			want: `add service "z": zip entry "schemas/z.proto": duplicate entry`},
		{name: "duplicate description", zip: good(zipEntry{name: "z.json", body: attackDesc(`"schemaFile": "../../../../outside/secret.proto"`)}),
			want: `add service "z": zip entry "z.json": duplicate entry`},
		{name: "duplicate but for case", zip: good(zipEntry{name: "schemas/Z.proto", body: attackProto}),
			want: `add service "z": zip entry "schemas/Z.proto": "schemas/Z.proto" differs only in case from "schemas/z.proto"`},
		{name: "description twice but for case", zip: good(zipEntry{name: "Z.json", body: "{}"}),
			want: `add service "z": zip entry "Z.json": "Z.json" differs only in case from "z.json"`},
		{name: "file then folder", zip: good(zipEntry{name: "schemas/x", body: "x"}, zipEntry{name: "schemas/x/y.proto", body: attackProto}),
			want: `add service "z": zip entry "schemas/x/y.proto": "schemas/x" is both a file (entry "schemas/x") and a folder`},
		{name: "folder then file", zip: good(zipEntry{name: "schemas/x/y.proto", body: attackProto}, zipEntry{name: "schemas/x", body: "x"}),
			want: `add service "z": zip entry "schemas/x": "schemas/x" is both a file and a folder (entry "schemas/x/y.proto")`},
		{name: "file then folder entry", zip: good(zipEntry{name: "schemas/x", body: "x"}, zipEntry{name: "schemas/x/", mode: fs.ModeDir | 0o755}),
			want: `add service "z": zip entry "schemas/x/": "schemas/x" is both a file (entry "schemas/x") and a folder`},
		{name: "NUL in a name", zip: good(zipEntry{name: "schemas/a\x00.proto"}),
			want: `add service "z": zip entry "schemas/a\x00.proto": a name must not hold a NUL byte`},
		{name: "NUL cutting a name short", zip: good(zipEntry{name: "z.json\x00/../../../../outside/pwned"}),
			want: `add service "z": zip entry "z.json\x00/../../../../outside/pwned": a name must not hold a NUL byte`},
		{name: "very long name", zip: good(zipEntry{name: "schemas/" + long + ".proto"}),
			want: `add service "z": zip entry "schemas/` + strings.Repeat("a", 32) + "..." + strings.Repeat("a", 31) + `.proto": a file or folder name of 262 bytes, more than the limit of 255`},
		{name: "very long path", zip: good(zipEntry{name: "schemas/" + strings.Repeat(long[:250]+"/", 5) + "x.proto"}),
			want: `add service "z": zip entry "schemas/` + strings.Repeat("a", 32) + "..." + strings.Repeat("a", 29) + `/x.proto": 1262 bytes long, more than the limit of 1024`},
		{name: "deep folders", zip: good(zipEntry{name: "schemas/" + deep + "x.proto"}),
			want: `add service "z": zip entry "schemas/` + deep + `x.proto": nested 34 deep, more than the limit of 32`},
		{name: "a schema under a file of the root", zip: good(zipEntry{name: "schemas/greeter.proto/x.proto", body: attackProto}),
			want: `add service "z": schema "greeter.proto/x.proto": schemas/greeter.proto is not a folder`},

		// Schemas that reach outside the schema folder.
		{name: "schemaFile with ..", zip: withDesc(attackDesc(`"schemaFile": "../x.proto"`)),
			want: `add service "z": interface "z": schema file "../x.proto": want a relative path inside schemas/`},
		{name: "schemaFile to the folder beside the root", zip: withDesc(attackDesc(`"schemaFile": "../../../../outside/secret.proto"`)),
			want: `add service "z": interface "z": schema file "../../../../outside/secret.proto": want a relative path inside schemas/`},
		{name: "absolute schemaFile", zip: withDesc(attackDesc(`"schemaFile": "/etc/x.proto"`)),
			want: `add service "z": interface "z": schema file "/etc/x.proto": want a relative path inside schemas/`},
		{name: "absolute schemaFile beside the root", zipIn: func(tmp string) []byte {
			return withDesc(attackDesc(`"schemaFile": "` + tmp + `/outside/secret.proto"`))
		},
			want: `add service "z": interface "z": schema file "$T/outside/secret.proto": want a relative path inside schemas/`},
		{name: "schemaFile with a backslash", zip: withDesc(attackDesc(`"schemaFile": "..\\x.proto"`)),
			want: `add service "z": interface "z": schema file "..\\x.proto": want a relative path inside schemas/`},
		{name: "import with ..", zip: importing("../other.proto"),
			want: `add service "z": interface "z": schema z.proto:2:8: could not resolve path "../other.proto": want a relative path inside schemas/`},
		{name: "import of the folder beside the root", zip: importing("../../../../outside/secret.proto"),
			want: `add service "z": interface "z": schema z.proto:2:8: could not resolve path "../../../../outside/secret.proto": want a relative path inside schemas/`},
		{name: "absolute import", zipIn: func(tmp string) []byte { return importing(tmp + "/outside/secret.proto") },
			want: `add service "z": interface "z": schema z.proto:2:8: could not resolve path "$T/outside/secret.proto": want a relative path inside schemas/`},
		{name: "schemaFile not in the zip", zip: withDesc(attackDesc(`"schemaFile": "gone.proto"`)),
			want: `add service "z": interface "z": schema "gone.proto": file not found`},

		// Descriptions that say something else than they seem to.
		{name: "duplicate key", zip: withDesc(`{"interfaces": {"z": {"address": "http://127.0.0.1:9", "protocol": "rest", "schemaFile": "z.proto"}},
 "interfaces": {}}`),
			want: `add service "z": parse description: line 2, column 2: duplicate key "interfaces"`},
		{name: "duplicate nested key", zip: withDesc(`{"interfaces": {"z": {"address": "http://127.0.0.1:9", "protocol": "rest",
   "schemaFile": "z.proto", "address": "http://evil.example:80"}}}`),
			want: `add service "z": parse description: line 2, column 29: interfaces.z: duplicate key "address"`},
		{name: "duplicate interface", zip: withDesc(`{"interfaces": {
  "z": {"address": "http://127.0.0.1:9", "protocol": "rest", "schemaFile": "z.proto"},
  "z": {"address": "http://127.0.0.1:9", "protocol": "rest", "schemaless": true}}}`),
			want: `add service "z": parse description: line 3, column 3: interfaces: duplicate key "z"`},
		{name: "duplicate key in a function", zip: withDesc(attackDesc(`"schemaFile": "z.proto", "functions": [{"name": "p", "serviceName": "Ping", "name": "q"}]`)),
			want: `add service "z": parse description: line 1, column 152: interfaces.z.functions[0]: duplicate key "name"`},
		{name: "unknown key", zip: withDesc(attackDesc(`"schemaFile": "z.proto", "adress": "x"`)),
			want: `add service "z": parse description: line 1, column 101: interfaces.z: unknown key "adress", did you mean "address"?`},
		{name: "key in another case", zip: withDesc(attackDesc(`"SchemaFile": "z.proto"`)),
			want: `add service "z": parse description: line 1, column 76: interfaces.z: unknown key "SchemaFile", did you mean "schemaFile"?`},
		{name: "unknown key far from any", zip: withDesc(`{"interfaces": {}, "installScript": "x"}`),
			want: `add service "z": parse description: line 1, column 20: unknown key "installScript" (known: about, interfaces)`},

		// Functions that would be shadowed or taken.
		{name: "function named as a built-in", zip: withDesc(attackDesc(`"schemaFile": "z.proto", "functions": [{"name": "abs", "serviceName": "Ping"}]`)),
			want: `add service "z": interface "z": function "abs" (rpc "Ping") is a SQL built-in; an external function cannot replace it`},
		{name: "rpc named as a built-in", zip: attackZip(t, zipEntry{name: "z.json", body: attackDesc(`"schemaFile": "z.proto"`)},
			zipEntry{name: "schemas/z.proto", body: strings.Replace(attackProto, "rpc Ping", "rpc Upper", 1)}),
			want: `add service "z": interface "z": rpc "Upper" has the name of a SQL built-in, which SQL would call instead; rename it: "functions": [{"name": "zUpper", "serviceName": "Upper"}]`},
		{name: "schemaless interface named as a built-in", zip: withDesc(`{"interfaces": {"lower": {"address": "http://127.0.0.1:9", "protocol": "rest", "schemaless": true}}}`),
			want: `add service "z": interface "lower": a schemaless interface's function has its name, and "lower" is a SQL built-in, which SQL would call instead; name the interface otherwise`},
		{name: "function named as a built-in aggregate", zip: withDesc(attackDesc(`"schemaFile": "z.proto", "functions": [{"name": "COUNT", "serviceName": "Ping"}]`)),
			want: `add service "z": interface "z": function "COUNT" (rpc "Ping") is a SQL built-in; an external function cannot replace it`},
		{name: "function of another service", zip: withDesc(attackDesc(`"schemaFile": "z.proto", "functions": [{"name": "hi", "serviceName": "Ping"}]`)),
			want: `add service "z": function "hi" is already defined by service "base"`},
		{name: "schema of another service", zip: good(zipEntry{name: "schemas/greeter.proto", body: attackProto}),
			want: `add service "z": schema "greeter.proto" is used by service "base" and would change`},

		// Updates of service base: it stays as it was.
		{name: "update: zip slip", update: true, zip: attackZip(t, zipEntry{name: "base.json", body: attackBaseDesc}, zipEntry{name: "schemas/../../../../outside/secret.proto", body: "x"}),
			want: `update service "base": zip entry "schemas/../../../../outside/secret.proto": ".." is not allowed`},
		{name: "update: lying bomb", update: true, zip: attackZip(t, zipEntry{name: "base.json", body: attackBaseDesc}, zipEntry{name: "schemas/greeter.proto", body: zeros, declared: 200}),
			want: `update service "base": zip entry "schemas/greeter.proto": decompresses to more than the 200 bytes its header declares`},
		{name: "update: duplicate entry", update: true, zip: attackZip(t, zipEntry{name: "base.json", body: attackBaseDesc}, zipEntry{name: "schemas/greeter.proto", body: attackBaseProto}, zipEntry{name: "schemas/greeter.proto", body: attackProto}),
			want: `update service "base": zip entry "schemas/greeter.proto": duplicate entry`},
		{name: "update: duplicate key", update: true, zip: attackZip(t, zipEntry{name: "base.json", body: `{"interfaces": {}, "interfaces": {}}`}),
			want: `update service "base": parse description: line 1, column 20: duplicate key "interfaces"`},
		{name: "update: built-in", update: true, zip: attackZip(t, zipEntry{name: "base.json", body: strings.Replace(attackBaseDesc, `"hi"`, `"upper"`, 1)}),
			want: `update service "base": interface "greeter": function "upper" (rpc "Hello") is a SQL built-in; an external function cannot replace it`},
		{name: "update: schemaFile outside", update: true, zip: attackZip(t, zipEntry{name: "base.json", body: strings.Replace(attackBaseDesc, `"greeter.proto"`, `"../../../../outside/secret.proto"`, 1)}),
			want: `update service "base": interface "greeter": schema file "../../../../outside/secret.proto": want a relative path inside schemas/`},
		{name: "update: a schema under a file of the root", update: true, zip: attackZip(t, zipEntry{name: "base.json", body: attackBaseDesc},
			zipEntry{name: "schemas/greeter.proto/x.proto", body: attackProto}),
			want: `update service "base": schema "greeter.proto/x.proto": schemas/greeter.proto is not a folder`},
		{name: "update: a changed schema and an unknown key", update: true, zip: attackZip(t,
			zipEntry{name: "base.json", body: strings.Replace(attackBaseDesc, `"protocol"`, `"protocl"`, 1)},
			zipEntry{name: "schemas/greeter.proto", body: attackBaseProto + "message Extra {}\n"}),
			want: `update service "base": parse description: line 1, column 62: interfaces.greeter: unknown key "protocl", did you mean "protocol"?`},
		{name: "update: a schema both file and folder", update: true, zip: attackZip(t, zipEntry{name: "base.json", body: attackBaseDesc},
			zipEntry{name: "schemas/greeter.proto", body: attackBaseProto + "message Extra {}\n"}, zipEntry{name: "schemas/greeter.proto/x.proto", body: attackProto}),
			want: `update service "base": zip entry "schemas/greeter.proto/x.proto": "schemas/greeter.proto" is both a file (entry "schemas/greeter.proto") and a folder`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			root := filepath.Join(tmp, "root")
			outside := filepath.Join(tmp, "outside")
			os.MkdirAll(outside, 0o755)
			for f, body := range map[string]string{"secret.proto": attackProto, "secret.json": attackDesc(`"schemaFile": "z.proto"`)} {
				if err := os.WriteFile(filepath.Join(outside, f), []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			r := NewRegistry(root, nil)
			t.Cleanup(func() { r.Close() })
			if errs := r.Load(); len(errs) > 0 {
				t.Fatal(errs)
			}
			if err := r.Add("base", []byte(attackBaseDesc), map[string][]byte{"greeter.proto": []byte(attackBaseProto)}); err != nil {
				t.Fatal(err)
			}
			baseDesc, err := r.Get("base")
			if err != nil {
				t.Fatal(err)
			}
			zipData := tc.zip
			if tc.zipIn != nil {
				zipData = tc.zipIn(tmp)
			}
			want := strings.ReplaceAll(tc.want, "$T", tmp)

			before := ziptest.Snapshot(t, tmp)
			if tc.update {
				err = r.UpdateZip("base", zipData)
			} else {
				err = r.AddZip("z", zipData)
			}
			if err == nil || err.Error() != want {
				t.Errorf("got  %v\nwant %s", err, want)
			}
			if after := ziptest.Snapshot(t, tmp); !slices.Equal(before, after) {
				t.Errorf("the folder changed:\n%s\nwas\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
			}
			if got := r.Services(); !slices.Equal(got, []string{"base"}) {
				t.Errorf("services = %q, want [base]", got)
			}
			if d, err := r.Get("base"); err != nil || !reflect.DeepEqual(d, baseDesc) {
				t.Errorf("base is now %+v, %v; want %+v", d, err, baseDesc)
			}
			if got, want := funcNames(r), "hi=base/greeter/Hello"; got != want {
				t.Errorf("functions = %s, want %s", got, want)
			}
		})
	}
}

// writeSchemas puts back what was there when a write fails: the files it
// replaced, and no new files or folders.
func TestWriteSchemasUndo(t *testing.T) {
	root := t.TempDir()
	r := NewRegistry(root, nil)
	if errs := r.Load(); len(errs) > 0 {
		t.Fatal(errs)
	}
	dir := r.root.Schemas()
	os.WriteFile(filepath.Join(dir, "a.proto"), []byte("old"), 0o644)
	os.WriteFile(filepath.Join(dir, "c"), []byte("a file"), 0o644)
	before := ziptest.Snapshot(t, root)
	// In name order: a.proto is replaced, b/new/x.proto made, and then c/y
	// cannot be, c being a file.
	_, err := r.writeSchemas(map[string][]byte{"a.proto": []byte("new"), "b/new/x.proto": []byte("x"), "c/y.proto": []byte("y")})
	if err == nil || !strings.HasPrefix(err.Error(), `write schema "c/y.proto": `) {
		t.Errorf("got %v, want the write of c/y.proto to fail", err)
	}
	if after := ziptest.Snapshot(t, root); !slices.Equal(before, after) {
		t.Errorf("the folder changed:\n%s\nwas\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}

	undo, err := r.writeSchemas(map[string][]byte{"a.proto": []byte("new"), "b/new/x.proto": []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "b/new/x.proto")); string(got) != "x" {
		t.Errorf("b/new/x.proto = %q, want x", got)
	}
	if err := undo(); err != nil {
		t.Fatal(err)
	}
	if after := ziptest.Snapshot(t, root); !slices.Equal(before, after) {
		t.Errorf("after undo:\n%s\nwas\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
}
