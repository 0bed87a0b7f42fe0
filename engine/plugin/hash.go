package plugin

import (
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// pkgHashPrefix names the symbols in which the Go linker records each
// package's fingerprint, in a host that can load plugins and in every
// plugin. plugin.Open compares them and fails with "plugin was built with a
// different version of package X" when one differs; reading them from both
// files gives the same answer without opening the plugin.
const pkgHashPrefix = "go:link.pkghashbytes."

// packageHashes reads the package fingerprints of an ELF Go binary or
// plugin, by import path. A binary without them (one that does not import
// package plugin, or a non-ELF file) gives an empty map.
func packageHashes(file string) (map[string]string, error) {
	f, err := elf.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil || len(syms) == 0 {
		// A stripped binary keeps the dynamic symbols, which include them.
		syms, _ = f.DynamicSymbols()
	}
	out := map[string]string{}
	for _, s := range syms {
		pkg, ok := strings.CutPrefix(s.Name, pkgHashPrefix)
		if !ok || s.Size == 0 || s.Size > 64 || int(s.Section) >= len(f.Sections) {
			continue
		}
		sec := f.Sections[s.Section]
		if sec.Type == elf.SHT_NOBITS {
			continue
		}
		b := make([]byte, s.Size)
		if _, err := sec.ReadAt(b, int64(s.Value-sec.Addr)); err != nil {
			return nil, fmt.Errorf("read package hash of %s: %w", pkg, err)
		}
		out[pkg] = hex.EncodeToString(b)
	}
	return out, nil
}

// ComparePackages compares the package fingerprints of a plugin file with
// those of a host binary, as plugin.Open will: one Diff per package both
// link that was compiled differently. This catches what Compare cannot,
// such as a module both build from a source folder with different files.
// A host without fingerprints (one that does not import package plugin)
// gives no Diffs.
func ComparePackages(hostFile, pluginFile string) ([]Diff, error) {
	host, err := packageHashes(hostFile)
	if err != nil {
		return nil, fmt.Errorf("read the engine's package hashes: %w", err)
	}
	hashes, err := packageHashes(pluginFile)
	if err != nil {
		return nil, fmt.Errorf("read package hashes: %w", err)
	}
	bi, err := buildinfo.ReadFile(pluginFile)
	if err != nil {
		return nil, fmt.Errorf("read build info: %w", err)
	}
	var diffs []Diff
	for _, pkg := range slices.Sorted(maps.Keys(hashes)) {
		if h, ok := host[pkg]; ok && h != hashes[pkg] {
			diffs = append(diffs, Diff{What: "package " + pkg, Host: h, Plugin: hashes[pkg],
				Fix: "module " + moduleOf(pkg, bi) + " was compiled from different sources than the engine's"})
		}
	}
	return diffs, nil
}
