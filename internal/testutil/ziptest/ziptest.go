// Package ziptest writes zips as an attacker would, with names, modes and
// declared sizes taken as they are, and snapshots folders, so that a test
// can check that refusing such a zip left everything as it was.
package ziptest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Entry is one zip entry.
type Entry struct {
	Name string
	Body string
	Mode fs.FileMode // 0: a regular file
	// Declared, when not 0, is the size the entry's header claims, whatever
	// Body's length (a lying header).
	Declared uint64
}

// Zip writes entries into a zip as they are: names, modes and declared
// sizes are not checked or cleaned.
func Zip(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		if e.Declared != 0 {
			var comp bytes.Buffer
			fw, _ := flate.NewWriter(&comp, flate.BestSpeed)
			fw.Write([]byte(e.Body))
			fw.Close()
			h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE([]byte(e.Body)),
				CompressedSize64: uint64(comp.Len()), UncompressedSize64: e.Declared}
			w, err := zw.CreateRaw(h)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(comp.Bytes())
			continue
		}
		h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate}
		if e.Mode != 0 {
			h.SetMode(e.Mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e.Body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Snapshot lists every path under dir (dir itself as ".") with its mode
// and its content (a link's target), for before/after comparisons. A
// missing dir has no paths.
func Snapshot(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		line := fmt.Sprintf("%s %v", filepath.ToSlash(rel), st.Mode())
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		case st.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += " = " + string(data)
		}
		out = append(out, line)
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}
