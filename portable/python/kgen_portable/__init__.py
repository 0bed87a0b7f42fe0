"""kgen_portable is the Python SDK of kgen portable plugins: a Python
script the kgen engine runs out of process, serving SQL functions, sinks
and sources over the portable protocol (portable/proto/kgen/portable/v1 in
the kgen repository) on a unix socket.

A plugin registers its extensions and calls serve() last::

    import kgen_portable as kp

    @kp.function()
    def tally(ctx, x):
        ctx.incr_counter(str(x))
        return ctx.get_counter(str(x))

    kp.serve()

See docs/python-sdk.md in the kgen repository.
"""

import sys

try:
    import grpc  # noqa: F401
except ImportError:
    sys.stderr.write(
        "[ERROR] kgen_portable: Python %s (%s) has no grpc module; "
        "install python3-grpcio (Debian) or grpcio, or point portable.pythonBin "
        "at an interpreter that has it\n" % (sys.version.split()[0], sys.executable))
    sys.exit(1)

from kgen_portable._api import (  # noqa: E402
    Arg,
    Context,
    Emitter,
    Function,
    Retryable,
    Sink,
    Source,
    function,
    q,
    register_function,
    register_sink,
    register_source,
    sink,
    source,
)
from kgen_portable._server import serve  # noqa: E402
from kgen_portable._version import SDK, VERSION  # noqa: E402

__all__ = [
    "Arg", "Context", "Emitter", "Function", "Retryable", "Sink", "Source",
    "function", "q", "register_function", "register_sink", "register_source",
    "serve", "sink", "source", "SDK", "VERSION",
]
