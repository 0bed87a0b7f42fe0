package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// The harness runs its own executable again as its children: in a test,
// this test binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "-child" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSmoke runs the harness end to end, small, on each broker: both
// throughput modes and the latency scenario. It checks that the counts add
// up, never how fast anything was.
func TestSmoke(t *testing.T) {
	for _, b := range []string{brokerEmbedded, brokerMosquitto} {
		t.Run(b, func(t *testing.T) {
			if b == brokerMosquitto && lookMosquitto() == "" {
				t.Skip("mosquitto is not installed: the mosquitto broker is not tested")
			}
			// Every temporary file of the harness and its children goes
			// here, and must be gone afterwards.
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)

			rep := runHarness(t, "-brokers", b, "-n", "2000", "-runs", "1", "-modes", "full,paced", "-rates", "20000", "-quiet", "1s")
			checkThroughput(t, rep, 2000)
			rep = runHarness(t, "-brokers", b, "-latency", "-latency-n", "1000", "-runs", "1", "-quiet", "1s")
			checkLatency(t, rep, 1000)

			left, err := os.ReadDir(tmp)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range left {
				t.Errorf("left behind in the temporary folder: %s", e.Name())
			}
		})
	}
}

// runHarness runs the harness with -json and returns its report, checking
// that the tables can be printed from it too.
func runHarness(t *testing.T, args ...string) report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if err := run(ctx, append(args, "-json"), &stdout, &stderr); err != nil {
		t.Fatalf("loadharness %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	t.Logf("loadharness %s:\n%s", strings.Join(args, " "), stderr.String())
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, stdout.String())
	}
	if err := writeReport(io.Discard, rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

func checkThroughput(t *testing.T, rep report, n int64) {
	t.Helper()
	scs := scenarios(rep.Runs)
	if len(scs) != 2 {
		t.Fatalf("%d scenarios, want 2 (full speed and paced)", len(scs))
	}
	for _, sc := range scs {
		kgen, bare := sc.runs[subjectKgen], sc.runs[subjectBare]
		if len(kgen) != 1 || len(bare) != 1 {
			t.Fatalf("%v: %d kgen runs and %d bare runs, want 1 each", sc.mode, len(kgen), len(bare))
		}
		k, b := kgen[0], bare[0]
		for _, r := range []Run{k, b} {
			checkCounts(t, r, n)
			if r.Passed > r.Received {
				t.Errorf("%s %v: %d passed of %d received", r.Subject, sc.mode, r.Passed, r.Received)
			}
		}
		// kgen loses nothing on either broker; the bare consumer may,
		// to the embedded broker's drops, and which messages it missed
		// is unknown: its pass count is compared only when it lost none.
		if k.Loss != 0 {
			t.Errorf("%v: kgen lost %d of %d", sc.mode, k.Loss, n)
		}
		if want := passes(n); k.Passed != want {
			t.Errorf("%v: kgen passed %d, want %d", sc.mode, k.Passed, want)
		}
		if b.Loss != 0 {
			t.Logf("%v: the bare consumer lost %d: its pass count is not compared", sc.mode, b.Loss)
		} else if want := passes(n); b.Passed != want {
			t.Errorf("%v: bare passed %d, want %d", sc.mode, b.Passed, want)
		}
	}
}

func checkLatency(t *testing.T, rep report, n int64) {
	t.Helper()
	if len(rep.Runs) != 3 {
		t.Fatalf("%d latency runs, want 3 (kgen, bare relay and broker-only)", len(rep.Runs))
	}
	want := map[string]int64{subjectKgen: passes(n), subjectRelay: passes(n), subjectBrokerOnly: n}
	for _, r := range rep.Runs {
		checkCounts(t, r, n)
		l := r.Latency
		if l == nil {
			t.Fatalf("%s: no latency figures", r.Subject)
		}
		if l.Expected != want[r.Subject] {
			t.Errorf("%s: expected %d messages, want %d", r.Subject, l.Expected, want[r.Subject])
		}
		if l.Received > l.Expected {
			t.Errorf("%s: received %d of %d expected", r.Subject, l.Received, l.Expected)
		}
		if l.Received < l.Expected {
			t.Logf("%s: received %d of %d expected", r.Subject, l.Received, l.Expected)
		}
		if l.Received > 0 && !(0 < l.P50Us && l.P50Us <= l.P99Us && l.P99Us <= l.MaxUs) {
			t.Errorf("%s: p50 %.0f µs, p99 %.0f µs, max %.0f µs: want 0 < p50 ≤ p99 ≤ max", r.Subject, l.P50Us, l.P99Us, l.MaxUs)
		}
	}
}

// checkCounts checks what every run must satisfy: everything sent, and
// sent = received + loss with nothing received twice.
func checkCounts(t *testing.T, r Run, n int64) {
	t.Helper()
	if r.Sent != n {
		t.Errorf("%s %s: sent %d, want %d", r.Subject, r.Mode, r.Sent, n)
	}
	if r.Received+r.Loss != r.Sent || r.Received > r.Sent || r.Received < 0 {
		t.Errorf("%s %s: sent %d, received %d, loss %d: want sent = received + loss, received ≤ sent", r.Subject, r.Mode, r.Sent, r.Received, r.Loss)
	}
}
