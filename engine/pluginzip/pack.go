package pluginzip

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/kgen-dev/kgen/sdk"
)

// PackSpec says what goes into a plugin zip.
type PackSpec struct {
	Kind sdk.Kind
	Name string
	// SO is the path of the plugin file; its base name must be one Install
	// accepts for Name.
	SO string
	// Dir is the plugin's package folder: <name>.json (optional),
	// <name>.yaml (required for sources), etc/ and install.sh (optional)
	// are taken from it.
	Dir string
	// JSON, when set, is the metadata file to pack as <name>.json instead
	// of Dir's (kgen build writes a merged one beside a plugin with several
	// functions).
	JSON string
}

// modTime is the modification time of every packed entry, so the same
// files always make the same zip.
var modTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Pack writes a plugin zip for spec to w: its entries sorted by name, with
// fixed modification times, so packing the same files twice gives the same
// bytes. It returns the entry names. It refuses what Install would refuse.
func Pack(w io.Writer, spec PackSpec) ([]string, error) {
	files, err := packFiles(spec)
	if err != nil {
		return nil, fmt.Errorf("pack %s plugin %q: %w", spec.Kind.Dir(), spec.Name, err)
	}
	names := slices.Sorted(maps.Keys(files))
	zw := zip.NewWriter(w)
	for _, n := range names {
		if err := addFile(zw, n, files[n]); err != nil {
			return nil, fmt.Errorf("pack %s plugin %q: %w", spec.Kind.Dir(), spec.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("pack %s plugin %q: %w", spec.Kind.Dir(), spec.Name, err)
	}
	return names, nil
}

// packFiles maps entry names to the files they come from.
func packFiles(spec PackSpec) (map[string]string, error) {
	if err := sdk.ValidateName(spec.Name); err != nil {
		return nil, err
	}
	base := filepath.Base(spec.SO)
	if n, _, err := sdk.ParsePluginFileName(base); err != nil || n != spec.Name {
		return nil, fmt.Errorf("plugin file %s: want %s", spec.SO, soNames(spec.Name))
	}
	files := map[string]string{base: spec.SO}
	optional := map[string]bool{spec.Name + ".json": true, "install.sh": true}
	if spec.Kind == sdk.KindSource {
		optional[spec.Name+".yaml"] = false
	}
	for n, opt := range optional {
		p := filepath.Join(spec.Dir, n)
		if _, err := os.Stat(p); err != nil {
			if opt && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s does not exist: a source plugin needs its configuration (run kgen gen)", p)
			}
			return nil, err
		}
		files[n] = p
	}
	if spec.JSON != "" {
		if _, err := os.Stat(spec.JSON); err != nil {
			return nil, err
		}
		files[spec.Name+".json"] = spec.JSON
	}
	etc := filepath.Join(spec.Dir, "etc")
	if _, err := os.Stat(etc); err == nil {
		err := filepath.WalkDir(etc, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch {
			case d.IsDir():
				return nil
			case !d.Type().IsRegular():
				return fmt.Errorf("%s: only files and folders can be packed, not %s", p, d.Type())
			}
			rel, err := filepath.Rel(spec.Dir, p)
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
	if err := CheckPackFiles(files); err != nil {
		return nil, err
	}
	return files, nil
}

// CheckPackFiles checks the files a zip is to be packed from (zip name →
// path) against DefaultLimits, so that what is packed installs: regular
// files, not too many, none and all together not too large.
func CheckPackFiles(files map[string]string) error {
	lim := DefaultLimits
	if n := len(files); n > lim.MaxEntries {
		return fmt.Errorf("%d files, more than the limit of %d", n, lim.MaxEntries)
	}
	var total int64
	for _, p := range slices.Sorted(maps.Values(files)) {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", p)
		}
		if st.Size() > lim.MaxFileSize {
			return fmt.Errorf("%s is larger than the limit of %d bytes", p, lim.MaxFileSize)
		}
		if total += st.Size(); total > lim.MaxTotalSize {
			return fmt.Errorf("files are larger than the limit of %d bytes in total", lim.MaxTotalSize)
		}
	}
	return nil
}

func addFile(zw *zip.Writer, name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := newEntry(zw, name)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}

// newEntry starts a compressed entry with the fixed time and mode of every
// zip kgen writes.
func newEntry(zw *zip.Writer, name string) (io.Writer, error) {
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modTime}
	h.SetMode(0o644)
	return zw.CreateHeader(h)
}

// Zip returns a zip of entries (name → content) written as Pack writes
// them: in name order, with fixed times and modes, so the same entries
// always give the same bytes. kgen's service zips are made with it.
func Zip(entries map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range slices.Sorted(maps.Keys(entries)) {
		w, err := newEntry(zw, n)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(entries[n]); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
