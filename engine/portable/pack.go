package portable

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/kgen-dev/kgen/engine/pluginzip"
)

// packTime is the modification time of every packed entry, so the same
// files always make the same zip.
var packTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Pack writes the zip of the built portable plugin in dir (its manifest
// <name>.json and the executable it names, as kgen build -portable
// writes them; dir's base name is the plugin's name) to w, in eKuiper's
// portable layout:
//
//	<name>.json                 the manifest
//	<executable>                mode 0755
//	sources/<source>.yaml|json  configuration and metadata, per extension
//	sinks/<sink>.json
//	functions/<function>.json
//	etc/...                     other files the plugin reads
//
// The per-extension files and etc/ are taken from pkgDir (the plugin's
// package folder; "" for none) when present. Entries are sorted and carry
// a fixed time, so the same files always make the same bytes. It returns
// the entry names and refuses what Install would refuse.
func Pack(w io.Writer, dir, pkgDir string) ([]string, error) {
	name := filepath.Base(dir)
	man, err := ReadManifest(dir)
	if err != nil {
		return nil, fmt.Errorf("pack portable plugin %q: %w", name, err)
	}
	files, err := packFiles(man, dir, pkgDir)
	if err != nil {
		return nil, fmt.Errorf("pack portable plugin %q: %w", name, err)
	}
	names := slices.Sorted(maps.Keys(files))
	zw := zip.NewWriter(w)
	for _, n := range names {
		if err := addFile(zw, n, files[n], n == man.Executable); err != nil {
			return nil, fmt.Errorf("pack portable plugin %q: %w", name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("pack portable plugin %q: %w", name, err)
	}
	return names, nil
}

// packFiles maps entry names to the files they come from.
func packFiles(man *Manifest, dir, pkgDir string) (map[string]string, error) {
	files := map[string]string{
		man.Name + ".json": filepath.Join(dir, man.Name+".json"),
		man.Executable:     filepath.Join(dir, man.Executable),
	}
	if pkgDir != "" {
		var optional []string
		for _, s := range man.Sources {
			optional = append(optional, "sources/"+s+".yaml", "sources/"+s+".json")
		}
		for _, s := range man.Sinks {
			optional = append(optional, "sinks/"+s+".json")
		}
		for _, f := range man.Functions {
			optional = append(optional, "functions/"+f+".json")
		}
		for _, n := range optional {
			p := filepath.Join(pkgDir, filepath.FromSlash(n))
			if _, err := os.Stat(p); err == nil {
				files[n] = p
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
		}
		etc := filepath.Join(pkgDir, "etc")
		if _, err := os.Stat(etc); err == nil {
			err := filepath.WalkDir(etc, func(p string, d fs.DirEntry, err error) error {
				switch {
				case err != nil:
					return err
				case d.IsDir():
					return nil
				case !d.Type().IsRegular():
					return fmt.Errorf("%s: only files and folders can be packed, not %s", p, d.Type())
				}
				rel, err := filepath.Rel(pkgDir, p)
				if err != nil {
					return err
				}
				files[filepath.ToSlash(rel)] = p
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	}
	if err := pluginzip.CheckPackFiles(files); err != nil {
		return nil, err
	}
	return files, nil
}

func addFile(zw *zip.Writer, name, path string, exe bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: packTime}
	h.SetMode(0o644)
	if exe {
		h.SetMode(0o755)
	}
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}
