package api_test

import "testing"

// POST /rules/validate checks a rule as a create would, and creates
// nothing; "triggered": false creates a rule without starting it; unknown
// keys anywhere in a rule or stream name the closest known one.
func TestRuleValidateTriggeredStrict(t *testing.T) {
	s := newServer(t)
	valid := `{"id":"r1","sql":"SELECT * FROM demo","actions":[{"memory":{"topic":"out"}}]}`
	s.check(t, []exchange{
		{"POST", "/streams", `{"sql":` + quote(demoSQL) + `}`, 201, "Stream demo is created."},
		{"POST", "/rules/validate", valid, 200, "{\n  \"valid\": true\n}\n"},
		{"POST", "/rules/validate", `{"id":"r1","sql":"SELECT * FROM demo","actions":[{"log":{}}],"options":{"sendError":true},"tags":["x"]}`, 200,
			"{\n  \"valid\": true,\n  \"ignored\": [\n    \"options.sendError\",\n    \"tags\"\n  ]\n}\n"},
		{"POST", "/rules/validate", `{"id":"r1","sql":"SELECT * FROM demo","actions":[{"mqtt":{"topic":"t","qoss":1}}]}`, 422,
			`rule "r1": actions[0] (mqtt): mqtt sink: unknown property "qoss", did you mean "qos"?`},
		{"POST", "/rules/validate", `{"id":"r1","sql":"SELECT * FROM nosuch","actions":[{"log":{}}]}`, 422, `rule "r1": stream "nosuch": not found`},
		{"POST", "/rules/validate", `{"id":"r1","sql":"SELECT * FROM demo","acions":[{"log":{}}]}`, 422,
			`rule JSON: line 1, column 39: unknown key "acions", did you mean "actions"?`},
		{"POST", "/rules/validate", `{"id":"r1","sql":"SELECT * FROM demo","actions":[{"log":{}}],"options":{"isEventtime":true}}`, 422,
			`rule "r1": options: unknown option "isEventtime", did you mean "isEventTime"?`},
		// Nothing was created.
		{"GET", "/rules", "", 200, "[]\n"},
		{"POST", "/rules", valid, 201, "Rule r1 was created successfully."},
		// Validating an existing rule's id leaves the rule alone.
		{"POST", "/rules/validate", valid, 200, "{\n  \"valid\": true\n}\n"},
		{"GET", "/rules", "", 200, "[\n  {\n    \"id\": \"r1\",\n    \"status\": \"running\"\n  }\n]\n"},
		// Created, not started.
		{"POST", "/rules", `{"id":"r2","triggered":false,"sql":"SELECT * FROM demo","actions":[{"log":{}}]}`, 201, "Rule r2 was created successfully."},
		{"POST", "/rules", `{"id":"r3","triggered":false,"sql":"SELECT * FROM demo","actions":[{"log":{"x":1}}]}`, 400,
			`rule "r3": actions[0] (log): log sink: unknown property "x" (it takes none)`},
		{"GET", "/rules", "", 200, "[\n  {\n    \"id\": \"r1\",\n    \"status\": \"running\"\n  },\n  {\n    \"id\": \"r2\",\n    \"status\": \"stopped\"\n  }\n]\n"},
		{"POST", "/rules/r2/start", "", 200, "Rule r2 was started"},
		{"GET", "/rules/r2/status", "", 200, "*"},
		// Stream options.
		{"POST", "/streams", `{"sql":"CREATE STREAM s2 () WITH (DATASOUCE=\"x\", TYPE=\"memory\")"}`, 400,
			`stream "s2": WITH: unknown option "DATASOUCE", did you mean "DATASOURCE"?`},
		{"POST", "/streams", `{"sql":"CREATE STREAM s2 () WITH (DATASOURCE=\"x\", TYPE=\"memory\", WHATEVER=\"1\")"}`, 400,
			`stream "s2": WITH: unknown option "WHATEVER" (known: DATASOURCE, FORMAT, TYPE, CONF_KEY, TIMESTAMP, TIMESTAMP_FORMAT; eKuiper's KEY, SHARED, STRICT_VALIDATION, RETAIN_SIZE, SCHEMAID, DELIMITER, KIND are accepted and ignored)`},
		{"POST", "/streams", `{"sql":"CREATE STREAM s2 () WITH (DATASOURCE=\"x\", TYPE=\"memory\", SHARED=\"true\", KEY=\"id\")"}`, 201, "Stream s2 is created."},
	})
	st, err := s.e.RuleStatus("r2")
	if err != nil || st.Status != "running" {
		t.Errorf("r2 after start: %+v, %v", st, err)
	}
}
