package sql

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// exactSum is the sum of xs in big.Float arithmetic, exact, rounded to
// float64 to nearest even.
func exactSum(xs []float64) float64 {
	const prec = 4096
	t := new(big.Float).SetPrec(prec)
	var x big.Float
	for _, v := range xs {
		t.Add(t, x.SetPrec(prec).SetFloat64(v))
	}
	f, _ := t.Float64()
	return f
}

func fsumOf(xs []float64) float64 {
	var s fsum
	for _, x := range xs {
		s.add(x)
	}
	return s.value()
}

func TestFsumHardCases(t *testing.T) {
	tenth := make([]float64, 10)
	for i := range tenth {
		tenth[i] = 0.1
	}
	many := make([]float64, 1000)
	for i := range many {
		many[i] = 0.1
	}
	cases := []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50}, 1e-100},
		{tenth, 1.0},
		{many, 100.0},
		{[]float64{1e308, 1e308, -1e308}, 1e308}, // intermediate overflow
		{[]float64{math.MaxFloat64, math.MaxFloat64, -math.MaxFloat64}, math.MaxFloat64},
		{[]float64{1e16, 1.0, 1e-16}, 10000000000000002.0},             // half-even across partials
		{[]float64{1 << 53, 1, -1 << 53}, 1},                           // cancellation
		{[]float64{2.0 * (1 << 52), 1.0, 0x1p-60}, 9007199254740994.0}, // a tie broken by a smaller partial
		{[]float64{2.0 * (1 << 52), 1.0}, 9007199254740992.0},          // a tie, to even
		{[]float64{-0.0, -0.0}, 0},
		{[]float64{5e-324, 5e-324, -5e-324}, 5e-324},
		{[]float64{math.MaxFloat64, math.MaxFloat64}, math.Inf(1)},
		{[]float64{-math.MaxFloat64, -math.MaxFloat64}, math.Inf(-1)},
		{[]float64{math.MaxFloat64, 0x1p970}, math.Inf(1)},     // rounds up past MaxFloat64
		{[]float64{math.MaxFloat64, 0x1p969}, math.MaxFloat64}, // a tie, to even: MaxFloat64's last bit is 1
		{[]float64{math.Inf(1), 1}, math.Inf(1)},
		{[]float64{math.Inf(-1), 1e308, 1e308}, math.Inf(-1)},
		{[]float64{math.Inf(1), math.Inf(-1)}, math.NaN()},
		{[]float64{math.NaN(), 1}, math.NaN()},
	}
	for _, c := range cases {
		got := fsumOf(c.xs)
		if got != c.want && !(math.IsNaN(got) && math.IsNaN(c.want)) {
			t.Errorf("fsum(%v) = %v, want %v", c.xs, got, c.want)
		}
	}
}

func TestFsumInt(t *testing.T) {
	for _, is := range [][]int64{
		{math.MaxInt64, math.MaxInt64, math.MinInt64},
		{math.MinInt64, -1, 3},
		{1<<53 + 1, 1<<53 + 1},
		{-(1<<62 + 12345), 7},
	} {
		var s fsum
		b := new(big.Int)
		for _, i := range is {
			s.addInt(i)
			b.Add(b, big.NewInt(i))
		}
		want, _ := new(big.Float).SetInt(b).Float64()
		if got := s.value(); got != want {
			t.Errorf("fsum of ints %v = %v, want %v", is, got, want)
		}
		for _, i := range is {
			s.subInt(i)
		}
		if got := s.value(); got != 0 || len(s.p) != 0 || s.over != 0 {
			t.Errorf("fsum of ints %v less them = %v, %v", is, got, s)
		}
	}
}

// TestFsumProperty compares fsum with exact summation over random values
// of widely spread magnitudes, including huge and subnormal ones, and
// with values removed again from the front, as a sliding window does.
func TestFsumProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	draw := func() float64 {
		switch r.IntN(10) {
		case 0:
			return (r.Float64() - 0.5) * math.MaxFloat64 * 2
		case 1:
			return math.Float64frombits(r.Uint64() &^ (1 << 63) >> 12) // subnormal
		case 2:
			return float64(r.IntN(21) - 10)
		case 3:
			return math.Float64frombits(r.Uint64()) // any, non-finite included
		default:
			return math.Ldexp(r.NormFloat64(), r.IntN(200)-100)
		}
	}
	for round := range 3000 {
		var s fsum
		var xs []float64
		n := r.IntN(40)
		for range n {
			x := draw()
			xs = append(xs, x)
			s.add(x)
			if r.IntN(3) == 0 && len(xs) > 0 {
				s.sub(xs[0])
				xs = xs[1:]
			}
			var finite []float64
			var nan, pinf, ninf bool
			for _, v := range xs {
				switch {
				case math.IsNaN(v):
					nan = true
				case math.IsInf(v, 1):
					pinf = true
				case math.IsInf(v, -1):
					ninf = true
				default:
					finite = append(finite, v)
				}
			}
			want := exactSum(finite)
			switch {
			case nan || pinf && ninf:
				want = math.NaN()
			case pinf:
				want = math.Inf(1)
			case ninf:
				want = math.Inf(-1)
			}
			got := s.value()
			if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Fatalf("round %d: fsum(%v) = %v, want %v", round, xs, got, want)
			}
			for i := 1; i < len(s.p); i++ {
				if math.Abs(s.p[i-1]) >= math.Abs(s.p[i]) {
					t.Fatalf("round %d: partials not increasing: %v", round, s.p)
				}
			}
		}
	}
}
