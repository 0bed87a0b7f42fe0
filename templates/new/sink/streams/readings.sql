CREATE STREAM readings (device STRING, temperature FLOAT) WITH (DATASOURCE="readings.jsonl", TYPE="file", FORMAT="JSON");
