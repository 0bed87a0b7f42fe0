"""A Python plugin that hangs before its handshake, for the init timeout."""

import time

import kgen_portable as kp


@kp.function()
def slow(ctx, x):
    return x


time.sleep(600)
kp.serve()
