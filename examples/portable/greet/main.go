// Command greet is a portable plugin with three functions, served out of
// process by portable.Serve:
//
//   - greet(name) returns "hello, <name>";
//   - seen(key) counts the calls per key in the engine's state and returns
//     the count so far (state survives plugin restarts);
//   - pid() returns the plugin's process id (tests use it to kill it).
//
// Install it as <root>/plugins/portable/greet/ with the executable and
// greet.json.
package main

import (
	"github.com/kgen-dev/kgen/examples/portable/greet/greetfn"
	"github.com/kgen-dev/kgen/portable"
)

func main() {
	greetfn.Register()
	portable.Serve()
}
