package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "-child" {
		// A child is in a process group of its own: Ctrl-C reaches the
		// harness, which stops it.
		err = runChild(os.Args[2:], os.Stdin, os.Stdout)
	} else {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err = run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
	}
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadharness:", err)
		os.Exit(1)
	}
}

const usage = `usage: loadharness [flags]

Compares kgen's MQTT ingest with a bare paho + encoding/json consumer: each
runs in a child process of its own, the two take turns, and the report gives
msg/s, CPU µs per message and loss, or with -latency the p50/p99/max latency
of kgen against a bare relay and the broker alone.

Example:

	go run ./bench/loadharness -n 500000 -runs 5
	go run ./bench/loadharness -latency -runs 5

Flags:
`

// run parses the flags, runs the scenarios and prints the report on stdout;
// progress goes to stderr. What completed is printed even when a run fails
// or ctx is cancelled.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "loadharness-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	h := &harness{cfg: cfg, exe: exe, tmp: tmp, log: stderr}
	rep := report{Config: cfg, CPUs: runtime.NumCPU()}
	add := func(r Run) { rep.Runs = append(rep.Runs, r) }
	if cfg.Latency {
		err = h.latency(ctx, add)
	} else {
		err = h.throughput(ctx, add)
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("interrupted: %w", ctx.Err())
	}
	if len(rep.Runs) == 0 {
		return err
	}
	var werr error
	if cfg.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		werr = enc.Encode(rep)
	} else {
		werr = writeReport(stdout, rep)
	}
	return errors.Join(err, werr)
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("loadharness", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	cfg := config{}
	brokers := fs.String("brokers", "embedded,mosquitto", "the brokers to run on: embedded (kgen's, in the subject's process) and mosquitto")
	modes := fs.String("modes", "full,paced", "how the publisher sends: full (as fast as it can) and paced (at each of -rates)")
	rates := fs.String("rates", "10000,30000", "the paced `rates`, in msg/s")
	fs.Int64Var(&cfg.N, "n", 500000, "messages per run")
	fs.IntVar(&cfg.Runs, "runs", 5, "runs of each subject per scenario")
	fs.IntVar(&cfg.QoS, "qos", 0, "MQTT QoS of the publisher and the subscriptions")
	fs.DurationVar(&cfg.Quiet, "quiet", 3*time.Second, "after the publisher is done, a subject that has made no progress for this long has lost the rest")
	fs.BoolVar(&cfg.Latency, "latency", false, "run the latency scenario (kgen against a bare relay and the broker alone) instead of the throughput ones")
	fs.IntVar(&cfg.LatencyRate, "latency-rate", 10000, "the latency scenario's rate, in msg/s")
	fs.Int64Var(&cfg.LatencyN, "latency-n", 50000, "messages per latency run")
	fs.StringVar(&cfg.Mosquitto, "mosquitto", "", "the mosquitto `binary` (default: on PATH, or /usr/sbin/mosquitto)")
	fs.BoolVar(&cfg.JSON, "json", false, "print every run's figures as JSON instead of the tables")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if cfg.Brokers, err = oneOf("-brokers", *brokers, brokerEmbedded, brokerMosquitto); err != nil {
		return cfg, err
	}
	modeNames, err := oneOf("-modes", *modes, modeFull, modePaced)
	if err != nil {
		return cfg, err
	}
	for _, m := range modeNames {
		if m == modeFull {
			cfg.Modes = append(cfg.Modes, mode{Name: modeFull})
			continue
		}
		for r := range strings.SplitSeq(*rates, ",") {
			rate, err := strconv.Atoi(strings.TrimSpace(r))
			if err != nil || rate <= 0 {
				return cfg, fmt.Errorf("-rates: %q: want a positive number of msg/s", r)
			}
			cfg.Modes = append(cfg.Modes, mode{Name: modePaced, Rate: rate})
		}
	}
	switch {
	case cfg.N < 1:
		return cfg, fmt.Errorf("-n %d: want at least 1", cfg.N)
	case cfg.Runs < 1:
		return cfg, fmt.Errorf("-runs %d: want at least 1", cfg.Runs)
	case cfg.QoS < 0 || cfg.QoS > 2:
		return cfg, fmt.Errorf("-qos %d: want 0, 1 or 2", cfg.QoS)
	case cfg.LatencyRate < 1:
		return cfg, fmt.Errorf("-latency-rate %d: want at least 1", cfg.LatencyRate)
	case cfg.LatencyN < 1:
		return cfg, fmt.Errorf("-latency-n %d: want at least 1", cfg.LatencyN)
	}
	// Only what the chosen scenario uses goes into the report.
	if cfg.Latency {
		cfg.Modes = nil
	} else {
		cfg.LatencyRate, cfg.LatencyN = 0, 0
	}
	if cfg.Mosquitto == "" && slices.Contains(cfg.Brokers, brokerMosquitto) {
		if cfg.Mosquitto = lookMosquitto(); cfg.Mosquitto == "" {
			return cfg, errNoMosquitto
		}
	}
	return cfg, nil
}

// oneOf splits a comma-separated flag value and checks each item.
func oneOf(flagName, value string, allowed ...string) ([]string, error) {
	var out []string
	for v := range strings.SplitSeq(value, ",") {
		v = strings.TrimSpace(v)
		if !slices.Contains(allowed, v) {
			return nil, fmt.Errorf("%s: %q: want %s", flagName, v, strings.Join(allowed, " or "))
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}
