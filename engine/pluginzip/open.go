package pluginzip

import (
	"fmt"
	"os"
	"syscall"
)

// OpenRegular opens the file at path for reading when it is a regular
// file. It opens without blocking, so a FIFO (which would wait for a
// writer) or a device is refused at once rather than hanging an install.
func OpenRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is not a regular file", path)
	}
	return f, st, nil
}
