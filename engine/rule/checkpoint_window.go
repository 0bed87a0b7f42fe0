package rule

import (
	"encoding/binary"
	"fmt"

	"github.com/kgen-dev/kgen/engine/sql"
	"github.com/kgen-dev/kgen/engine/state"
	"github.com/kgen-dev/kgen/engine/store"
	"github.com/kgen-dev/kgen/engine/window"
)

// A window's rows are kept beside the checkpoint record, in chunks of
// chunkRows rows, each under the record's key, "\x00w" and its number in
// hex: chunk c holds the rows numbered c*chunkRows to c*chunkRows+
// chunkRows-1 (rows are numbered in the order the window takes them in and
// dropped oldest first). A checkpoint writes the chunks of the rows taken in
// since the last one, rewriting the last, partly filled one, and deletes
// the chunks whose rows have all been dropped, so it costs what the window
// took in, not what it holds. The record keeps the rest of the window's
// state, which rows it holds and which chunks are stored; record and
// chunks are written together, in the checkpoint's one store write.

// chunkRows is how many rows a chunk holds.
const chunkRows = 256

// storedRows is what the store holds of the window's rows as of the last
// checkpoint: chunks lo to hi-1, complete up to the row numbered end (in
// the numbering of the window the rule runs now; 0 when there is none).
type storedRows struct{ lo, hi, end uint64 }

// windowCapture is the window's part of a capture: its state with the rows
// from the first chunk the checkpoint writes.
type windowCapture struct {
	st   window.State
	join bool
}

func chunkPrefix(recordKey string) string { return recordKey + "\x00w" }

func chunkKey(recordKey string, c uint64) string {
	return fmt.Sprintf("%s%016x", chunkPrefix(recordKey), c)
}

// captureWindow takes the window's state under procMu, with the rows the
// store does not hold yet. The rows are shared, so this costs what the
// window took in since the last checkpoint.
func (c *checkpointer) captureWindow() *windowCapture {
	w := c.r.grp.w
	// The chunk that holds row end is rewritten whole.
	st := w.Snapshot(c.rows.end / chunkRows * chunkRows)
	if c.rows.end > st.Seq+uint64(st.Held) {
		st = w.Snapshot(0) // not this window's numbering: write it all
	}
	return &windowCapture{st: st, join: c.r.grp.join}
}

// writeWindow puts the captured window into the record and its chunks into
// puts, and deletes (puts nil for) the stored chunks it no longer needs. It
// returns what the store holds once the write commits. wc is nil when the
// rule has no window: then every stored chunk goes.
func (c *checkpointer) writeWindow(wc *windowCapture, rec map[string]any, puts map[string][]byte) (storedRows, error) {
	var next storedRows
	if wc != nil {
		st := wc.st
		end := st.Seq + uint64(st.Held)
		next = storedRows{lo: st.Seq / chunkRows, hi: st.Seq / chunkRows, end: end}
		if st.Held > 0 {
			next.hi = (end-1)/chunkRows + 1
		}
		// st.From is a chunk's first row or the window's first: the
		// chunks before it are stored and complete.
		for n := st.From / chunkRows; n < next.hi; n++ {
			first, last := max(n*chunkRows, st.From), min(n*chunkRows+chunkRows, end)
			b, err := encodeChunk(st.Rows[first-st.From:last-st.From], first, wc.join)
			if err != nil {
				return next, fmt.Errorf("window rows from %d: %w", first, err)
			}
			puts[chunkKey(c.key, n)] = b
		}
		m := encodeWindow(st)
		m["chunks"] = []any{next.lo, next.hi}
		m["pending"] = encodeRows(st.Pending, wc.join)
		rec["window"] = m
	}
	for n := c.rows.lo; n < c.rows.hi; n++ {
		if n < next.lo || n >= next.hi {
			puts[chunkKey(c.key, n)] = nil
		}
	}
	return next, nil
}

// encodeChunk encodes the rows numbered from first: their timestamps as
// 8-byte big-endian integers, and the rows.
func encodeChunk(rows []window.TimedRow, first uint64, join bool) ([]byte, error) {
	ts := make([]byte, 0, 8*len(rows))
	vals := make([]any, len(rows))
	for i, tr := range rows {
		ts = binary.BigEndian.AppendUint64(ts, uint64(tr.TS))
		vals[i] = encodeRow(tr.Row, join)
	}
	return state.Marshal(map[string]any{"first": first, "ts": ts, "rows": vals})
}

// loadRows reads the rows st holds from the stored chunks.
func (c *checkpointer) loadRows(st *window.State) error {
	kv, join := c.r.env.States.Store(), c.r.grp.join
	if st.Held == 0 {
		return nil
	}
	end := st.Seq + uint64(st.Held)
	st.Rows, st.From = make([]window.TimedRow, st.Held), st.Seq
	for n := st.Seq / chunkRows; n <= (end-1)/chunkRows; n++ {
		b, ok, err := kv.Get(CheckpointBucket, chunkKey(c.key, n))
		if err == nil && !ok {
			err = fmt.Errorf("missing")
		}
		if err == nil {
			err = decodeChunk(b, st, join)
		}
		if err != nil {
			return fmt.Errorf("window rows, chunk %d: %w", n, err)
		}
	}
	return nil
}

// decodeChunk puts the rows of a chunk that st holds into st.Rows.
func decodeChunk(b []byte, st *window.State, join bool) error {
	v, err := state.Unmarshal(b)
	if err != nil {
		return err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("want a map, got %T", v)
	}
	f := fields{m: m}
	first, ts, rows := f.uint("first"), field[[]byte](&f, "ts", "bytes"), f.list("rows")
	if f.err != nil {
		return f.err
	}
	if len(ts) != 8*len(rows) {
		return fmt.Errorf("%d timestamp bytes for %d rows", len(ts), len(rows))
	}
	end := st.Seq + uint64(st.Held)
	for i, item := range rows {
		seq := first + uint64(i)
		if seq < st.Seq || seq >= end {
			continue
		}
		row, err := decodeRow(item, join)
		if err != nil {
			return fmt.Errorf("row %d: %w", seq, err)
		}
		st.Rows[seq-st.Seq] = window.TimedRow{TS: int64(binary.BigEndian.Uint64(ts[8*i:])), Row: row}
	}
	return nil
}

// encodeRow turns a window row into a value the state codec keeps.
func encodeRow(row any, join bool) any {
	if join {
		ji := row.(sql.JoinInput)
		return []any{int64(ji.Stream), ji.Row}
	}
	return row
}

func decodeRow(v any, join bool) (any, error) {
	if !join {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("want a row map, got %T", v)
		}
		return m, nil
	}
	pair, ok := v.([]any)
	if !ok || len(pair) != 2 {
		return nil, fmt.Errorf("want [stream, row]")
	}
	stream, ok1 := pair[0].(int64)
	m, ok2 := pair[1].(map[string]any)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("want an int64 stream and a row map")
	}
	return sql.JoinInput{Stream: int(stream), Row: m}, nil
}

// encodeRows encodes rows with their timestamps and numbers (the event-time
// rows not released yet, which the record keeps).
func encodeRows(rs []window.TimedRow, join bool) []any {
	out := make([]any, len(rs))
	for i, tr := range rs {
		out[i] = []any{tr.TS, tr.Seq, encodeRow(tr.Row, join)}
	}
	return out
}

func decodeRows(items []any, join bool) ([]window.TimedRow, error) {
	out := make([]window.TimedRow, len(items))
	for i, item := range items {
		l, ok := item.([]any)
		if !ok || len(l) != 3 {
			return nil, fmt.Errorf("row %d: want [ts, seq, row]", i)
		}
		ts, ok1 := l[0].(int64)
		seq, ok2 := l[1].(uint64)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("row %d: want an int64 timestamp and a uint64 number", i)
		}
		row, err := decodeRow(l[2], join)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i, err)
		}
		out[i] = window.TimedRow{TS: ts, Seq: seq, Row: row}
	}
	return out, nil
}

// encodeWindow turns a window's state, but for its rows, into a value the
// state codec keeps.
func encodeWindow(st window.State) map[string]any {
	return map[string]any{
		"kind": int64(st.Kind), "closed": st.Closed, "late": st.Late, "anchored": st.Anchored, "now": st.Now,
		"seq": st.Seq, "held": int64(st.Held), "arrivals": st.Arrivals,
		"seen": st.Seen, "maxTs": st.MaxTs, "watermark": st.Watermark,
		"origin": st.Origin, "endIdx": st.EndIdx, "end": st.End, "lo": st.Lo,
		"triggers": int64s(st.Triggers), "open": st.Open, "start": st.Start, "last": st.Last, "since": int64(st.Since),
	}
}

func int64s(xs []int64) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// decodeWindow is the inverse of encodeWindow, and reads the pending rows;
// the held rows are in the chunks.
func decodeWindow(m map[string]any, join bool) (window.State, error) {
	f := fields{m: m}
	st := window.State{
		Kind: window.Kind(f.int("kind")), Closed: f.bool("closed"), Late: f.int("late"),
		Anchored: f.bool("anchored"), Now: f.int("now"), Seq: f.uint("seq"), Held: int(f.int("held")),
		Arrivals: f.uint("arrivals"), Seen: f.bool("seen"), MaxTs: f.int("maxTs"), Watermark: f.int("watermark"),
		Origin: f.int("origin"), EndIdx: f.int("endIdx"), End: f.int("end"), Lo: f.int("lo"),
		Open: f.bool("open"), Start: f.int("start"), Last: f.int("last"), Since: int(f.int("since")),
	}
	st.From = st.Seq
	for i, t := range f.list("triggers") {
		n, ok := t.(int64)
		if !ok {
			return st, fmt.Errorf("trigger %d: want int64, got %T", i, t)
		}
		st.Triggers = append(st.Triggers, n)
	}
	var err error
	if st.Pending, err = decodeRows(f.list("pending"), join); err != nil {
		return st, fmt.Errorf("pending rows: %w", err)
	}
	return st, f.err
}

// storedChunks reads which chunks a record's window says the store holds.
func storedChunks(m map[string]any) (lo, hi uint64, err error) {
	f := fields{m: m}
	r := f.list("chunks")
	if f.err != nil {
		return 0, 0, f.err
	}
	if len(r) == 2 {
		lo, ok1 := r[0].(uint64)
		hi, ok2 := r[1].(uint64)
		if ok1 && ok2 && lo <= hi {
			return lo, hi, nil
		}
	}
	return 0, 0, fmt.Errorf("field \"chunks\": want [lo, hi], got %v", r)
}

// DropCheckpoint removes an engine instance's checkpoint of a rule, record
// and window rows, in one write.
func DropCheckpoint(kv store.KV, rule, instance string) error {
	key := CheckpointKey(rule, instance)
	puts := map[string][]byte{key: nil}
	err := kv.Scan(CheckpointBucket, chunkPrefix(key), func(k string, _ []byte) error {
		puts[k] = nil
		return nil
	})
	if err == nil {
		_, err = kv.Commit(store.Write{Puts: map[string]map[string][]byte{CheckpointBucket: puts}})
	}
	if err != nil {
		return fmt.Errorf("drop checkpoint of rule %q: %w", rule, err)
	}
	return nil
}
