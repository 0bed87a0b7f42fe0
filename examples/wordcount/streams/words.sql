CREATE STREAM words (text STRING) WITH (DATASOURCE="words.jsonl", TYPE="file", FORMAT="JSON");
