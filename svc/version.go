package svc

// SupportsGeneratedV1 is referenced by the servers and clients that kgen
// generates. Code generated for a newer svc contract references a constant
// this svc does not have, so a stale svc fails at build time with a
// readable name rather than at run time.
const SupportsGeneratedV1 = true
