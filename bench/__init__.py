"""Benchmarks: ``python -m bench.run`` (``make bench``); ``bench.loadtest`` is separate."""
