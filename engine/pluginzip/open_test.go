package pluginzip

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A FIFO, a device or a folder given as a zip is refused at once: opening
// a FIFO for reading would wait for a writer forever.
func TestOpenRegularRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "plugin.zip")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, "/dev/zero", dir} {
		f, _, err := OpenRegular(path)
		if want := path + " is not a regular file"; err == nil || err.Error() != want {
			t.Errorf("OpenRegular(%s): err = %v, want %s", path, err, want)
		}
		if f != nil {
			f.Close()
		}
	}
	file := filepath.Join(dir, "ok.zip")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, st, err := OpenRegular(file)
	if err != nil || st.Size() != 1 {
		t.Fatalf("OpenRegular(a file) = %v, %v", st, err)
	}
	f.Close()
	if _, err := InstallFile(t.TempDir(), 0, "x", fifo, Options{}); err == nil {
		t.Error("InstallFile took a FIFO")
	}
}
