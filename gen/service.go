package gen

import "github.com/dave/jennifer/jen"

// Kind is what a service generator (gen/proto, gen/openapi) writes from a
// schema: kgen gen service|server|client.
type Kind string

const (
	// KindService writes <Name>.json, the service description, and
	// <Name>.zip, the installable service (description and schemas).
	KindService Kind = "service"
	// KindServer writes a server stub to implement.
	KindServer Kind = "server"
	// KindClient writes a native function plugin per rpc or operation,
	// calling the service.
	KindClient Kind = "client"
)

// Kinds lists the kinds in the order the CLI documents them.
var Kinds = []Kind{KindService, KindServer, KindClient}

// Import paths of the public contract that generated stubs build on.
const (
	SDKPath = "github.com/kgen-dev/kgen/sdk"
	SVCPath = "github.com/kgen-dev/kgen/svc"
)

// Handshake adds to f the constants that make the build fail, with a
// readable name, when the svc (server) or the sdk and svc (client) it
// compiles against are older than the contract the file was generated for.
func Handshake(f *jen.File, kind Kind) {
	if kind == KindServer {
		f.Line().Comment("The build fails here when svc is older than the contract this file was generated for.")
		f.Const().Id("_").Op("=").Qual(SVCPath, "SupportsGeneratedV1")
		return
	}
	f.Line().Comment("The build fails here when sdk or svc is older than the contract this file was generated for.")
	f.Const().Defs(
		jen.Id("_").Op("=").Qual(SDKPath, "SupportsGeneratedV1"),
		jen.Id("_").Op("=").Qual(SVCPath, "SupportsGeneratedV1"),
	)
}
