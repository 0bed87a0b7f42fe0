package window

// rowBuf holds a window's rows in timestamp order: pushed at the back,
// dropped from the front. A slot, once written, is never written again:
// when the arrays are full, push moves the live rows to new arrays and
// leaves the old ones to whatever emissions still reference them. So an
// emission is a sub-slice of rows, handed out without copying, that the
// window will never overwrite.
//
// Every operation is O(1), amortised over the rows pushed: a move copies the
// n live rows into arrays of capacity 2n, which then take n pushes before
// the next move. The arrays thus hold at most about twice the largest number
// of live rows (dropped rows stay referenced by the current arrays until the
// next move).
type rowBuf struct {
	ts   []int64 // Unix nanoseconds, non-decreasing
	rows []any
	// seq is the sequence number of rows[0]: rows are numbered 0, 1, 2...
	// in the order they are pushed, and drop moves seq past the rows it
	// drops.
	seq uint64
}

func (b *rowBuf) len() int { return len(b.rows) }

// push appends a row whose ts is not before the last one's.
func (b *rowBuf) push(ts int64, row any) {
	if len(b.rows) == cap(b.rows) {
		n := len(b.rows)
		c := max(2*n, 16)
		b.ts = append(make([]int64, 0, c), b.ts...)
		b.rows = append(make([]any, 0, c), b.rows...)
	}
	b.ts = append(b.ts, ts)
	b.rows = append(b.rows, row)
}

// front is the oldest timestamp; the buffer must not be empty.
func (b *rowBuf) front() int64 { return b.ts[0] }

// dropBefore drops the rows older than ts.
func (b *rowBuf) dropBefore(ts int64) {
	i := 0
	for i < len(b.ts) && b.ts[i] < ts {
		i++
	}
	b.drop(i)
}

// drop drops the n oldest rows.
func (b *rowBuf) drop(n int) {
	b.ts = b.ts[n:]
	b.rows = b.rows[n:]
	b.seq += uint64(n)
}

// lastSeq is the sequence number of the first of last(n).
func (b *rowBuf) lastSeq(n int) uint64 { return b.seq + uint64(len(b.rows)-n) }

// last is the newest n rows, capped so that appending to it allocates
// instead of writing into the buffer. nil when n is 0.
func (b *rowBuf) last(n int) []any {
	if n == 0 {
		return nil
	}
	l := len(b.rows)
	return b.rows[l-n : l : l]
}

// all is every row held, as last(len()).
func (b *rowBuf) all() []any { return b.last(len(b.rows)) }

// pending is the min-heap of the rows an event-time window has accepted but
// not released yet (their ts is after the watermark), ordered by ts and then
// by arrival, so that rows with equal timestamps keep their order. Push and
// pop are O(log n).
type pending []pendingRow

type pendingRow struct {
	ts  int64
	seq uint64
	row any
}

func (p pendingRow) before(q pendingRow) bool {
	return p.ts < q.ts || p.ts == q.ts && p.seq < q.seq
}

func (h *pending) push(r pendingRow) {
	*h = append(*h, r)
	s := *h
	for i := len(s) - 1; i > 0; {
		parent := (i - 1) / 2
		if !s[i].before(s[parent]) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

// pop removes and returns the earliest row; the heap must not be empty.
func (h *pending) pop() pendingRow {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = pendingRow{} // let the row be collected
	s = s[:n]
	for i := 0; ; {
		small := i
		if l := 2*i + 1; l < n && s[l].before(s[small]) {
			small = l
		}
		if r := 2*i + 2; r < n && s[r].before(s[small]) {
			small = r
		}
		if small == i {
			break
		}
		s[i], s[small] = s[small], s[i]
		i = small
	}
	*h = s
	return top
}
