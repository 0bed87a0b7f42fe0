package portable

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Describe starts the executable exe of a plugin the way the engine
// does (go-plugin's handshake, the protocol handshake, Describe within
// timeout), stops it, and returns the names of the functions it serves,
// sorted. man, when not nil, is the manifest to check against: a function
// it lists that the executable does not serve is an error. kgen build
// -portable uses it to write or check a plugin's manifest.
func Describe(exe string, man *Manifest, timeout time.Duration) ([]string, error) {
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
	defer proc.client.Kill()
	var names []string
	for n := range proc.funcs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}
