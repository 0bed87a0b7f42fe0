"""A Python plugin for the SDK tests: values round trip through echo, a
pull source, an aggregate, and a sink that fails in the ways a sink can."""

import kgen_portable as kp


@kp.function()
def echo(ctx, x):
    return x


@kp.function(aggregate=True)
def total(ctx, xs):
    return sum(xs)


class Bad:
    pass


@kp.function()
def bad(ctx):
    return Bad()


@kp.source("counter")
class Counter(kp.Source):
    def configure(self, props):
        self.n = 0

    def pull(self, ctx):
        self.n += 1
        if self.n == 2:
            raise IOError("the device is busy")
        return [{"n": self.n}, {"n": self.n * 10}]


@kp.sink("flaky")
class Flaky(kp.Sink):
    def collect(self, ctx, row):
        if row.get("retry"):
            raise kp.Retryable("try again later")
        if row.get("fail"):
            raise ValueError("no")


kp.serve()
