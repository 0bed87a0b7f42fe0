package api_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/rule"
)

func TestRuleTopo(t *testing.T) {
	s := newServer(t)
	for _, sql := range []string{
		`CREATE STREAM demo (id BIGINT, device STRING, temp FLOAT, ts BIGINT) WITH (DATASOURCE="in", TYPE="memory", TIMESTAMP="ts")`,
		`CREATE STREAM hum (id BIGINT, h FLOAT, ts BIGINT) WITH (DATASOURCE="in/hum", TYPE="memory", TIMESTAMP="ts")`,
	} {
		if _, err := s.e.CreateStream(sql); err != nil {
			t.Fatal(err)
		}
	}
	type edges = map[string][]string
	for _, tc := range []struct {
		name, sql, actions, options string
		want                        rule.Topo
	}{{
		name: "project only",
		sql:  "SELECT temp FROM demo",
		want: rule.Topo{Sources: []string{"source_demo"}, Edges: edges{
			"source_demo":  {"op_2_project"},
			"op_2_project": {"sink_nop_0"},
		}},
	}, {
		name: "filter and project",
		sql:  "SELECT temp * 2 AS t2 FROM demo WHERE temp > 0",
		want: rule.Topo{Sources: []string{"source_demo"}, Edges: edges{
			"source_demo":  {"op_2_filter"},
			"op_2_filter":  {"op_3_project"},
			"op_3_project": {"sink_nop_0"},
		}},
	}, {
		// In processing time WHERE runs before the window, which then
		// holds only the rows it keeps.
		name: "windowed aggregate",
		sql:  "SELECT device, avg(temp) AS a FROM demo WHERE temp > 0 GROUP BY device, TUMBLINGWINDOW(ss, 10) HAVING avg(temp) > 1 ORDER BY a",
		want: rule.Topo{Sources: []string{"source_demo"}, Edges: edges{
			"source_demo":    {"op_2_filter"},
			"op_2_filter":    {"op_3_window"},
			"op_3_window":    {"op_4_aggregate"},
			"op_4_aggregate": {"op_5_having"},
			"op_5_having":    {"op_6_order"},
			"op_6_order":     {"op_7_project"},
			"op_7_project":   {"sink_nop_0"},
		}},
	}, {
		// An aggregate over the whole window, its FILTER before it; in
		// event time WHERE runs on the window's rows.
		name:    "event time window",
		sql:     "SELECT count(*) AS n FROM demo WHERE temp > 0 GROUP BY TUMBLINGWINDOW(ss, 10) FILTER (WHERE temp < 100)",
		options: `{"isEventTime": true}`,
		want: rule.Topo{Sources: []string{"source_demo"}, Edges: edges{
			"source_demo":       {"op_2_windowFilter"},
			"op_2_windowFilter": {"op_2_window"},
			"op_2_window":       {"op_3_filter"},
			"op_3_filter":       {"op_4_aggregate"},
			"op_4_aggregate":    {"op_5_project"},
			"op_5_project":      {"sink_nop_0"},
		}},
	}, {
		name:    "join of two streams, two sinks",
		sql:     "SELECT demo.temp, hum.h FROM demo INNER JOIN hum ON demo.id = hum.id WHERE demo.temp > hum.h GROUP BY TUMBLINGWINDOW(ss, 10)",
		actions: `[{"memory": {"topic": "out"}}, {"nop": {}}]`,
		want: rule.Topo{Sources: []string{"source_demo", "source_hum"}, Edges: edges{
			"source_demo":  {"op_3_window"},
			"source_hum":   {"op_3_window"},
			"op_3_window":  {"op_4_join"},
			"op_4_join":    {"op_5_filter"},
			"op_5_filter":  {"op_6_project"},
			"op_6_project": {"sink_memory_0", "sink_nop_1"},
		}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			def := map[string]any{"id": "topo", "sql": tc.sql, "actions": json.RawMessage(`[{"nop": {}}]`)}
			if tc.actions != "" {
				def["actions"] = json.RawMessage(tc.actions)
			}
			if tc.options != "" {
				def["options"] = json.RawMessage(tc.options)
			}
			data, _ := json.Marshal(def)
			if _, err := s.cl.CreateRule(t.Context(), data); err != nil {
				t.Fatal(err)
			}
			defer s.cl.DropRule(t.Context(), "topo")
			got, err := s.cl.RuleTopo(t.Context(), "topo")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("topo:\ngot  %v\nwant %v", *got, tc.want)
			}
			// A stopped rule keeps the topology it ran with.
			if _, err := s.cl.StopRule(t.Context(), "topo"); err != nil {
				t.Fatal(err)
			}
			if got, err := s.cl.RuleTopo(t.Context(), "topo"); err != nil || !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("topo of the stopped rule: %v, %v", got, err)
			}
		})
	}

	// The JSON as eKuiper gives it.
	if _, err := s.cl.CreateRule(t.Context(), []byte(`{"id": "r1", "sql": "SELECT temp FROM demo WHERE temp > 0", "actions": [{"log": {}}]}`)); err != nil {
		t.Fatal(err)
	}
	s.check(t, []exchange{
		{"GET", "/rules/r1/topo", "", 200, `{
  "sources": [
    "source_demo"
  ],
  "edges": {
    "op_2_filter": [
      "op_3_project"
    ],
    "op_3_project": [
      "sink_log_0"
    ],
    "source_demo": [
      "op_2_filter"
    ]
  }
}
`},
		{"GET", "/rules/nope/topo", "", 404, `rule "nope": not found`},
	})
	if _, err := s.cl.RuleTopo(t.Context(), "nope"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("client: topo of nope: %v, want ErrNotFound", err)
	}
}

// A rule that has not run since the engine started has no topology yet.
func TestRuleTopoNotPlanned(t *testing.T) {
	root := t.TempDir()
	e, err := engine.Open(engine.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateStream(demoSQL); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateRule([]byte(ruleJSON)); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	s := newServerAt(t, root)
	s.check(t, []exchange{
		{"GET", "/rules/r1/topo", "", 400, `rule "r1" has no topology: it has not run since the engine started (start it first)`},
		{"POST", "/rules/r1/start", "", 200, "Rule r1 was started"},
		{"GET", "/rules/r1/topo", "", 200, "{\n  \"sources\": [\n    \"source_demo\"\n  ],\n*"},
	})
}
