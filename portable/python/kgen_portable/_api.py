"""The extension API: functions, sinks, sources, their context, and the
registry the server serves from."""

import inspect
import json
import threading

_registry = {"function": {}, "sink": {}, "source": {}}


def q(s):
    """Quotes a user value in an error, as the engine's errors do."""
    try:
        return json.dumps(s, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(s)


class Retryable(Exception):
    """Raised by Sink.collect for a failure the engine may retry (the sink
    is briefly unavailable, say); any other exception is final."""


class Arg:
    """One argument of a SQL call site, as Function.validate sees it."""

    EXPR, LITERAL, FIELD, WILDCARD = 0, 1, 2, 3

    def __init__(self, kind, value, name, text):
        self.kind = kind
        #: value is the literal's value; None for other kinds.
        self.value = value
        #: name is the field's name for a FIELD argument.
        self.name = name
        #: text is the argument's SQL text.
        self.text = text

    def __repr__(self):
        return "Arg(%r)" % self.text


class Function:
    """A SQL function. The engine makes one instance per SQL call site
    (one place a rule calls it), so instance attributes are per call site;
    durable state belongs in the context's state."""

    #: aggregate says the function takes a group's rows (each argument is a
    #: list of the group's values).
    aggregate = False

    def validate(self, args):
        """Checks a call site's arguments (a list of Arg) when a rule is
        created; raise an exception to refuse them."""

    def exec(self, ctx, args):
        """Returns the result for one row's argument list; an exception is
        that row's error."""
        raise NotImplementedError("exec")


class Sink:
    """A sink: one instance per rule action, from configure to close."""

    def configure(self, props):
        """Takes the action's properties (a dict); raise to refuse them."""

    def open(self, ctx):
        """Connects the sink before the first row."""

    def collect(self, ctx, row):
        """Takes one row (a dict). Raise Retryable for a failure worth a
        retry, any other exception for a final one."""
        raise NotImplementedError("collect")

    def collect_list(self, ctx, rows):
        """Takes one result set (a list of dicts); by default each row
        goes to collect."""
        for row in rows:
            self.collect(ctx, row)

    def close(self, ctx):
        """Closes the sink."""


class Source:
    """A source: one instance per stream use, from configure to close.

    A push source implements run, which the SDK calls in a thread of its
    own once the engine subscribes: it calls emit for each row until
    ctx.done is set. A pull source implements pull instead, called on
    every poll of the engine."""

    #: bounded says the source's data ends (it calls emit.eof).
    bounded = False

    def configure(self, props):
        """Takes the merged source properties (a dict); raise to refuse
        them."""

    def open(self, ctx):
        """Connects the source."""

    def run(self, ctx, emit):
        """Pushes rows with emit until ctx.done is set (push sources)."""
        raise NotImplementedError("run")

    def pull(self, ctx):
        """Returns the rows (a list of dicts) ingested since the last poll
        (pull sources)."""
        raise NotImplementedError("pull")

    def close(self, ctx):
        """Closes the source; ctx.done is already set."""


class Emitter:
    """What a push source's run calls to hand the engine its data."""

    def __init__(self, put):
        self._put = put

    def __call__(self, row, meta=None, timestamp_ns=0):
        """Ingests one row (a dict), with optional metadata (a dict) and
        event time in nanoseconds since the epoch."""
        self._put(("row", row, meta, timestamp_ns))

    def raw(self, data, meta=None, timestamp_ns=0):
        """Ingests bytes the engine decodes by the stream's FORMAT."""
        self._put(("raw", bytes(data), meta, timestamp_ns))

    def error(self, message):
        """Reports a failure the source goes on after."""
        self._put(("error", str(message)))

    def eof(self, message=""):
        """Says a bounded source has no more data."""
        self._put(("eof", str(message)))

    def status(self, status, message=""):
        """Reports a connection status: "connecting", "connected" or
        "disconnected"."""
        self._put(("status", status, message))


class _PlainFunction(Function):
    """A Function made from a plain callable fn(ctx, *args)."""

    fn = None
    name = ""

    def validate(self, args):
        try:
            inspect.signature(self.fn).bind(None, *args)
        except TypeError:
            want = _arity(self.fn)
            raise ValueError("%s: want %s, got %d" % (self.name, want, len(args))) from None

    def exec(self, ctx, args):
        return self.fn(ctx, *args)


def _arity(fn):
    params = list(inspect.signature(fn).parameters.values())[1:]
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        n = sum(1 for p in params if p.kind != p.VAR_POSITIONAL and p.default is p.empty)
        return "at least %d argument%s" % (n, "" if n == 1 else "s")
    lo = sum(1 for p in params if p.default is p.empty)
    hi = len(params)
    plural = "" if hi == 1 else "s"
    if lo == hi:
        return "%d argument%s" % (hi, plural)
    return "%d to %d arguments" % (lo, hi)


def _check_name(kind, name):
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError("%s name %s: want an identifier" % (kind, q(name)))
    if name in _registry[kind]:
        raise ValueError("%s %s is registered twice" % (kind, q(name)))


def register_function(name, factory):
    """Registers a function: factory is a Function subclass (or any
    callable returning a Function)."""
    _check_name("function", name)
    _registry["function"][name] = factory


def register_sink(name, factory):
    """Registers a sink: factory is a Sink subclass."""
    _check_name("sink", name)
    _registry["sink"][name] = factory


def register_source(name, factory):
    """Registers a source: factory is a Source subclass that implements
    run (a push source) or pull (a pull source)."""
    _check_name("source", name)
    runs, pulls = _overrides(factory, "run"), _overrides(factory, "pull")
    if runs == pulls:
        raise ValueError("source %s: implement one of run (push) or pull (pull)" % q(name))
    _registry["source"][name] = factory


def _overrides(cls, method):
    return getattr(cls, method, None) is not getattr(Source, method)


def is_pull(cls):
    """Reports whether a registered source pulls."""
    return _overrides(cls, "pull")


def function(name=None, aggregate=False):
    """Decorator registering a function under name (default: the Python
    name). It takes a Function subclass, or a plain callable
    fn(ctx, *args) whose arity the SDK validates."""

    def register(obj):
        n = name or obj.__name__
        if inspect.isclass(obj):
            register_function(n, obj)
        else:
            cls = type("Function_" + n, (_PlainFunction,),
                       {"fn": staticmethod(obj), "name": n, "aggregate": aggregate})
            register_function(n, cls)
        return obj

    return register


def sink(name=None):
    """Class decorator registering a Sink subclass under name (default: the
    class name, lowercased)."""

    def register(cls):
        register_sink(name or cls.__name__.lower(), cls)
        return cls

    return register


def source(name=None):
    """Class decorator registering a Source subclass under name (default:
    the class name, lowercased)."""

    def register(cls):
        register_source(name or cls.__name__.lower(), cls)
        return cls

    return register


class Context:
    """The context of one extension instance: who it runs for, a logger,
    and key-value state kept by the engine (so it survives plugin
    restarts). The state methods call the engine and raise on failure."""

    def __init__(self, server, instance, logger):
        self._server = server
        self._id = instance.id
        self.rule_id = instance.rule_id
        self.op_id = instance.op_id
        self.instance_index = instance.instance_index
        self.func_id = instance.func_id
        self.root_path = server.root_path
        self.plugin_name = server.plugin_name
        self.logger = logger
        #: done is set when a source or sink instance is closed.
        self.done = threading.Event()

    def put_state(self, key, value):
        self._server.state_call("PutState", instance_id=self._id, key=key, value=self._server.to_value(value))

    def get_state(self, key):
        """Returns the value under key, None when there is none."""
        resp = self._server.state_call("GetState", instance_id=self._id, key=key)
        return self._server.from_value(resp.value)

    def incr_counter(self, key, amount=1):
        self._server.state_call("IncrCounter", instance_id=self._id, key=key, amount=int(amount))

    def get_counter(self, key):
        return self._server.state_call("GetCounter", instance_id=self._id, key=key).value

    def delete_state(self, key):
        self._server.state_call("DeleteState", instance_id=self._id, key=key)
