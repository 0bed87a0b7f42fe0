package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Brokers, modes and subjects, as flags and reports name them.
const (
	brokerEmbedded  = "embedded"
	brokerMosquitto = "mosquitto"

	modeFull  = "full"
	modePaced = "paced"

	subjectBrokerOnly = "broker-only" // the latency baseline
	subjectRelay      = "bare-relay"  // the bare consumer relaying what passes, in the latency scenario
)

// config is what the flags chose.
type config struct {
	Brokers     []string      `json:"brokers"`
	Modes       []mode        `json:"modes"`
	N           int64         `json:"n"`
	Runs        int           `json:"runs"`
	QoS         int           `json:"qos"`
	Quiet       time.Duration `json:"quietNs"`
	Latency     bool          `json:"latency"`
	LatencyRate int           `json:"latencyRate,omitempty"`
	LatencyN    int64         `json:"latencyN,omitempty"`
	Mosquitto   string        `json:"mosquitto,omitempty"`
	JSON        bool          `json:"-"`
}

// mode is how the publisher sends: as fast as it can, or Rate messages a
// second.
type mode struct {
	Name string `json:"name"`
	Rate int    `json:"rate,omitempty"`
}

func (m mode) String() string {
	if m.Rate == 0 {
		return "full speed"
	}
	return strconv.Itoa(m.Rate) + " msg/s"
}

// Run is one measured run of one subject.
type Run struct {
	Broker  string `json:"broker"`
	Mode    string `json:"mode"`           // full or paced; the latency scenario is paced
	Rate    int    `json:"rate,omitempty"` // msg/s when paced
	Subject string `json:"subject"`        // kgen, bare or broker-only
	Run     int    `json:"run"`            // 1, 2 … within its scenario and subject

	// Sent is what the publisher sent; Received what the subject took in
	// (kgen: the rule's RecordsIn; bare: its message count; broker-only:
	// what reached the broker, or with mosquitto the harness's
	// subscriber); Loss = Sent − Received. Passed counts what passed the
	// filter (kgen: RecordsOut).
	Sent     int64 `json:"sent"`
	Received int64 `json:"received"`
	Loss     int64 `json:"loss"`
	Passed   int64 `json:"passed"`

	// CPUNs and WallNs are the child's, from the start of publishing to
	// its last progress; 0 when there is no child (broker-only with
	// mosquitto).
	CPUNs       int64   `json:"cpuNs"`
	WallNs      int64   `json:"wallNs"`
	MsgPerSec   float64 `json:"msgPerSec"`   // Received / Wall
	CPUUsPerMsg float64 `json:"cpuUsPerMsg"` // CPU / Received

	PublishNs     int64    `json:"publishNs"`
	PubMsgPerSec  float64  `json:"publisherMsgPerSec"`
	BrokerCPUNs   int64    `json:"brokerCpuNs,omitempty"`   // mosquitto's, to the 10 ms
	BrokerDropped int64    `json:"brokerDropped,omitempty"` // the embedded broker's drops for slow subscribers
	Latency       *Latency `json:"latency,omitempty"`
}

// harness runs the scenarios.
type harness struct {
	cfg config
	exe string // this program, re-executed as a child
	tmp string // every run's files, removed at the end
	log io.Writer
	seq int // numbers the runs: their folders and topics
}

// throughput runs each broker and mode, the two subjects taking turns.
func (h *harness) throughput(ctx context.Context, add func(Run)) error {
	for _, b := range h.cfg.Brokers {
		for _, m := range h.cfg.Modes {
			for i := 1; i <= h.cfg.Runs; i++ {
				for _, s := range []string{subjectKgen, subjectBare} {
					r, err := h.throughputRun(ctx, b, m, s, i)
					if err != nil {
						return fmt.Errorf("%s broker, %v, %s run %d: %w", b, m, s, i, err)
					}
					fmt.Fprintf(h.log, "%-9s %-12v %-4s run %d/%d: %d sent, %d received, %.0f msg/s, %.2f µs CPU/msg\n",
						b, m, s, i, h.cfg.Runs, r.Sent, r.Received, r.MsgPerSec, r.CPUUsPerMsg)
					add(r)
				}
			}
		}
	}
	return nil
}

// runDir makes a folder for one run's files.
func (h *harness) runDir() (string, int, error) {
	h.seq++
	dir := filepath.Join(h.tmp, "run-"+strconv.Itoa(h.seq))
	return dir, h.seq, os.Mkdir(dir, 0o755)
}

// setup is what a run has running: maybe mosquitto, maybe a child.
type setup struct {
	dir   string
	topic string // the publisher's
	out   string // the kgen rule's output topic, in the latency scenario
	mq    *mosquitto
	child *childProc
	url   string // the broker the harness's clients connect to

	mqCPU0 time.Duration // mosquitto's CPU time at begin
}

func (s *setup) close() {
	if s.child != nil {
		s.child.stop()
	}
	if s.mq != nil {
		s.mq.stop()
	}
	os.RemoveAll(s.dir)
}

// start starts a run's broker (mosquitto, or the embedded one in the child)
// and subject child (none for subject ""), and waits until the subject is
// ready. With out, a kgen rule publishes its rows to an output topic.
func (h *harness) start(ctx context.Context, brokerName, subject string, n int64, out bool) (_ *setup, err error) {
	dir, seq, err := h.runDir()
	if err != nil {
		return nil, err
	}
	s := &setup{dir: dir, topic: fmt.Sprintf("loadharness/%d/in", seq)}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	args := []string{"-topic", s.topic, "-qos", strconv.Itoa(h.cfg.QoS), "-n", strconv.FormatInt(n, 10), "-quiet", h.cfg.Quiet.String()}
	if brokerName == brokerMosquitto {
		if s.mq, err = startMosquitto(ctx, h.cfg.Mosquitto, dir); err != nil {
			return nil, err
		}
		s.url = s.mq.URL()
		args = append(args, "-server", s.url)
	}
	if subject == "" {
		return s, nil
	}
	if subject == subjectKgen {
		args = append(args, "-root", filepath.Join(dir, "kgen"))
	}
	if out {
		s.out = fmt.Sprintf("loadharness/%d/out", seq)
		args = append(args, "-out", s.out)
	}
	if s.child, err = startChild(h.exe, subject, args); err != nil {
		return nil, err
	}
	ready, err := s.child.expect(ctx, "ready", time.Minute)
	if err != nil {
		return nil, err
	}
	if s.url == "" {
		s.url = "tcp://" + ready.Addr
	}
	return s, nil
}

// begin tells the child to start measuring, and notes mosquitto's CPU
// time; the publisher goes next.
func (s *setup) begin(ctx context.Context) (err error) {
	if s.child != nil {
		if err := s.child.send("start"); err != nil {
			return err
		}
		if _, err := s.child.expect(ctx, "started", 30*time.Second); err != nil {
			return err
		}
	}
	if s.mq != nil {
		s.mqCPU0, err = s.mq.cpu()
	}
	return err
}

// brokerCPU is the CPU time mosquitto used since begin; 0 without it.
func (s *setup) brokerCPU() (time.Duration, error) {
	if s.mq == nil {
		return 0, nil
	}
	cpu, err := s.mq.cpu()
	return cpu - s.mqCPU0, err
}

// finish tells the child what was sent and waits for its count.
func (s *setup) finish(ctx context.Context, sent int64) (childEvent, error) {
	if err := s.child.send("published %d", sent); err != nil {
		return childEvent{}, err
	}
	// The child answers once it has everything, or after its quiet period
	// without progress; this only guards against a child that hangs.
	return s.child.expect(ctx, "done", 15*time.Minute)
}

// publishTo connects a publisher to the run's broker, tells the subject to
// start measuring, and publishes n messages at rate (0: full speed).
func (h *harness) publishTo(ctx context.Context, s *setup, n int64, rate int) (published, error) {
	pub, err := connect(s.url, "loadharness-pub")
	if err != nil {
		return published{}, err
	}
	defer pub.Disconnect(100)
	if err := s.begin(ctx); err != nil {
		return published{}, err
	}
	return publish(ctx, pub, s.topic, byte(h.cfg.QoS), n, rate)
}

func (h *harness) throughputRun(ctx context.Context, brokerName string, m mode, subject string, index int) (Run, error) {
	r := Run{Broker: brokerName, Mode: m.Name, Rate: m.Rate, Subject: subject, Run: index}
	s, err := h.start(ctx, brokerName, subject, h.cfg.N, false)
	if err != nil {
		return r, err
	}
	defer s.close()
	p, err := h.publishTo(ctx, s, h.cfg.N, m.Rate)
	if err != nil {
		return r, err
	}
	done, err := s.finish(ctx, p.sent)
	if err != nil {
		return r, err
	}
	mqCPU, err := s.brokerCPU()
	if err != nil {
		return r, err
	}
	r.fill(p, done)
	r.BrokerCPUNs = int64(mqCPU)
	return r, nil
}

// fill records the publisher's and the child's figures.
func (r *Run) fill(p published, done childEvent) {
	r.Sent, r.PublishNs = p.sent, int64(p.elapsed)
	r.PubMsgPerSec = perSec(p.sent, p.elapsed)
	r.Received, r.Passed, r.BrokerDropped = done.Received, done.Passed, done.Dropped
	r.Loss = r.Sent - r.Received
	r.CPUNs, r.WallNs = done.CPUNs, done.WallNs
	r.MsgPerSec = perSec(r.Received, time.Duration(r.WallNs))
	if r.Received > 0 {
		r.CPUUsPerMsg = float64(r.CPUNs) / 1e3 / float64(r.Received)
	}
}

func perSec(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
