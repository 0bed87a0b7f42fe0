CREATE STREAM readings (deviceId STRING, temperature FLOAT, ts BIGINT) WITH (DATASOURCE="readings.jsonl", TYPE="file", FORMAT="JSON", TIMESTAMP="ts");
