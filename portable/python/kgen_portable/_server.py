"""The Plugin service over the registered extensions, and serve()."""

import logging
import os
import queue
import signal
import sys
import threading
import time
import traceback
from concurrent import futures

import grpc

from kgen_portable import _api, _goplugin, _values
from kgen_portable._api import q
from kgen_portable._version import SDK
from kgen_portable.pb.kgen.portable.v1 import portable_pb2 as pb
from kgen_portable.pb.kgen.portable.v1 import portable_pb2_grpc

PROTOCOL_VERSION = pb.PROTOCOL_VERSION_1
_MAX_BATCH = 256

log = logging.getLogger("kgen_portable")


class _LevelFormatter(logging.Formatter):
    """Formats records as "[LEVEL] message", the prefixes go-plugin's host
    reads a log level from."""

    _levels = {"WARNING": "WARN", "CRITICAL": "ERROR"}

    def format(self, record):
        record.hclevel = self._levels.get(record.levelname, record.levelname)
        return super().format(record)


def _setup_logging():
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LevelFormatter("[%(hclevel)s] %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


class _RuleLogger(logging.LoggerAdapter):
    def process(self, msg, kwargs):
        return "rule %s: %s" % (self.extra["rule"], msg), kwargs


def _describe_error(err):
    text = str(err)
    return text if text else type(err).__name__


class _Instance:
    """A source or sink instance, from Provision to Close."""

    def __init__(self, kind, name, obj, ctx):
        self.kind, self.name, self.obj, self.ctx = kind, name, obj, ctx
        self.queue = None  # a push source's events, while subscribed
        self.thread = None


# How long a numbered batch waits for the batch before it, which may never
# come (the engine gave up on it before sending it).
ORDER_WAIT = 1.0


class _Order:
    """The order of a function instance's numbered batches (request.seq)."""

    def __init__(self):
        self.cond = threading.Condition()
        self.next = 1  # the batch to run next
        self.running = False

    def turn(self, seq, deadline):
        """Waits until batch seq may run; False when deadline passed first."""
        give_up = time.monotonic() + ORDER_WAIT
        with self.cond:
            while seq > self.next and time.monotonic() < give_up:
                if deadline is not None and time.monotonic() >= deadline:
                    self._advance(seq)
                    return False
                self.cond.wait(timeout=0.05)
            while self.running:
                if deadline is not None and time.monotonic() >= deadline:
                    self._advance(seq)
                    return False
                self.cond.wait(timeout=0.05)
            self.running = True
            return True

    def done(self, seq):
        with self.cond:
            self.running = False
            self._advance(seq)

    def _advance(self, seq):
        if seq >= self.next:
            self.next = seq + 1
        self.cond.notify_all()


class PluginServer(portable_pb2_grpc.PluginServicer):
    """Serves the registered extensions."""

    def __init__(self, broker, registry=None):
        self._broker = broker
        self._registry = registry if registry is not None else _api._registry
        self._lock = threading.Lock()
        self._state = None
        self._functions = {}  # instance id -> Function
        self._orders = {}  # instance id -> _Order of its numbered batches
        self._instances = {}  # instance id -> _Instance
        self.root_path = ""
        self.plugin_name = ""
        self.to_value = _values.to_value
        self.from_value = _values.from_value

    # --- state, for Context ---

    def state_call(self, method, **fields):
        with self._lock:
            stub = self._state
        if stub is None:
            raise RuntimeError("no state channel: the engine did not complete the handshake")
        req = getattr(pb, method + "Request")(**fields)
        try:
            return getattr(stub, method)(req, timeout=10)
        except grpc.RpcError as err:
            raise RuntimeError("state %s %s: %s" % (method, q(fields.get("key")), err.details())) from None

    # --- Plugin service ---

    def Handshake(self, request, context):
        if request.protocol_version != PROTOCOL_VERSION:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                          "protocol version %d is not supported; this plugin speaks %d"
                          % (request.protocol_version, PROTOCOL_VERSION))
        try:
            channel = self._broker.dial(request.state_broker_id)
        except (TimeoutError, ValueError) as err:
            context.abort(grpc.StatusCode.UNKNOWN, "dial the engine's state service: %s" % err)
        with self._lock:
            self._state = portable_pb2_grpc.StateStub(channel)
            self.root_path = request.root_path
            self.plugin_name = request.plugin_name
        return pb.HandshakeResponse(protocol_version=PROTOCOL_VERSION, sdk=SDK)

    def Describe(self, request, context):
        resp = pb.DescribeResponse()
        for name, factory in sorted(self._registry["function"].items()):
            try:
                agg = bool(factory.aggregate) if hasattr(factory, "aggregate") else bool(factory().aggregate)
            except Exception as err:  # noqa: BLE001 - user code
                context.abort(grpc.StatusCode.UNKNOWN, "function %s: %s" % (q(name), _describe_error(err)))
            resp.extensions.add(kind=pb.KIND_FUNCTION, name=name, aggregate=agg)
        for name, factory in sorted(self._registry["source"].items()):
            resp.extensions.add(kind=pb.KIND_SOURCE, name=name, pull=_api.is_pull(factory),
                                bounded=bool(getattr(factory, "bounded", False)))
        for name in sorted(self._registry["sink"]):
            resp.extensions.add(kind=pb.KIND_SINK, name=name)
        return resp

    def ValidateFunction(self, request, context):
        factory = self._registry["function"].get(request.function)
        if factory is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown function %s" % q(request.function))
        args = [_api.Arg(a.kind, _values.from_value(a.value), a.name, a.text) for a in request.args]
        try:
            factory().validate(args)
        except Exception as err:  # noqa: BLE001 - user code
            return pb.ValidateFunctionResponse(error=_describe_error(err))
        return pb.ValidateFunctionResponse()

    def CallFunction(self, request, context):
        inst = request.instance
        fn = self._function(request.function, inst.id, context)
        ctx = _api.Context(self, inst, _RuleLogger(log, {"rule": inst.rule_id}))
        resp = pb.CallFunctionResponse()
        seq = request.seq
        if not seq:
            self._call_rows(fn, ctx, request.rows, resp)
            return resp
        # Numbered batches run one at a time, in order (see portable.proto).
        with self._lock:
            order = self._orders.setdefault(inst.id, _Order())
        remaining = context.time_remaining()
        deadline = None if remaining is None else time.monotonic() + remaining
        if not order.turn(seq, deadline):
            context.abort(grpc.StatusCode.DEADLINE_EXCEEDED,
                          "function %s: batch %d: the batches before it did not finish in time" % (q(request.function), seq))
        try:
            self._call_rows(fn, ctx, request.rows, resp)
        finally:
            order.done(seq)
        return resp

    @staticmethod
    def _call_rows(fn, ctx, rows, resp):
        for row in rows:
            result = resp.results.add()
            try:
                v = fn.exec(ctx, [_values.from_value(a) for a in row.args])
            except Exception as err:  # noqa: BLE001 - user code: the row's error
                result.error = _describe_error(err)
                continue
            try:
                result.value.CopyFrom(_values.to_value(v))
            except (TypeError, ValueError) as err:
                result.error = "result: %s" % err

    def _function(self, name, instance_id, context):
        with self._lock:
            fn = self._functions.get(instance_id)
        if fn is not None:
            return fn
        factory = self._registry["function"].get(name)
        if factory is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown function %s" % q(name))
        try:
            fn = factory()
        except Exception as err:  # noqa: BLE001 - user code
            context.abort(grpc.StatusCode.UNKNOWN, "function %s: %s" % (q(name), _describe_error(err)))
        with self._lock:
            return self._functions.setdefault(instance_id, fn)

    def Provision(self, request, context):
        kind = {pb.KIND_SOURCE: "source", pb.KIND_SINK: "sink"}.get(request.kind)
        if kind is None:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "provision: kind %d is not a source or a sink" % request.kind)
        factory = self._registry[kind].get(request.name)
        if factory is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown %s %s" % (kind, q(request.name)))
        ctx = _api.Context(self, request.instance, _RuleLogger(log, {"rule": request.instance.rule_id}))
        try:
            obj = factory()
            obj.configure(_values.from_map(request.props))
        except Exception as err:  # noqa: BLE001 - user code
            context.abort(grpc.StatusCode.UNKNOWN, "%s %s: configure: %s" % (kind, q(request.name), _describe_error(err)))
        with self._lock:
            old = self._instances.pop(request.instance.id, None)
            self._instances[request.instance.id] = _Instance(kind, request.name, obj, ctx)
        if old is not None:
            self._close(old)
        return pb.ProvisionResponse()

    def _instance(self, instance_id, context, kind=None):
        with self._lock:
            inst = self._instances.get(instance_id)
        if inst is None or (kind and inst.kind != kind):
            context.abort(grpc.StatusCode.NOT_FOUND, "no %s instance %d: it was not provisioned" % (kind or "source or sink", instance_id))
        return inst

    def Connect(self, request, context):
        inst = self._instance(request.instance_id, context)
        try:
            inst.obj.open(inst.ctx)
        except Exception as err:  # noqa: BLE001 - user code
            context.abort(grpc.StatusCode.UNKNOWN, "%s %s: open: %s" % (inst.kind, q(inst.name), _describe_error(err)))
        return pb.ConnectResponse()

    def Collect(self, request, context):
        inst = self._instance(request.instance_id, context, "sink")
        rows = [_values.from_map(r) for r in request.rows]
        done = 0
        try:
            if request.list:
                inst.obj.collect_list(inst.ctx, rows)
                done = len(rows)
            else:
                for row in rows:
                    inst.obj.collect(inst.ctx, row)
                    done += 1
        except Exception as err:  # noqa: BLE001 - user code: the row's error
            return pb.CollectResponse(error=_describe_error(err), retryable=isinstance(err, _api.Retryable),
                                      collected=0 if request.list else done)
        return pb.CollectResponse(collected=done)

    def Pull(self, request, context):
        inst = self._instance(request.instance_id, context, "source")
        resp = pb.SourceEvents()
        try:
            rows = inst.obj.pull(inst.ctx) or []
        except Exception as err:  # noqa: BLE001 - user code
            resp.events.add(error="pull: %s" % _describe_error(err))
            return resp
        for row in rows:
            _add_event(resp, ("row", row, None, 0))
        return resp

    def Subscribe(self, request, context):
        inst = self._instance(request.instance_id, context, "source")
        if _api.is_pull(type(inst.obj)):
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "source %s pulls; it cannot be subscribed" % q(inst.name))
        events = queue.Queue()
        inst.queue = events
        if inst.thread is None:
            emit = _api.Emitter(lambda ev: inst.queue.put(ev))
            inst.thread = threading.Thread(target=self._run_source, args=(inst, emit), daemon=True,
                                           name="source-%d" % request.instance_id)
            inst.thread.start()
        # An empty first message says the source is subscribed; a later
        # Subscribe of the instance takes the delivery over.
        yield pb.SourceEvents()
        while context.is_active():
            try:
                ev = events.get(timeout=0.2)
            except queue.Empty:
                if inst.ctx.done.is_set():
                    return
                continue
            resp = pb.SourceEvents()
            _add_event(resp, ev)
            while len(resp.events) < _MAX_BATCH:
                try:
                    _add_event(resp, events.get_nowait())
                except queue.Empty:
                    break
            yield resp

    @staticmethod
    def _run_source(inst, emit):
        try:
            inst.obj.run(inst.ctx, emit)
        except Exception as err:  # noqa: BLE001 - user code
            log.error("source %s: run: %s", q(inst.name), _describe_error(err))
            emit.error("run: %s" % _describe_error(err))

    def Close(self, request, context):
        with self._lock:
            inst = self._instances.pop(request.instance_id, None)
        if inst is None:
            return pb.CloseResponse()
        err = self._close(inst)
        if err:
            context.abort(grpc.StatusCode.UNKNOWN, err)
        return pb.CloseResponse()

    @staticmethod
    def _close(inst):
        inst.ctx.done.set()
        try:
            inst.obj.close(inst.ctx)
        except Exception as err:  # noqa: BLE001 - user code
            return "%s %s: close: %s" % (inst.kind, q(inst.name), _describe_error(err))
        return ""

    def close_all(self):
        with self._lock:
            insts = list(self._instances.values())
            self._instances.clear()
        for inst in insts:
            self._close(inst)


def _add_event(resp, ev):
    """Adds a queued event (see Emitter) to resp; a row that cannot be
    sent becomes an error event."""
    what = ev[0]
    if what in ("row", "raw"):
        _, payload, meta, ts = ev
        try:
            data = pb.SourceData(timestamp_unix_nano=int(ts or 0))
            if what == "row":
                data.row.CopyFrom(_values.to_map(payload))
            else:
                data.raw = payload
            if meta:
                data.meta.CopyFrom(_values.to_map(meta))
        except (TypeError, ValueError) as err:
            resp.events.add(error="row: %s" % err)
            return
        resp.events.add(data=data)
    elif what == "error":
        resp.events.add(error=ev[1])
    elif what == "eof":
        resp.events.add(eof=ev[1])
    elif what == "status":
        resp.events.add(status=pb.ConnectionStatus(status=ev[1], message=ev[2]))


def _watch_parent(stop):
    """Stops the plugin when the engine that started it is gone."""
    parent = os.getppid()
    while not stop.wait(1.0):
        if os.getppid() != parent:
            log.error("the engine (pid %d) is gone; exiting", parent)
            stop.set()


def serve():
    """Serves the registered functions, sources and sinks until the engine
    stops the plugin. Call it last, from the plugin's main script."""
    _setup_logging()
    try:
        _goplugin.check_environment()
    except _goplugin.HandshakeError as err:
        log.error("%s", err)
        sys.exit(1)
    if not any(_api._registry.values()):
        log.error("no functions, sources or sinks are registered")
        sys.exit(1)
    stopped = threading.Event()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the engine handles ^C
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    broker = _goplugin.Broker()
    plugin = PluginServer(broker)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=64),
                         options=[("grpc.max_receive_message_length", 1 << 30),
                                  ("grpc.max_send_message_length", 1 << 30)])
    portable_pb2_grpc.add_PluginServicer_to_server(plugin, server)
    _goplugin.add_services(server, broker, stopped.set, stopped)
    path = _goplugin.socket_path()
    try:
        server.add_insecure_port("unix:" + path)
        server.start()
    except Exception:  # noqa: BLE001
        log.error("listen on %s: %s", path, traceback.format_exc().strip())
        sys.exit(1)
    _goplugin.announce(path)
    threading.Thread(target=_watch_parent, args=(stopped,), daemon=True).start()
    stopped.wait()
    plugin.close_all()
    server.stop(1).wait()
    try:
        os.remove(path)
    except OSError:
        pass
