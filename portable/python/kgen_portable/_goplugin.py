"""The go-plugin side of a plugin process: the handshake line on stdout,
and the services go-plugin's host calls besides the plugin's own: health,
controller, stdio and the connection broker."""

import os
import sys
import tempfile
import threading

import grpc

from kgen_portable.pb.grpc.health.v1 import health_pb2, health_pb2_grpc
from kgen_portable.pb.plugin import (
    grpc_broker_pb2_grpc,
    grpc_controller_pb2,
    grpc_controller_pb2_grpc,
    grpc_stdio_pb2_grpc,
)

#: The go-plugin handshake of kgen portable plugins (portable/handshake.go).
MAGIC_COOKIE_KEY = "KGEN_PORTABLE_PLUGIN"
MAGIC_COOKIE_VALUE = "kgen.portable.v1"
APP_PROTOCOL_VERSION = 1
CORE_PROTOCOL_VERSION = 1


class HandshakeError(Exception):
    """The process was not started by a kgen engine it can serve."""


def check_environment(environ=os.environ):
    """Checks the magic cookie and the protocol versions the host offers."""
    if environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        raise HandshakeError(
            "this is a kgen portable plugin: the kgen engine starts it "
            "(environment variable %s is not \"%s\")" % (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE))
    offered = environ.get("PLUGIN_PROTOCOL_VERSIONS", "")
    if offered and str(APP_PROTOCOL_VERSION) not in offered.split(","):
        raise HandshakeError(
            "the engine speaks protocol versions %s; this plugin speaks %d" % (offered, APP_PROTOCOL_VERSION))


def socket_path(environ=os.environ):
    """Returns a fresh socket path in $PLUGIN_UNIX_SOCKET_DIR (the host's
    folder under the engine root), else in the temporary folder."""
    folder = environ.get("PLUGIN_UNIX_SOCKET_DIR") or tempfile.gettempdir()
    fd, path = tempfile.mkstemp(prefix="plugin", dir=folder)
    os.close(fd)
    os.remove(path)
    return path


def handshake_line(path):
    return "%d|%d|unix|%s|grpc" % (CORE_PROTOCOL_VERSION, APP_PROTOCOL_VERSION, path)


class Broker(grpc_broker_pb2_grpc.GRPCBrokerServicer):
    """The plugin's end of go-plugin's broker: the host announces, on one
    stream, where it accepts connections for each id; dial connects to
    one."""

    def __init__(self):
        self._cond = threading.Condition()
        self._conns = {}

    def StartStream(self, request_iterator, context):
        for info in request_iterator:
            if info.HasField("knock"):
                continue  # multiplexing is not offered, so never asked
            with self._cond:
                self._conns[info.service_id] = info
                self._cond.notify_all()
        return iter(())

    def dial(self, service_id, timeout=5.0):
        """Returns a channel to what the host serves under service_id,
        waiting up to timeout seconds for the host to announce it."""
        with self._cond:
            if not self._cond.wait_for(lambda: service_id in self._conns, timeout):
                raise TimeoutError("the engine did not announce broker id %d within %gs" % (service_id, timeout))
            info = self._conns.pop(service_id)
        if info.network == "unix":
            target = "unix:" + info.address
        elif info.network == "tcp":
            target = info.address
        else:
            raise ValueError("broker id %d: network \"%s\" is not supported" % (service_id, info.network))
        return grpc.insecure_channel(target)


class Health(health_pb2_grpc.HealthServicer):
    def Check(self, request, context):
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


class Controller(grpc_controller_pb2_grpc.GRPCControllerServicer):
    def __init__(self, shutdown):
        self._shutdown = shutdown

    def Shutdown(self, request, context):
        threading.Thread(target=self._shutdown, daemon=True).start()
        return grpc_controller_pb2.Empty()


class Stdio(grpc_stdio_pb2_grpc.GRPCStdioServicer):
    """Holds the host's stdio stream open until shutdown without sending:
    after the handshake the plugin's stdout goes to stderr, which the host
    logs line by line."""

    def __init__(self, stopped):
        self._stopped = stopped

    def StreamStdio(self, request, context):
        while context.is_active() and not self._stopped.wait(1.0):
            pass
        return
        yield  # a generator: the response stream


def add_services(server, broker, shutdown, stopped):
    grpc_broker_pb2_grpc.add_GRPCBrokerServicer_to_server(broker, server)
    health_pb2_grpc.add_HealthServicer_to_server(Health(), server)
    grpc_controller_pb2_grpc.add_GRPCControllerServicer_to_server(Controller(shutdown), server)
    grpc_stdio_pb2_grpc.add_GRPCStdioServicer_to_server(Stdio(stopped), server)


def announce(path):
    """Prints the handshake line, then sends later prints to stderr."""
    sys.stdout.write(handshake_line(path) + "\n")
    sys.stdout.flush()
    sys.stdout = sys.stderr
