CREATE STREAM people (name STRING) WITH (DATASOURCE="people.jsonl", TYPE="file", FORMAT="JSON");
