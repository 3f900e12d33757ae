"""The data step: read a source, clean it, validate it, split it (the `prepare` stage)."""
