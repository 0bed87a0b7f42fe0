package sql

import (
	"math"
	"math/big"
)

// fsum is an exact sum of float64 values that supports removal: its value
// is the exact sum of the values added less those subtracted, correctly
// rounded to float64 (to nearest, ties to even), whatever the order of
// the operations. It is the algorithm of Python's math.fsum: the exact sum
// is kept as Shewchuk's non-overlapping partials, increasing in
// magnitude, each addition an exact two-sum, and value rounds them with a
// half-even correction across partials.
//
// Partials stay below 2^1023 in magnitude: a two-sum that would overflow,
// and a largest partial at or above 2^1023, give up a multiple of
// 2^1023 to over (exactly: such a partial is in [2^1023, 2^1024), and
// subtracting 2^1023 clears its top bit), so that additions never overflow
// and removing a huge value restores a finite sum. Non-finite values do
// not enter the partials; they are counted, and value is NaN, +Inf or
// -Inf as IEEE addition of all the values would give.
type fsum struct {
	p               []float64
	over            int64 // multiples of 2^1023 outside p
	nan, pinf, ninf int
}

const fsumUnit = 0x1p1023

// addInt adds an int64 exactly, as two exactly representable parts: the
// value with its low 32 bits cleared, and those bits.
func (s *fsum) addInt(i int64) {
	lo := i & 0xFFFFFFFF
	s.add(float64(i - lo))
	s.add(float64(lo))
}

// subInt undoes addInt(i).
func (s *fsum) subInt(i int64) {
	lo := i & 0xFFFFFFFF
	s.add(-float64(i - lo))
	s.add(-float64(lo))
}

func (s *fsum) add(x float64) {
	switch {
	case math.IsNaN(x):
		s.nan++
		return
	case math.IsInf(x, 1):
		s.pinf++
		return
	case math.IsInf(x, -1):
		s.ninf++
		return
	case x == 0:
		return
	}
	i := 0
	for _, y := range s.p {
		if math.Abs(x) < math.Abs(y) {
			x, y = y, x
		}
		hi := x + y
		if math.IsInf(hi, 0) {
			// x and y have x's sign, |x| >= 2^1023 and |y| < 2^1023.
			if x > 0 {
				x -= fsumUnit
				s.over++
			} else {
				x += fsumUnit
				s.over--
			}
			if math.Abs(x) < math.Abs(y) {
				x, y = y, x
			}
			hi = x + y
		}
		lo := y - (hi - x)
		if lo != 0 {
			s.p[i] = lo
			i++
		}
		x = hi
	}
	s.p = s.p[:i]
	switch {
	case x >= fsumUnit:
		x -= fsumUnit
		s.over++
	case x <= -fsumUnit:
		x += fsumUnit
		s.over--
	}
	if x != 0 {
		s.p = append(s.p, x)
	}
}

// sub removes x, added before: add(-x) for a finite x, which is exact,
// and one fewer NaN or infinity of that sign otherwise.
func (s *fsum) sub(x float64) {
	switch {
	case math.IsNaN(x):
		s.nan--
	case math.IsInf(x, 1):
		s.pinf--
	case math.IsInf(x, -1):
		s.ninf--
	default:
		s.add(-x)
	}
}

// value is the exact sum correctly rounded, ±Inf when it rounds past
// MaxFloat64; NaN, +Inf or -Inf when non-finite values are among those
// added, as IEEE addition would give.
func (s *fsum) value() float64 {
	switch {
	case s.nan > 0 || s.pinf > 0 && s.ninf > 0:
		return math.NaN()
	case s.pinf > 0:
		return math.Inf(1)
	case s.ninf > 0:
		return math.Inf(-1)
	case s.over != 0:
		return s.bigValue()
	}
	p := s.p
	n := len(p)
	if n == 0 {
		return 0
	}
	n--
	hi, lo := p[n], 0.0
	for n > 0 {
		x := hi
		n--
		y := p[n]
		hi = x + y
		lo = y - (hi - x)
		if lo != 0 {
			break
		}
	}
	// Half-even rounding across partials: when the rest below lo has
	// lo's sign, a tie in hi + lo is not one.
	if n > 0 && (lo < 0 && p[n-1] < 0 || lo > 0 && p[n-1] > 0) {
		y := lo * 2
		x := hi + y
		if x-hi == y {
			hi = x
		}
	}
	return hi
}

// bigValue rounds the partials plus over·2^1023 in big.Float arithmetic,
// exactly (the precision spans every bit the sum can have); only sums
// whose partials once reached 2^1023 take it.
func (s *fsum) bigValue() float64 {
	const prec = 1024 + 1074 + 128
	t := new(big.Float).SetPrec(prec).SetInt64(s.over)
	t.SetMantExp(t, 1023)
	var x big.Float
	for _, v := range s.p {
		t.Add(t, x.SetPrec(prec).SetFloat64(v))
	}
	f, _ := t.Float64()
	return f
}
