"""The SDK's version, sent to the engine in the handshake."""

VERSION = "0.1.0"
SDK = "python/" + VERSION
