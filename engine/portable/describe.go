package portable

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Describe starts the executable exe of a plugin the way the engine
// does (go-plugin's handshake, the protocol handshake, Describe within
// timeout), stops it, and returns the names of the sources, sinks and
// functions it serves, sorted. man, when not nil, is the manifest to check
// against: an extension it lists that the executable does not serve is an
// error. kgen build -portable uses it to write or check a plugin's
// manifest.
func Describe(exe string, man *Manifest, timeout time.Duration) (*Served, error) {
	abs, err := filepath.Abs(exe)
	if err != nil {
		return nil, err
	}
	// The sockets go to a scratch root of their own.
	root, err := os.MkdirTemp("", "kgen-describe")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(root)
	m := NewManager(Options{Root: root, InitTimeout: timeout})
	if man == nil {
		man = &Manifest{}
	}
	check := *man
	check.Name = filepath.Base(abs)
	if man.Name != "" {
		check.Name = man.Name
	}
	check.Executable = filepath.Base(abs)
	p := &Plugin{m: m, dir: filepath.Dir(abs), man: &check}
	proc, err := p.start()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", exe, err)
	}
	defer proc.kill(true)
	return &Served{Sources: keys(proc.sources), Sinks: keys(proc.sinks), Functions: keys(proc.funcs)}, nil
}

// Served are the extensions an executable serves, by kind.
type Served struct {
	Sources, Sinks, Functions []string
}

// String lists them, as "sources a, b; functions c".
func (s *Served) String() string {
	var parts []string
	for _, k := range []struct {
		kind  string
		names []string
	}{{"sources", s.Sources}, {"sinks", s.Sinks}, {"functions", s.Functions}} {
		if len(k.names) > 0 {
			parts = append(parts, k.kind+" "+strings.Join(k.names, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

func keys[V any](m map[string]V) []string {
	names := slices.Collect(maps.Keys(m))
	slices.Sort(names)
	return names
}
