package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// report is everything a harness run measured; -json prints it as is.
type report struct {
	Config config `json:"config"`
	CPUs   int    `json:"cpus"` // runtime.NumCPU of the harness
	Runs   []Run  `json:"runs"`
}

// scenario is the runs of one broker and mode, in the order they ran.
type scenario struct {
	broker string
	mode   mode
	runs   map[string][]Run // by subject
}

func scenarios(runs []Run) []*scenario {
	var out []*scenario
	for _, r := range runs {
		m := mode{Name: r.Mode, Rate: r.Rate}
		i := slices.IndexFunc(out, func(s *scenario) bool { return s.broker == r.Broker && s.mode == m })
		if i < 0 {
			out = append(out, &scenario{broker: r.Broker, mode: m, runs: map[string][]Run{}})
			i = len(out) - 1
		}
		out[i].runs[r.Subject] = append(out[i].runs[r.Subject], r)
	}
	return out
}

// spread is the minimum, median and maximum of some values.
type spread struct{ min, med, max float64 }

func spreadOf[T any](xs []T, f func(T) float64) spread {
	if len(xs) == 0 {
		return spread{}
	}
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	slices.Sort(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return spread{v[0], med, v[len(v)-1]}
}

// cells formats a spread as three tab-separated cells.
func (s spread) cells(format string) string {
	return fmt.Sprintf(format+"\t"+format+"\t"+format+"\t", s.min, s.med, s.max)
}

func (s spread) String() string { return fmt.Sprintf("%.2f / %.2f / %.2f", s.min, s.med, s.max) }

// pair is the i-th run of two subjects in a scenario.
type pair struct{ a, b Run }

func pairs(a, b []Run) []pair {
	out := make([]pair, min(len(a), len(b)))
	for i := range out {
		out[i] = pair{a[i], b[i]}
	}
	return out
}

func writeReport(w io.Writer, rep report) error {
	if rep.Config.Latency {
		return writeLatency(w, rep)
	}
	return writeThroughput(w, rep)
}

func writeThroughput(w io.Writer, rep report) error {
	var b strings.Builder
	b.WriteString(`msg/s: messages the subject took in per second, from the first publish to its last message.
CPU µs/msg: the subject process's user + system CPU over that time, per message it took in
(with the embedded broker, the broker's CPU is in it). loss: sent − taken in.
`)
	for _, sc := range scenarios(rep.Runs) {
		kgen, bare := sc.runs[subjectKgen], sc.runs[subjectBare]
		fmt.Fprintf(&b, "\n== %s broker, %v: %d messages a run, QoS %d, kgen and bare taking turns, %s each\n",
			sc.broker, sc.mode, rep.Config.N, rep.Config.QoS, runsText(max(len(kgen), len(bare))))
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "subject\tmsg/s min\tmedian\tmax\tCPU µs/msg min\tmedian\tmax\tloss min\tmedian\tmax\tpublisher msg/s\t")
		for _, subj := range []string{subjectKgen, subjectBare} {
			runs := sc.runs[subj]
			if len(runs) == 0 {
				continue
			}
			fmt.Fprintf(tw, "%s\t%s%s%s%.0f\t\n", subj,
				spreadOf(runs, func(r Run) float64 { return r.MsgPerSec }).cells("%.0f"),
				spreadOf(runs, func(r Run) float64 { return r.CPUUsPerMsg }).cells("%.2f"),
				spreadOf(runs, func(r Run) float64 { return float64(r.Loss) }).cells("%.0f"),
				spreadOf(runs, func(r Run) float64 { return r.PubMsgPerSec }).med)
		}
		tw.Flush()
		ps := pairs(kgen, bare)
		if len(ps) > 0 {
			ratio := spreadOf(ps, func(p pair) float64 { return p.a.CPUUsPerMsg / p.b.CPUUsPerMsg })
			fmt.Fprintf(&b, "kgen/bare CPU µs/msg over %d paired runs (min / median / max): %v\n", len(ps), ratio)
		}
		switch sc.broker {
		case brokerMosquitto:
			fmt.Fprintf(&b, "mosquitto CPU µs per message sent (min / median / max): with kgen %v, with bare %v\n",
				spreadOf(kgen, brokerCPU), spreadOf(bare, brokerCPU))
		case brokerEmbedded:
			drops := func(r Run) float64 { return float64(r.BrokerDropped) }
			fmt.Fprintf(&b, "messages the embedded broker dropped (min / median / max): kgen %.0f / %.0f / %.0f, bare %.0f / %.0f / %.0f\n",
				spreadOf(kgen, drops).min, spreadOf(kgen, drops).med, spreadOf(kgen, drops).max,
				spreadOf(bare, drops).min, spreadOf(bare, drops).med, spreadOf(bare, drops).max)
		}
		b.WriteString(filterCheck(ps))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func runsText(n int) string {
	if n == 1 {
		return "1 run"
	}
	return fmt.Sprintf("%d runs", n)
}

func brokerCPU(r Run) float64 {
	if r.Sent == 0 {
		return 0
	}
	return float64(r.BrokerCPUNs) / 1e3 / float64(r.Sent)
}

// filterCheck compares the rule's RecordsOut with the bare consumer's pass
// count, and both with what the publisher's messages make pass. With loss
// the counts cannot be compared: which messages were lost is unknown.
func filterCheck(ps []pair) string {
	var agree int
	var notes []string
	for i, p := range ps {
		k, b := p.a, p.b
		want := passes(k.Sent)
		switch {
		case k.Loss != 0 || b.Loss != 0:
			notes = append(notes, fmt.Sprintf("run %d not compared (loss): kgen passed %d of %d in, bare %d of %d", i+1, k.Passed, k.Received, b.Passed, b.Received))
		case k.Passed == want && b.Passed == want && passes(b.Sent) == want:
			agree++
		default:
			notes = append(notes, fmt.Sprintf("run %d MISMATCH: kgen passed %d, bare %d, want %d", i+1, k.Passed, b.Passed, want))
		}
	}
	s := fmt.Sprintf("filter: kgen RecordsOut = bare pass count = half of sent in %d of %d paired runs\n", agree, len(ps))
	for _, n := range notes {
		s += "  " + n + "\n"
	}
	return s
}

// latencySlackUs is how much kgen may add to the broker's p99 latency.
const latencySlackUs = 1000

func writeLatency(w io.Writer, rep report) error {
	var b strings.Builder
	for _, sc := range scenarios(rep.Runs) {
		kgen, relay, only := sc.runs[subjectKgen], sc.runs[subjectRelay], sc.runs[subjectBrokerOnly]
		n := min(len(kgen), len(only))
		fmt.Fprintf(&b, "\n== latency, %s broker: %d messages a run at %v, QoS %d, kgen, bare relay and broker-only taking turns, %s each\n",
			sc.broker, rep.Config.LatencyN, sc.mode, rep.Config.QoS, runsText(n))
		b.WriteString("kgen: publisher → broker → rule → mqtt sink → broker → harness; bare relay: the same with paho + encoding/json\n" +
			"in place of kgen; broker-only: publisher → broker → harness. Cells: p50 / p99 / max ms, received/expected.\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "run\tkgen\t\tbare relay\t\tbroker-only\t\tkgen p99 ≤ broker-only p99 + 1 ms\tkgen p99 − relay p99 ms\t")
		cell := func(r Run) (string, string) {
			l := r.Latency
			return fmt.Sprintf("%.3f / %.3f / %.3f", l.P50Us/1e3, l.P99Us/1e3, l.MaxUs/1e3), fmt.Sprintf("%d/%d", l.Received, l.Expected)
		}
		var ok int
		for i := range n {
			k, o := kgen[i], only[i]
			pass := k.Latency.P99Us <= o.Latency.P99Us+latencySlackUs && k.Latency.Received > 0 && o.Latency.Received > 0
			verdict := "FAIL"
			if pass {
				verdict, ok = "ok", ok+1
			}
			kc, kn := cell(k)
			oc, on := cell(o)
			rc, rn, diff := "-", "", "-"
			if i < len(relay) {
				rc, rn = cell(relay[i])
				diff = fmt.Sprintf("%+.3f", (k.Latency.P99Us-relay[i].Latency.P99Us)/1e3)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", i+1, kc, kn, rc, rn, oc, on, verdict, diff)
		}
		tw.Flush()
		fmt.Fprintf(&b, "check p99(kgen) ≤ p99(broker-only) + 1 ms: %d of %d runs ok\n", ok, n)
		if len(relay) > 0 {
			p99 := func(r Run) float64 { return r.Latency.P99Us / 1e3 }
			fmt.Fprintf(&b, "p99 ms (min / median / max): kgen %v, bare relay %v, broker-only %v\n",
				spreadOf(kgen, p99), spreadOf(relay, p99), spreadOf(only, p99))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
