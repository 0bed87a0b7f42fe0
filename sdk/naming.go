package sdk

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is the kind of an extension.
type Kind int

const (
	KindSource Kind = iota
	KindSink
	KindFunction
)

// Kinds lists every kind, in the order the engine scans them.
var Kinds = []Kind{KindSource, KindSink, KindFunction}

// String returns "source", "sink" or "function".
func (k Kind) String() string {
	switch k {
	case KindSource:
		return "source"
	case KindSink:
		return "sink"
	case KindFunction:
		return "function"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Dir returns the folder name used under plugins/ and etc/: "sources",
// "sinks" or "functions".
func (k Kind) Dir() string { return k.String() + "s" }

// ParseKind accepts a kind in the singular or the plural ("source", "sources").
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if s == k.String() || s == k.Dir() {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown plugin kind %q: want source, sink or function", s)
}

// ValidateName checks a plugin or extension name: camelCase with a lower-case
// first letter, a Go identifier, and nothing that could escape a folder. The
// error says which rule broke.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("invalid plugin name: must not be empty")
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("invalid plugin name %q: must not contain / or \\", name)
	case strings.Contains(name, ".."):
		return fmt.Errorf("invalid plugin name %q: must not contain ..", name)
	case name[0] == '.' || name[0] == '-':
		return fmt.Errorf("invalid plugin name %q: must not start with %q", name, name[:1])
	}
	for i, r := range name {
		if !(unicode.IsLetter(r) || r == '_' || (i > 0 && unicode.IsDigit(r))) {
			return fmt.Errorf("invalid plugin name %q: must be a Go identifier (bad character %q at offset %d)", name, r, i)
		}
	}
	if r, _ := utf8.DecodeRuneInString(name); !unicode.IsLower(r) {
		return fmt.Errorf("invalid plugin name %q: must start with a lower-case letter (camelCase)", name)
	}
	return nil
}

// SymbolName returns the symbol a Go plugin named name must export: the name
// with its first letter upper-cased ("file" -> "File").
func SymbolName(name string) string {
	r, n := utf8.DecodeRuneInString(name)
	if n == 0 {
		return ""
	}
	return string(unicode.ToUpper(r)) + name[n:]
}

// NameFromSymbol is the inverse of SymbolName ("File" -> "file").
func NameFromSymbol(symbol string) string {
	r, n := utf8.DecodeRuneInString(symbol)
	if n == 0 {
		return ""
	}
	return string(unicode.ToLower(r)) + symbol[n:]
}

// PluginFileName returns the canonical .so file name for a plugin:
// "File.so", or "File@v1.2.3.so" with a version.
func PluginFileName(name, version string) string {
	if version != "" {
		return SymbolName(name) + "@" + version + ".so"
	}
	return SymbolName(name) + ".so"
}

// ParsePluginFileName splits a plugin file name ("file.so", "File.so",
// "File@v1.2.3.so") into the plugin name and version ("" when absent).
func ParsePluginFileName(file string) (name, version string, err error) {
	base, ok := strings.CutSuffix(file, ".so")
	if !ok {
		return "", "", fmt.Errorf("invalid plugin file name %q: must end in .so", file)
	}
	base, version, hasVersion := strings.Cut(base, "@")
	if hasVersion {
		if _, err := parseVersion(version); err != nil {
			return "", "", fmt.Errorf("invalid plugin file name %q: %w", file, err)
		}
	}
	name = NameFromSymbol(base)
	if err := ValidateName(name); err != nil {
		return "", "", fmt.Errorf("invalid plugin file name %q: %w", file, err)
	}
	return name, version, nil
}

type semver struct {
	nums [3]int
	pre  string
}

// parseVersion accepts vMAJOR.MINOR.PATCH with an optional leading v, missing
// minor or patch parts, and a -prerelease suffix.
func parseVersion(v string) (semver, error) {
	var sv semver
	s := strings.TrimPrefix(v, "v")
	s, sv.pre, _ = strings.Cut(s, "-")
	if s == "" {
		return sv, fmt.Errorf("version %q: want a semantic version like v1.2.3", v)
	}
	parts := strings.Split(s, ".")
	if len(parts) > 3 {
		return sv, fmt.Errorf("version %q: want a semantic version like v1.2.3", v)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return sv, fmt.Errorf("version %q: want a semantic version like v1.2.3", v)
		}
		sv.nums[i] = n
	}
	return sv, nil
}

// CompareVersions compares two plugin versions semantically ("v1.10.0" is
// newer than "v1.9.0"; a release is newer than its pre-releases; "" is older
// than any version). It returns -1, 0 or +1. Unparsable versions sort first,
// lexically among themselves.
func CompareVersions(a, b string) int {
	if a == b {
		return 0
	}
	va, errA := parseVersion(a)
	vb, errB := parseVersion(b)
	switch {
	case a == "":
		return -1
	case b == "":
		return 1
	case errA != nil && errB != nil:
		return strings.Compare(a, b)
	case errA != nil:
		return -1
	case errB != nil:
		return 1
	}
	for i := range va.nums {
		if va.nums[i] != vb.nums[i] {
			if va.nums[i] < vb.nums[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case va.pre == vb.pre:
		return 0
	case va.pre == "":
		return 1
	case vb.pre == "":
		return -1
	}
	return strings.Compare(va.pre, vb.pre)
}
