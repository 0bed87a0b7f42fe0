"""pytally is a kgen portable plugin in Python (the kgen_portable SDK):

- tally(key) counts the calls per key in the engine's state and returns
  the count so far (state lives in the engine, so it survives restarts);
- pid() returns the plugin's process id (tests use it to kill it);
- the sink jsonl appends each row as a JSON line to the file at its
  "path" property (relative to the engine root);
- the source ticker pushes {"n": 1}, {"n": 2}, ... every "interval"
  milliseconds, "count" rows (0: forever).

Install it as <root>/plugins/portable/pytally/ with pytally.json.
"""

import json
import os

import kgen_portable as kp


@kp.function()
def tally(ctx, key):
    key = str(key)
    ctx.incr_counter(key)
    return ctx.get_counter(key)


@kp.function()
def pid(ctx):
    return os.getpid()


@kp.sink("jsonl")
class JSONLines(kp.Sink):
    def configure(self, props):
        path = props.get("path")
        if not isinstance(path, str) or not path:
            raise ValueError("path: want a file path, got %s" % kp.q(path))
        self.path = path
        self.file = None

    def open(self, ctx):
        path = self.path if os.path.isabs(self.path) else os.path.join(ctx.root_path, self.path)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        self.file = open(path, "a", encoding="utf-8")

    def collect(self, ctx, row):
        # A row JSON cannot hold (bytes, say) fails alone.
        line = json.dumps(row, sort_keys=True)
        self.file.write(line + "\n")
        self.file.flush()

    def close(self, ctx):
        if self.file is not None:
            self.file.close()


@kp.source("ticker")
class Ticker(kp.Source):
    def configure(self, props):
        self.interval = float(props.get("interval", 1000)) / 1000
        self.count = int(props.get("count", 0))
        if self.interval <= 0:
            raise ValueError("interval: want a positive number of milliseconds")

    def run(self, ctx, emit):
        n = 0
        while not ctx.done.wait(self.interval):
            n += 1
            emit({"n": n})
            if n == self.count:
                emit.eof()
                return


kp.serve()
