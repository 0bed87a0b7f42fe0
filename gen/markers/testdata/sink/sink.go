// Package sink is a golden fixture: sinks decoding engine rows into a
// typed struct.
package sink

import (
	"errors"
	"sync"

	"github.com/kgen-dev/kgen/sdk"
)

// alertSink keeps the alerts at or above a level, by topic, in memory.
//
//kgen:sink name=alert
type alertSink struct {
	// Topic names the list the alerts go to.
	Topic string `kgen:"topic,required"`
	// MinLevel drops alerts below it.
	MinLevel int64 `kgen:"minLevel,default=1"`
}

// AlertRow is a row the alert sink takes.
type AlertRow struct {
	Level   int64    `kgen:"level"`
	Message string   `kgen:"message"`
	Tags    []string `kgen:"tags"`
	Score   float64  `json:"score"`
	Source  Origin   `kgen:"source"`
}

// Origin is nested in AlertRow.
type Origin struct {
	Host string `kgen:"host"`
	Port uint16 `kgen:"port"`
}

var collected = struct {
	sync.Mutex
	byTopic map[string][]AlertRow
}{byTopic: map[string][]AlertRow{}}

// Collected returns the alerts collected for topic.
func Collected(topic string) []AlertRow {
	collected.Lock()
	defer collected.Unlock()
	return append([]AlertRow(nil), collected.byTopic[topic]...)
}

func (s *alertSink) Connect(ctx sdk.Context) error {
	if s.Topic == "" {
		return errors.New("no topic")
	}
	return nil
}

func (s *alertSink) Collect(ctx sdk.Context, a AlertRow) error {
	return s.CollectList(ctx, []AlertRow{a})
}

func (s *alertSink) CollectList(ctx sdk.Context, alerts []AlertRow) error {
	collected.Lock()
	defer collected.Unlock()
	for _, a := range alerts {
		if a.Level >= s.MinLevel {
			collected.byTopic[s.Topic] = append(collected.byTopic[s.Topic], a)
		}
	}
	return nil
}

// discardSink decodes rows and drops them: the benchmark of row decoding.
//
//kgen:sink name=discard
type discardSink struct{}

func (discardSink) Collect(ctx sdk.Context, a AlertRow) error { return nil }
