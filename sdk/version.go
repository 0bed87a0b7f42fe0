package sdk

// Version is the version of this sdk.
const Version = "0.1.0"

// SupportsGeneratedV1 is referenced by code that kgen generates. A package
// generated for a newer sdk contract references a constant this sdk does not
// have, so a stale sdk fails at build time with a readable name rather than
// at run time.
const SupportsGeneratedV1 = true
