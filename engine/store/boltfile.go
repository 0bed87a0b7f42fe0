package store

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// What checkFile reads of bbolt's file format (version 2): the file is a
// sequence of pages, each starting with a 16-byte header; pages 0 and 1
// hold a meta each, and bbolt uses the one with the higher transaction id
// of those whose checksum matches. The meta records the page size and the
// high-water page: every page in use lies below it.
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	pageHeaderSize = 16
	metaSize       = 64 // magic … checksum
	metaSumOffset  = 56 // the checksum covers the bytes before it
	noFreelist     = 1<<64 - 1
)

type boltMeta struct {
	pageSize             uint32
	root, freelist, pgid uint64
	txid                 uint64
}

// checkFile checks, with plain reads before bbolt maps the file, that the
// file is as long as its current meta page says. bbolt trusts the meta:
// it maps the file and follows page numbers below the high-water page, so
// a file cut short faults (SIGBUS) at the first page past its end, often
// while opening it, instead of failing. A missing or empty file is fine,
// as bbolt initialises it; an unreadable one is left for bbolt to report.
//
// It only reads the meta pages, which bbolt writes whole and checksums, so
// it is safe while another process holds the file and writes to it.
func checkFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return nil
	}
	size := st.Size()

	var pageSize uint32
	m0, ok0 := readMeta(f, 0)
	if ok0 {
		pageSize = m0.pageSize
	} else {
		// As bbolt does, look for the second meta at each page size it
		// allows, from 1KiB to 16MiB.
		for pos := int64(1024); pos <= 1024<<14 && pos < size-1024; pos <<= 1 {
			if m, ok := readMeta(f, pos); ok {
				pageSize = m.pageSize
				break
			}
		}
	}
	if pageSize == 0 {
		return fmt.Errorf("%w: no valid meta page (not a bbolt file, or both meta pages overwritten)", ErrCorrupt)
	}
	m, ok := m0, ok0
	if m1, ok1 := readMeta(f, int64(pageSize)); ok1 && (!ok0 || m1.txid > m0.txid) {
		m, ok = m1, true
	}
	if !ok {
		return fmt.Errorf("%w: no valid meta page (both meta pages overwritten)", ErrCorrupt)
	}
	ps := uint64(m.pageSize)
	switch {
	case m.pgid > uint64(size)/ps:
		return fmt.Errorf("%w: truncated to %d bytes, its meta page counts %d pages of %d bytes",
			ErrCorrupt, size, m.pgid, ps)
	case m.root < 2 || m.root >= m.pgid:
		return fmt.Errorf("%w: root page %d outside pages 2 to %d", ErrCorrupt, m.root, m.pgid-1)
	case m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.pgid):
		return fmt.Errorf("%w: freelist page %d outside pages 2 to %d", ErrCorrupt, m.freelist, m.pgid-1)
	}
	return nil
}

// readMeta reads the meta page at off, and false when it is not one bbolt
// would accept.
func readMeta(r io.ReaderAt, off int64) (boltMeta, bool) {
	var buf [pageHeaderSize + metaSize]byte
	if _, err := r.ReadAt(buf[:], off); err != nil {
		return boltMeta{}, false
	}
	b := buf[pageHeaderSize:]
	le := binary.NativeEndian // bbolt writes its structs in the machine's byte order
	h := fnv.New64a()
	h.Write(b[:metaSumOffset])
	m := boltMeta{
		pageSize: le.Uint32(b[8:]),
		root:     le.Uint64(b[16:]),
		freelist: le.Uint64(b[32:]),
		pgid:     le.Uint64(b[40:]),
		txid:     le.Uint64(b[48:]),
	}
	ok := le.Uint32(b[0:]) == boltMagic && le.Uint32(b[4:]) == boltVersion &&
		le.Uint64(b[metaSumOffset:]) == h.Sum64() &&
		m.pageSize >= 1024 && m.pageSize&(m.pageSize-1) == 0 && m.pgid >= 2
	return m, ok
}
