"""A Python plugin that fails at import, for the start error."""

raise RuntimeError("boom at import")
