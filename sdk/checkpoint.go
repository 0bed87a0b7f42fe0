package sdk

// A rule at qos 1 or 2 takes checkpoints: every so often it captures, in
// one atomic write, the state of its extensions, its open windows and the
// position of each source that has one. When it starts again it continues
// from the last checkpoint. Sources take part through the interfaces below;
// a source that implements neither still works, but what it ingested after
// the last checkpoint is not replayed after a crash.

// Rewindable is a source that can continue from a saved position, such as a
// file read up to an offset.
type Rewindable interface {
	// GetOffset returns the position just after the data being ingested.
	// The engine calls it from inside Ingest, once the data is processed,
	// so a source must advance its offset before it calls Ingest. The
	// value is kept in the checkpoint and must be one that PutState takes.
	GetOffset() (any, error)
	// Rewind is called before Connect with the offset of the last
	// checkpoint; the source then continues with the data after it.
	Rewind(offset any) error
}

// Acknowledger is a source whose data its sender keeps until it is
// acknowledged, such as MQTT at QoS 1 or 2. In a rule that checkpoints,
// data is acknowledged only once a checkpoint that covers it is durable, so
// that what the sender considers delivered is never lost.
type Acknowledger interface {
	// DeferAcks is called before Connect in a rule that checkpoints: from
	// then on the source acknowledges only in Ack. It returns how many
	// ingests the source can hold unacknowledged before its sender stops
	// sending (an MQTT broker's in-flight window); the engine takes a
	// checkpoint before that.
	DeferAcks() (maxPending int)
	// GetOffset returns a mark of the data being ingested; the engine
	// calls it from inside Ingest, once the data is processed.
	GetOffset() (any, error)
	// Ack acknowledges everything ingested up to and including the mark.
	Ack(offset any) error
}
